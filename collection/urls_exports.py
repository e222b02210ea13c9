"""Exports and open data (included by collection/urls.py)."""

from django.urls import path

from collection import views_exports, views_opendata

urlpatterns = [
    path("campagnes/<int:pk>/exports/", views_exports.export_create, name="export_create"),
    path("exports/", views_exports.export_list, name="export_list"),
    path("exports/<int:pk>/telecharger/", views_exports.export_download, name="export_download"),
    path("campagnes/<int:pk>/donnees-ouvertes/", views_opendata.open_data, name="open_data"),
]
