"""Data quality of a campaign and queries on values (issue #9)."""

from django.urls import path

from collection import views_quality

urlpatterns = [
    path("campagnes/<int:pk>/qualite/", views_quality.campaign_quality, name="campaign_quality"),
    path("valeurs/<int:pk>/question/", views_quality.value_query, name="value_query"),
    path("questions/", views_quality.queries_inbox, name="queries_inbox"),
]
