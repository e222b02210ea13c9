"""The directory's read-only REST API: same filters and same scope as the search page."""

import datetime

import pytest
from django.urls import reverse

from referentials.models import Establishment, FunctionalContact
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory

LIST_URL = reverse("api:establishment_list")
SCHEMA_URL = reverse("api:schema")


def api_list(user, **params):
    response = client_for(user).get(LIST_URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def found(body) -> set[str]:
    return {row["finess"] for row in body["results"]}


def detail_url(finess: str) -> str:
    return reverse("api:establishment_detail", args=[finess])


def test_the_list_is_paginated_by_hundreds(cast):
    for n in range(101):
        EstablishmentFactory(name=f"Site {n:03d}")
    body = api_list(cast.national_requester)
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 109
    assert len(body["results"]) == 100
    assert body["previous"] is None
    assert body["next"].endswith(f"{LIST_URL}?page=2")
    assert len(api_list(cast.national_requester, page=2)["results"]) == 9


def test_a_row_names_its_fields_in_english(cast):
    (row,) = api_list(cast.national_requester, finess=cast.cayenne_ehpad.finess)["results"]
    assert row == {
        "finess": "970302287",
        "legal_entity_finess": "970302022",
        "name": "Ehpad Edmar Lama",
        "long_name": "",
        "category_code": "500",
        "category_label": "Etablissement d'hébergement pour personnes âgées dépendantes",
        "aggregate_category_code": "",
        "aggregate_category_label": "",
        "postcode": "75013",
        "city": "PARIS",
        "commune_code": "",
        "territory_code": "973",
        "region_code": "03",
        "status": "open",
        "closed_at": None,
    }


def test_search_ignores_accents_and_case(cast):
    assert found(api_list(cast.national_requester, q="HOPITAL de la pitie")) == {"750100042"}


def test_finess_parameter_finds_an_establishment_or_the_sites_of_a_legal_entity(cast):
    assert found(api_list(cast.national_requester, finess="970100400")) == {"970100400"}
    assert found(api_list(cast.national_requester, finess="970302022")) == {
        "970300026",
        "970302287",
    }


def test_filters_combine(cast):
    user = cast.national_requester
    assert found(api_list(user, category="500", territory="973")) == {"970302287"}
    assert found(api_list(user, region="01", territory="977")) == {"970102018"}
    assert found(api_list(user, legal_entity="970302022", category="355")) == {"970300026"}
    Establishment.objects.filter(finess="010000024").update(aggregate_category_code="1102")
    assert found(api_list(user, aggregate_category="1102")) == {"010000024"}


def test_closed_establishments_are_left_out_unless_asked_for(cast):
    EstablishmentFactory(
        finess="750000001",
        name="Hôpital Laennec",
        status=Establishment.Status.CLOSED,
        closed_at=datetime.date(2000, 6, 30),
    )
    user = cast.national_requester
    assert found(api_list(user, q="laennec")) == set()
    assert found(api_list(user, q="laennec", status="all")) == {"750000001"}
    (row,) = api_list(user, status="closed")["results"]
    assert row["closed_at"] == "2000-06-30"


def test_ars_agent_cannot_find_another_region_establishment_by_name_or_finess(cast):
    agent = cast.ars_guadeloupe_agent
    assert found(api_list(agent, q="pitie")) == set()
    assert found(api_list(agent, q="750100042")) == set()
    assert found(api_list(agent, finess="750100042")) == set()
    assert found(api_list(agent, legal_entity="970302022")) == set()
    assert client_for(agent).get(detail_url("750100042")).status_code == 404


def test_respondent_sees_only_its_own_establishment(cast):
    assert found(api_list(cast.ehpad_respondent)) == {"970302287"}
    assert found(api_list(cast.hospital_respondent)) == {"750100042"}
    assert client_for(cast.ehpad_respondent).get(detail_url("970300026")).status_code == 404


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("category", "ehpad"),
        ("aggregate_category", "11"),
        ("region", "IDF"),
        ("territory", "9999"),
        ("finess", "12345"),
        ("legal_entity", "EJ"),
        ("status", "ferme"),
    ],
)
def test_a_bad_filter_value_is_refused_in_french_naming_the_parameter(cast, parameter, value):
    response = client_for(cast.national_requester).get(LIST_URL, {parameter: value})
    assert response.status_code == 400
    (message,) = response.json()[parameter]
    assert f"Paramètre « {parameter} » invalide" in message


