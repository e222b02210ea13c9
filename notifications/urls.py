from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/lue/", views.read, name="read"),
    path("tout-lu/", views.read_all, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
]
