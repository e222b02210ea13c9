"""API keys: an organisation's own system calls the API on its behalf.

A key reads ``rs_<prefix>_<secret>``. It is shown once, at creation; only its SHA-256 is
stored (the secret is 32 random bytes: nothing to brute-force, so a plain hash is enough). The
prefix finds the row; the hash is then compared in constant time.

Who manages the keys of an organisation: its respondents (the establishment's own people, who
answer for it) and the curators whose scope covers it. Every creation and revocation is
audited.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import ApiKey, Membership, Organisation, Role, User
from accounts.scoping import AnyUser, scope_for
from accounts.services import audit_record

KEY_PREFIX = "rs"
# last_used_at is written at most this often: a busy system must not write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)
KEYED_KINDS = (Organisation.Kind.LEGAL_ENTITY, Organisation.Kind.ESTABLISHMENT)


class ApiKeyError(Exception):
    """A key cannot be created or revoked (French message)."""


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def manageable_organisations(user: AnyUser) -> QuerySet[Organisation]:
    """Organisations whose keys ``user`` may create and revoke.

    Their own legal entity or establishment as respondents; for curators, those of their scope.
    """
    if not user.is_authenticated:
        return Organisation.objects.none()
    own = Membership.objects.filter(user=user, role=Role.RESPONDENT).values("organisation_id")
    q = Q(pk__in=own)
    curator_scope = scope_for(user, roles=[Role.CURATOR])
    if not curator_scope.is_empty:
        q = q | (curator_scope.organisations_q() & Q(kind__in=KEYED_KINDS))
    return Organisation.objects.filter(q, is_active=True, kind__in=KEYED_KINDS).order_by("name")


def can_manage(user: AnyUser, organisation: Organisation) -> bool:
    return manageable_organisations(user).filter(pk=organisation.pk).exists()


def api_key_list(*, user: AnyUser) -> QuerySet[ApiKey]:
    """The keys of every organisation ``user`` manages, newest first."""
    return (
        ApiKey.objects.filter(organisation__in=manageable_organisations(user))
        .select_related("organisation", "created_by", "revoked_by")
        .order_by("organisation__name", "-created_at")
    )


def api_key_create(*, organisation: Organisation, name: str, user: User) -> tuple[ApiKey, str]:
    """Create a key and return it with its clear text, which is never available again."""
    name = name.strip()
    if not name:
        raise ApiKeyError("Donnez un nom à la clé (par exemple « Logiciel DPI »).")
    if organisation.kind not in KEYED_KINDS:
        raise ApiKeyError(
            "Seuls un établissement ou une entité juridique peuvent avoir des clés d'API."
        )
    if not can_manage(user, organisation):
        raise ApiKeyError("Vous ne pouvez pas créer de clé d'API pour cette organisation.")
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(4)  # 8 characters, the model allows 12
            if not ApiKey.objects.filter(prefix=prefix).exists():
                break
        raw = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        key = ApiKey.objects.create(
            organisation=organisation,
            name=name[:100],
            prefix=prefix,
            key_hash=hash_key(raw),
            created_by=user,
        )
        audit_record(
            actor=user,
            action="api_key.create",
            target=key,
            details={"organisation": organisation.pk, "prefix": prefix, "name": key.name},
        )
    return key, raw


def api_key_revoke(*, key: ApiKey, user: User) -> ApiKey:
    """Revoke ``key`` for good: it authenticates nothing from now on."""
    if not can_manage(user, key.organisation):
        raise ApiKeyError("Vous ne pouvez pas révoquer cette clé d'API.")
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            raise ApiKeyError("Cette clé est déjà révoquée.")
        locked.revoked_at = timezone.now()
        locked.revoked_by = user
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=user,
            action="api_key.revoke",
            target=locked,
            details={"organisation": locked.organisation_id, "prefix": locked.prefix},
        )
    key.revoked_at, key.revoked_by = locked.revoked_at, locked.revoked_by
    return key


def _split(raw: str) -> str | None:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The active key ``raw`` is, or None (unknown, malformed, revoked, inactive organisation)."""
    prefix = _split(raw.strip())
    if prefix is None:
        return None
    key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
    # Compare even when the prefix is unknown, so that timing does not tell which prefixes exist.
    expected = key.key_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, hash_key(raw.strip())) or key is None:
        return None
    if not key.is_active or not key.organisation.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
