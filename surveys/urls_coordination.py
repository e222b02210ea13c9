from django.urls import path

from surveys import views_coordination as views

urlpatterns = [
    path("coordination/", views.coordination_list, name="coordination_list"),
    path("coordination/<int:pk>/", views.coordination_detail, name="coordination_detail"),
]