def test_lower_case_codes_are_accepted(cast):
    EstablishmentFactory(
        finess="2A0000030", name="CH d'Ajaccio", territory_code="2A", region_code="94"
    )
    assert found(api_list(cast.national_requester, territory="2a")) == {"2A0000030"}
    assert found(api_list(cast.national_requester, finess="2a0000030")) == {"2A0000030"}


def test_detail_gives_the_legal_entity_and_the_active_contacts(cast):
    FunctionalContact.objects.create(
        establishment=cast.cayenne_hospital,
        role=FunctionalContact.Role.CRISIS,
        email="crise@ch-cayenne.fr",
        verified_on=datetime.date(2026, 3, 1),
    )
    FunctionalContact.objects.create(
        establishment=cast.cayenne_hospital,
        role=FunctionalContact.Role.DIRECTION,
        email="ancienne.direction@ch-cayenne.fr",
        is_active=False,
    )
    response = client_for(cast.legal_entity_respondent).get(detail_url("970300026"))
    assert response.status_code == 200
    body = response.json()
    assert body["finess"] == "970300026"
    assert body["legal_entity"]["finess"] == "970302022"
    assert body["legal_entity"]["name"] == "CH de Cayenne"
    assert body["contacts"] == [
        {
            "role": "crisis",
            "role_label": "Cellule de crise",
            "label": "",
            "email": "crise@ch-cayenne.fr",
            "phone": "",
            "verified_on": "2026-03-01",
        }
    ]


def test_detail_outside_the_scope_is_not_found(cast):
    for user in (cast.ars_idf_agent, cast.hospital_respondent, cast.outsider):
        assert client_for(user).get(detail_url("970102018")).status_code == 404
    assert client_for(cast.national_requester).get(detail_url("000000000")).status_code == 404


def test_anonymous_gets_a_403_not_a_login_redirect(db):
    for url in (LIST_URL, detail_url("970102018")):
        response = client_for(None).get(url)
        assert response.status_code == 403
        assert "authentification" in response.json()["detail"]
    schema = client_for(None).get(SCHEMA_URL, {"format": "json"})
    assert schema.status_code == 403
    assert "paths" not in schema.json()


def test_schema_is_an_openapi_document_listing_the_two_paths(cast):
    response = client_for(cast.outsider).get(SCHEMA_URL, {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) >= {
        "/api/v1/etablissements/",
        "/api/v1/etablissements/{finess}/",
    }
    parameters = {
        p["name"]: p for p in schema["paths"]["/api/v1/etablissements/"]["get"]["parameters"]
    }
    assert {"q", "finess", "category", "aggregate_category", "region", "territory"} <= set(
        parameters
    )
    assert {"legal_entity", "status", "page"} <= set(parameters)
    assert "accents" in parameters["q"]["description"]


def test_schema_is_served_as_yaml_by_default(cast):
    response = client_for(cast.national_requester).get(SCHEMA_URL)
    assert response.status_code == 200
    assert response.content.startswith(b"openapi: 3")


@pytest.mark.parametrize("extra", [0, 120])
def test_list_queries_do_not_grow_with_the_results(cast, django_assert_max_num_queries, extra):
    for n in range(extra):
        EstablishmentFactory(name=f"Site {n:03d}")
    client = client_for(cast.national_requester)
    with django_assert_max_num_queries(6):  # session, user, memberships, count, page
        response = client.get(LIST_URL)
    assert len(response.json()["results"]) == min(100, 8 + extra)


def test_detail_queries_are_bounded(cast, django_assert_max_num_queries):
    for role in FunctionalContact.Role.values:
        FunctionalContact.objects.create(
            establishment=cast.paris_hospital, role=role, email=f"{role}@aphp.fr"
        )
    client = client_for(cast.national_requester)
    with django_assert_max_num_queries(6):  # session, user, memberships, establishment, contacts
        response = client.get(detail_url("750100042"))
    assert len(response.json()["contacts"]) == len(FunctionalContact.Role.values)
