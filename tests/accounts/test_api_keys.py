"""API keys: created by the organisation's own people, shown once, stored hashed, revocable."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import api_keys
from accounts.authentication import ApiKeyAuthentication, ApiKeyPrincipal
from accounts.models import ApiKey, AuditEvent, Organisation
from accounts.scoping import scope_for
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def org_of(user):
    return user.memberships.get().organisation


def test_creation_returns_the_key_once_and_stores_only_its_sha256(cast):
    organisation = org_of(cast.hospital_respondent)
    key, raw = api_keys.api_key_create(
        organisation=organisation, name="DPI", user=cast.hospital_respondent
    )
    assert raw.startswith(f"rs_{key.prefix}_") and len(raw) > 40
    stored = ApiKey.objects.get()
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert AuditEvent.objects.filter(action="api_key.create", target_id=str(key.pk)).exists()


def test_authenticate_finds_the_active_key_and_refuses_anything_else(cast):
    key, raw = api_keys.api_key_create(
        organisation=org_of(cast.ehpad_respondent), name="Script", user=cast.ehpad_respondent
    )
    assert api_keys.api_key_authenticate(raw) == key
    assert api_keys.api_key_authenticate(raw + "x") is None
    assert api_keys.api_key_authenticate(raw.replace(key.prefix, "00000000")) is None
    assert api_keys.api_key_authenticate("pas-une-cle") is None
    api_keys.api_key_revoke(key=key, user=cast.ehpad_respondent)
    assert api_keys.api_key_authenticate(raw) is None
    assert AuditEvent.objects.filter(action="api_key.revoke", target_id=str(key.pk)).exists()


def test_a_key_of_an_inactive_organisation_opens_nothing(cast):
    organisation = org_of(cast.ehpad_respondent)
    _key, raw = api_keys.api_key_create(
        organisation=organisation, name="Script", user=cast.ehpad_respondent
    )
    Organisation.objects.filter(pk=organisation.pk).update(is_active=False)
    assert api_keys.api_key_authenticate(raw) is None


def test_last_used_is_written_at_most_once_a_minute(cast, django_assert_num_queries):
    key, raw = api_keys.api_key_create(
        organisation=org_of(cast.ehpad_respondent), name="Script", user=cast.ehpad_respondent
    )
    api_keys.api_key_authenticate(raw)
    key.refresh_from_db()
    first = key.last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the read only: no write within the minute
        api_keys.api_key_authenticate(raw)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api_keys.api_key_authenticate(raw)
    key.refresh_from_db()
    assert key.last_used_at > first


def test_only_the_organisation_people_and_curators_manage_its_keys(cast):
    hospital = org_of(cast.hospital_respondent)
    for intruder in (cast.ehpad_respondent, cast.ars_idf_agent, cast.outsider, cast.professional):
        with pytest.raises(api_keys.ApiKeyError):
            api_keys.api_key_create(organisation=hospital, name="x", user=intruder)
    key, _raw = api_keys.api_key_create(organisation=hospital, name="DPI", user=cast.curator)
    with pytest.raises(api_keys.ApiKeyError):
        api_keys.api_key_revoke(key=key, user=cast.ehpad_respondent)
    api_keys.api_key_revoke(key=key, user=cast.hospital_respondent)
    with pytest.raises(api_keys.ApiKeyError, match="déjà révoquée"):
        api_keys.api_key_revoke(key=key, user=cast.hospital_respondent)


def test_an_administration_cannot_have_keys(cast):
    dgos = org_of(cast.national_requester)
    with pytest.raises(api_keys.ApiKeyError):
        api_keys.api_key_create(organisation=dgos, name="x", user=cast.curator)


def test_a_key_sees_what_its_organisation_respondents_see(cast):
    organisation = Organisation.objects.get(finess=cast.cayenne_hospital.legal_entity.finess)
    key, _raw = api_keys.api_key_create(
        organisation=organisation, name="DIM", user=cast.legal_entity_respondent
    )
    principal = ApiKeyPrincipal(key)
    assert principal.is_authenticated and not principal.is_anonymous
    assert scope_for(principal) == scope_for(cast.legal_entity_respondent)


def test_drf_authentication_reads_bearer_and_api_key_headers(cast, rf):
    key, raw = api_keys.api_key_create(
        organisation=org_of(cast.hospital_respondent), name="DPI", user=cast.hospital_respondent
    )
    from rest_framework.request import Request

    for header in (f"Bearer {raw}", f"Api-Key {raw}", f"bearer  {raw} "):
        request = Request(rf.get("/", HTTP_AUTHORIZATION=header))
        user, auth = ApiKeyAuthentication().authenticate(request)
        assert auth == key and user.api_key == key
    assert ApiKeyAuthentication().authenticate(Request(rf.get("/"))) is None
    basic = Request(rf.get("/", HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="))
    assert ApiKeyAuthentication().authenticate(basic) is None


def test_a_revoked_key_is_refused_by_the_api_with_a_french_message(cast):
    key, raw = api_keys.api_key_create(
        organisation=org_of(cast.hospital_respondent), name="DPI", user=cast.hospital_respondent
    )
    client = APIClient()
    url = reverse("api:establishment_list")
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert [e["finess"] for e in response.json()["results"]] == [cast.paris_hospital.finess]
    api_keys.api_key_revoke(key=key, user=cast.hospital_respondent)
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 403
    assert "révoquée" in response.json()["detail"]


# --- Pages ------------------------------------------------------------------------------------


def test_a_respondent_creates_a_key_sees_it_once_then_only_its_prefix(cast):
    client = client_for(cast.hospital_respondent)
    response = client.post(
        reverse("accounts:api_key_create"),
        {"name": "DPI", "organisation": org_of(cast.hospital_respondent).pk},
    )
    assert response.status_code == 200
    raw = response.context["raw_key"]
    assert raw in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    listing = client.get(reverse("accounts:api_key_list")).content.decode()
    key = ApiKey.objects.get()
    assert f"rs_{key.prefix}_" in listing and raw not in listing


def test_the_create_form_offers_only_the_user_own_organisations(cast):
    client = client_for(cast.ehpad_respondent)
    hospital = org_of(cast.hospital_respondent)
    response = client.post(
        reverse("accounts:api_key_create"), {"name": "x", "organisation": hospital.pk}
    )
    assert response.status_code == 200 and "raw_key" not in response.context
    assert not ApiKey.objects.exists()


def test_revoking_asks_for_confirmation_then_revokes(cast):
    key, _raw = api_keys.api_key_create(
        organisation=org_of(cast.hospital_respondent), name="DPI", user=cast.hospital_respondent
    )
    client = client_for(cast.hospital_respondent)
    url = reverse("accounts:api_key_revoke", args=[key.pk])
    assert "définitive" in client.get(url).content.decode()
    key.refresh_from_db()
    assert key.revoked_at is None
    response = client.post(url)
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_by == cast.hospital_respondent and key.revoked_at <= timezone.now()


def test_another_organisation_key_is_not_found(cast):
    key, _raw = api_keys.api_key_create(
        organisation=org_of(cast.hospital_respondent), name="DPI", user=cast.hospital_respondent
    )
    client = client_for(cast.ehpad_respondent)
    assert client.post(reverse("accounts:api_key_revoke", args=[key.pk])).status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_nav_offers_api_keys_to_respondents_only(cast):
    html = client_for(cast.hospital_respondent).get(reverse("collection:inbox")).content.decode()
    assert reverse("accounts:api_key_list") in html
    html = client_for(cast.ars_idf_agent).get(reverse("surveys:campaign_list")).content.decode()
    assert reverse("accounts:api_key_list") not in html
