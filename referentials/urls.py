from django.urls import path

from referentials import views

app_name = "referentials"

urlpatterns = [
    path("", views.establishment_list, name="establishment_list"),
    path("etablissements/<str:finess>/", views.establishment_detail, name="establishment_detail"),
]
