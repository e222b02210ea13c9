"""Answering by spreadsheet (included by collection/urls.py)."""

from django.urls import path

from collection import views_spreadsheets as views

urlpatterns = [
    path(
        "campagnes/<int:pk>/modele-tableur/",
        views.spreadsheet_template,
        name="spreadsheet_template",
    ),
    path("campagnes/<int:pk>/depot-tableur/", views.spreadsheet_upload, name="spreadsheet_upload"),
    path("depots/<int:pk>/", views.upload_preview, name="upload_preview"),
    path("depots/<int:pk>/appliquer/", views.upload_apply, name="upload_apply"),
    path("depots/<int:pk>/copie-annotee/", views.upload_annotated, name="upload_annotated"),
    path("depots/<int:pk>/fichier-original/", views.upload_original, name="upload_original"),
]
