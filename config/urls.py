from django.contrib import admin
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from accounts import views as account_views
from collection import api as collection_api
from collection import api_overlaps as collection_api_overlaps
from config.health import healthz
from referentials import api as referentials_api
from surveys import api as surveys_api

# The REST API, namespace "api". DRF authenticates API clients itself (a 403 in JSON, not a
# redirect to the login page): see referentials/api.py. The schema is not public either.
api_v1_urlpatterns = [
    *referentials_api.urlpatterns,
    *surveys_api.urlpatterns,
    *collection_api.urlpatterns,
    *collection_api_overlaps.urlpatterns,
    path(
        "schema/",
        login_not_required(SpectacularAPIView.as_view(permission_classes=[IsAuthenticated])),
        name="schema",
    ),
    # Swagger UI from the sidecar, under the strict CSP: its start-up script is a static file.
    path(
        "docs/",
        login_required(
            SpectacularSwaggerView.as_view(template_name="api/docs.html", url_name="api:schema")
        ),
        name="docs",
    ),
]

admin.site.site_header = "Recueil santé — administration technique"

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("comptes/", include("accounts.urls")),
    path("annuaire/", include("referentials.urls")),
    path("glossaire/", include("referentials.urls_glossary")),
    path("enquetes/", include("surveys.urls")),
    path("collecte/", include("collection.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/dictionnaire/", include("referentials.urls_api_dictionary")),
    path("api/v1/", include((api_v1_urlpatterns, "api"))),
    path("admin/", admin.site.urls),
]

handler403 = "accounts.views.error_403"
handler404 = "accounts.views.error_404"
handler500 = "accounts.views.error_500"
