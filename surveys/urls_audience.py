from django.urls import path

from surveys import views_audience

urlpatterns = [
    path(
        "campagnes/<int:pk>/audience/", views_audience.campaign_audience, name="campaign_audience"
    ),
]
