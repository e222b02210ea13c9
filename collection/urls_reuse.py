"""Values served from the store instead of asked (collection.reuse)."""

from django.urls import path

from collection import views_reuse

urlpatterns = [
    path(
        "demandes/<int:pk>/servies/<str:code>/",
        views_reuse.served_value,
        name="served_value",
    ),
]
