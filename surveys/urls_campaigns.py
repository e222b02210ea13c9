from django.urls import path

from surveys import views_campaigns

urlpatterns = [
    path("campagnes/", views_campaigns.campaign_list, name="campaign_list"),
]
