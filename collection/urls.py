"""Pages of respondents, under /collecte/ (namespace "collection").

One module of URL patterns per part, so that each part is kept in one place.
"""

from django.urls import include, path

from collection import urls_form, views

app_name = "collection"

urlpatterns = [
    path("boite-de-reception/", views.inbox, name="inbox"),
    path("demandes/<int:pk>/dispense/", views.exemption_request, name="exemption_request"),
    path("", include("collection.urls_spreadsheets")),
    *urls_form.urlpatterns,
    path("", include("collection.urls_burden")),
    path("", include("collection.urls_quality")),
    path("", include("collection.urls_reuse")),
    path("", include("collection.urls_overlaps")),
    path("", include("collection.urls_followup")),
    path("", include("collection.urls_exports")),
]
