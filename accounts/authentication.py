"""DRF authentication by API key: ``Authorization: Bearer rs_…`` (or ``Api-Key rs_…``).

A call made with a key is made by the key's organisation, not by a person: ``request.user`` is
an ``ApiKeyPrincipal`` (no database row, no password) and ``request.auth`` is the ``ApiKey``.
The principal answers ``scope_for`` as a respondent of the key's organisation would, so that
every view that starts from ``scope_for(request.user)`` sees exactly the key's scope; views that
write record ``api_key=request.auth`` and ``user=None``.
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.api_keys import api_key_authenticate
from accounts.models import ApiKey, Membership, Role

SCHEMES = ("bearer", "api-key")


class ApiKeyPrincipal(AnonymousUser):
    """Who is calling with a key: the organisation's system, as one of its respondents."""

    def __init__(self, key: ApiKey) -> None:
        self.api_key = key
        # What ``accounts.scoping`` reads (its per-request caches): one respondent membership
        # of the key's organisation, and no professional identity.
        self._memberships_cache = [Membership(organisation=key.organisation, role=Role.RESPONDENT)]
        self._professional_ids_cache: frozenset[str] = frozenset()

    # No user row has id 0: should a lookup by user meet the principal (the 500 page's context
    # processors do), it matches nothing instead of crashing.
    id = pk = 0  # type: ignore[assignment]

    def __int__(self) -> int:  # type: ignore[override]
        return 0

    def __str__(self) -> str:
        return f"Clé d'API {self.api_key.prefix}… ({self.api_key.organisation})"

    @property
    def is_anonymous(self) -> bool:  # type: ignore[override]
        return False

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKeyPrincipal) and other.api_key.pk == self.api_key.pk

    def __hash__(self) -> int:
        return hash(("api_key", self.api_key.pk))


def key_from_header(value: str) -> str | None:
    """The raw key of an ``Authorization`` header, or None when it names another scheme."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() not in SCHEMES:
        return None
    return credentials.strip()


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[ApiKeyPrincipal, ApiKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        raw = key_from_header(header) if header else None
        if raw is None:
            return None  # not a key: another authentication (the session) may apply
        key = api_key_authenticate(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(
                "Clé d'API invalide ou révoquée. Vérifiez l'en-tête « Authorization: Bearer "
                "rs_… » ou demandez une nouvelle clé à votre établissement."
            )
        return ApiKeyPrincipal(key), key


def api_key_of(request: Any) -> ApiKey | None:
    """The key a DRF request was authenticated with, if any."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "cleApi"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rs_<préfixe>_<secret>",
            "description": "Clé d'API de votre établissement, créée dans « Clés d'API » : "
            "en-tête « Authorization: Bearer rs_… ».",
        }
