from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from config.health import healthz

admin.site.site_header = "Recueil santé — administration technique"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("comptes/", include("accounts.urls")),
    path("annuaire/", include("referentials.urls")),
    path("collecte/", include("collection.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "accounts.views.error_403"
handler404 = "accounts.views.error_404"
handler500 = "accounts.views.error_500"
