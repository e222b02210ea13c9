from django.urls import path

from surveys import views_register

urlpatterns = [
    path("registre/", views_register.register_list, name="register"),
    path("registre/export.csv", views_register.register_csv, name="register_csv"),
    path("registre/<int:pk>/", views_register.register_detail, name="register_detail"),
]
