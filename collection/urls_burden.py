"""The burden of collection and « Mes données » (included by collection/urls.py)."""

from django.urls import path

from collection import views_burden

urlpatterns = [
    path("fardeau/", views_burden.burden, name="burden"),
    path("mes-donnees/", views_burden.my_data, name="my_data"),
]
