from django.urls import path

from surveys import views_campaigns as views

urlpatterns = [
    path("campagnes/", views.campaign_list, name="campaign_list"),
    path("campagnes/nouvelle/", views.campaign_create, name="campaign_create"),
    path("campagnes/dispenses/", views.exemption_list, name="exemption_list"),
    path("campagnes/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campagnes/<int:pk>/modifier/", views.campaign_edit, name="campaign_edit"),
    path("campagnes/<int:pk>/programmer/", views.campaign_schedule, name="campaign_schedule"),
    path("campagnes/<int:pk>/envoyer/", views.campaign_send, name="campaign_send"),
    path("campagnes/<int:pk>/cloturer/", views.campaign_close, name="campaign_close"),
    path("campagnes/<int:pk>/crise/", views.campaign_crisis, name="campaign_crisis"),
    path("campagnes/<int:pk>/demandes/", views.campaign_assignments, name="campaign_assignments"),
    path(
        "campagnes/demandes/<int:pk>/dispenser/",
        views.assignment_exempt,
        name="assignment_exempt",
    ),
    path("campagnes/demandes/<int:pk>/dispense/", views.exemption_decide, name="exemption_decide"),
]
