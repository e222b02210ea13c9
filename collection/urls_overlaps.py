"""The sending page of a campaign: its overlaps, the requester's choice, the sending."""

from django.urls import path

from collection import views_overlaps

urlpatterns = [
    path(
        "campagnes/<int:pk>/chevauchements/",
        views_overlaps.campaign_overlaps,
        name="campaign_overlaps",
    ),
]
