"""Every URL of the URL conf, for every role of the cast: who gets what.

A new URL that is not in ``EXPECTED`` fails ``test_every_url_is_in_the_access_matrix``, so no
page can escape this test. Statuses: 200 shown, 302 sent elsewhere (login or home), 403
refused, 404 outside the user's scope (indistinguishable from absent), 405 wrong method.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access_matrix import BLOCKS
from tests.access_matrix.common import (
    LOGGED_IN,
    everyone,
    only,
)
from tests.conftest import ROLES, client_for
from tests.referentials import factories_dictionary as dictionary_factories

# url name -> (kwargs builder from the cast, expected status per role)
EXPECTED = {
    "home": (None, {**everyone(302), "outsider": 200}),
    "healthz": (None, everyone(200)),
    "accounts:login": (None, {**everyone(302), "anonymous": 200}),
    # Logging out is a POST; a GET is refused for everyone logged in.
    "accounts:logout": (None, {**everyone(405), "anonymous": 302}),
    "accounts:password_reset": (None, everyone(200)),
    "accounts:password_reset_done": (None, everyone(200)),
    "accounts:password_reset_confirm": (
        lambda c: {"uidb64": "MQ", "token": "set-password"},
        everyone(200),  # the page itself says the link is invalid
    ),
    "accounts:password_reset_complete": (None, everyone(200)),
    "accounts:password_change": (None, only(LOGGED_IN)),
    "accounts:profile": (None, only(LOGGED_IN)),
    "accounts:invitation_list": (None, only(LOGGED_IN)),
    "accounts:invitation_accept": (lambda c: {"token": "inconnu"}, everyone(410)),
    "referentials:establishment_list": (None, only(LOGGED_IN)),
    "referentials:establishment_detail": (
        lambda c: {"finess": c.saint_barthelemy_pmi.finess},
        only(["national_requester", "ars_guadeloupe_agent", "curator"], otherwise=404),
    ),
    # --- curation
    # Curator pages: 403 for other roles; the cast's curator is national, so every site is in.
    "referentials:curation_corrections": (
        lambda c: {"finess": c.saint_barthelemy_pmi.finess},
        only(["curator"]),
    ),
    "referentials:curation_contacts": (
        lambda c: {"finess": c.saint_barthelemy_pmi.finess},
        only(["curator"]),
    ),
    "referentials:curation_contact_edit": (
        lambda c: {
            "pk": c.saint_barthelemy_pmi.contacts.get_or_create(
                role="crisis", email="crise@pmi-saint-barthelemy.fr"
            )[0].pk
        },
        only(["curator"]),
    ),
    "referentials:curation_proposal_list": (None, only(["curator"])),
    "referentials:curation_proposal_review": (
        lambda c: {
            "pk": c.cayenne_ehpad.proposals.get_or_create(
                proposed_by=c.ehpad_respondent,
                defaults={"changes": {"fields": {"phone": "0594000000"}, "contacts": []}},
            )[0].pk
        },
        only(["curator"]),
    ),
    # Actions are POSTs: a GET is refused for everyone logged in.
    "referentials:curation_correction_clear": (
        lambda c: {"pk": 1},
        {**everyone(405), "anonymous": 302},
    ),
    "referentials:curation_contact_deactivate": (
        lambda c: {"pk": 1},
        {**everyone(405), "anonymous": 302},
    ),
    "referentials:curation_contact_verify": (
        lambda c: {"pk": 1},
        {**everyone(405), "anonymous": 302},
    ),
    # A respondent proposes for its own establishment only: another one is "not found".
    "referentials:curation_propose": (
        lambda c: {"finess": c.cayenne_ehpad.finess},
        # A respondent of another establishment (or a professional) gets 404: out of scope.
        {
            **only(["ehpad_respondent", "legal_entity_respondent"]),
            "hospital_respondent": 404,
            "professional": 404,
        },
    ),
    # --- directory search and API
    # DRF authenticates API clients itself: anonymous gets a 403 in JSON, not a redirect.
    "api:establishment_list": (None, only(LOGGED_IN, anonymous=403)),
    "api:establishment_detail": (
        lambda c: {"finess": c.saint_barthelemy_pmi.finess},
        only(
            ["national_requester", "ars_guadeloupe_agent", "curator"], otherwise=404, anonymous=403
        ),
    ),
    "api:schema": (None, only(LOGGED_IN, anonymous=403)),
    # --- dictionary
    # The glossary and the dictionary's API are public (a common language is public): 200 for
    # everyone, anonymous included; the API is read-only.
    "glossary:definition_list": (None, everyone(200)),
    "glossary:definition_detail": (
        lambda c: {"code": dictionary_factories.DefinitionFactory(code="lits_rea_occupes").code},
        everyone(200),
    ),
    "api_dictionary:definition_list": (None, everyone(200)),
    "api_dictionary:definition_detail": (
        lambda c: {"code": dictionary_factories.DefinitionFactory(code="lits_rea_occupes").code},
        everyone(200),
    ),
    "api_dictionary:rule_list": (None, everyone(200)),
    "api_dictionary:rule_detail": (
        lambda c: {"code": dictionary_factories.RuleFactory(code="rea_occupes").code},
        everyone(200),
    ),
    "api_dictionary:code_list_list": (None, everyone(200)),
    "api_dictionary:code_list_detail": (
        lambda c: {"code": dictionary_factories.CodeListFactory(code="niveau_tension").code},
        everyone(200),
    ),
}

for _block in BLOCKS:
    _clash = set(_block) & set(EXPECTED)
    assert not _clash, f"URL décrites deux fois dans la matrice : {sorted(_clash)}"
    EXPECTED.update(_block)

# The technical admin is for staff only: every role of the cast is sent to its login page.
ADMIN_STATUS = everyone(302)


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


def all_url_names():
    return sorted({name for name, _ in _walk(get_resolver().url_patterns)})


def _admin_kwargs(pattern):
    kwargs = {}
    for key, converter in pattern.pattern.converters.items():
        kwargs[key] = 1 if type(converter).__name__ == "IntConverter" else "1"
    if "app_label" in pattern.pattern.regex.groupindex:
        kwargs["app_label"] = "accounts"
    return kwargs


def test_every_url_is_in_the_access_matrix():
    missing = [n for n in all_url_names() if not n.startswith("admin:") and n not in EXPECTED]
    stale = [n for n in EXPECTED if n not in all_url_names()]
    assert missing == [], f"Ajoutez ces URL à la matrice d'accès : {missing}"
    assert stale == [], f"Ces URL n'existent plus : {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_access_on_every_page(cast, role):
    client = client_for(cast.user(role))
    seen = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        if name.startswith("admin:"):
            if name in {"admin:view_on_site"}:
                continue  # needs a content type; covered by the admin index below
            url = reverse(name, kwargs=_admin_kwargs(pattern))
            # Its own login form is the admin's only page shown to non-staff (axes guards it).
            expected = 200 if name == "admin:login" else ADMIN_STATUS[role]
        else:
            builder, table = EXPECTED[name]
            url = reverse(name, kwargs=builder(cast) if builder else None)
            expected = table[role]
        seen[name] = (url, client.get(url).status_code, expected)
    wrong = {name: (url, got, want) for name, (url, got, want) in seen.items() if got != want}
    assert wrong == {}, f"{role}: (url, obtenu, attendu) {wrong}"


def test_anonymous_is_sent_to_login_with_the_page_to_come_back_to(client):
    response = client.get(reverse("collection:inbox"))
    assert response.status_code == 302
    assert response.url == f"{reverse('accounts:login')}?next={reverse('collection:inbox')}"


def test_admin_is_open_to_staff(db, client):
    from tests.accounts.factories import UserFactory

    staff = UserFactory(email="ops@sante.gouv.fr", is_staff=True, is_superuser=True)
    client.force_login(staff, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(reverse("admin:index")).status_code == 200
