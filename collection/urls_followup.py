"""Campaign follow-up and results for requesters (included by collection/urls.py)."""

from django.urls import path

from collection import views_followup as views

urlpatterns = [
    path("campagnes/<int:pk>/suivi/", views.campaign_followup, name="campaign_followup"),
    path(
        "campagnes/<int:pk>/suivi/<int:unit_pk>/",
        views.campaign_unit_history,
        name="campaign_unit_history",
    ),
    path("campagnes/<int:pk>/resultats/", views.campaign_results, name="campaign_results"),
]
