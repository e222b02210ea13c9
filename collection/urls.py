"""Pages of respondents, under /collecte/ (namespace "collection").

One module of URL patterns per part, so that each part is kept in one place.
"""

from django.urls import path

from collection import views

app_name = "collection"

urlpatterns = [
    path("boite-de-reception/", views.inbox, name="inbox"),
]
