from django.urls import path

from collection import views

app_name = "collection"

urlpatterns = [
    path("campagnes/", views.campaign_list, name="campaign_list"),
    path("boite-de-reception/", views.inbox, name="inbox"),
]
