"""The public read-only API of the dictionary: definitions, rules, code lists."""

import pytest
from django.urls import reverse

from referentials.dictionary import dictionary_load_seed
from referentials.models import Definition
from tests.conftest import client_for


@pytest.fixture
def seeded(db):
    dictionary_load_seed()


def get(url, params=None, user=None):
    response = client_for(user).get(url, params or {})
    assert response.status_code == 200, response.content
    return response.json()


def test_definitions_are_listed_without_login(seeded):
    body = get(reverse("api_dictionary:definition_list"))
    assert body["count"] == 41
    first = body["results"][0]
    assert set(first) >= {"code", "label", "value_type", "unit", "minimum", "maximum", "themes"}


def test_definitions_are_searched_with_typos_closest_first(seeded):
    body = get(reverse("api_dictionary:definition_list"), {"q": "reanimtion"})
    assert {row["code"] for row in body["results"][:4]} == {
        "lits_rea_disponibles",
        "lits_rea_installes",
        "lits_rea_occupes",
        "patients_covid_rea",
    }


def test_definitions_are_filtered_by_type_and_theme(seeded):
    body = get(reverse("api_dictionary:definition_list"), {"value_type": "boolean"})
    assert [row["code"] for row in body["results"]] == ["plan_blanc_declenche"]
    body = get(reverse("api_dictionary:definition_list"), {"theme": "vaccination"})
    assert [row["code"] for row in body["results"]] == ["doses_vaccin_administrees"]


def test_a_bad_filter_is_refused_in_french(seeded):
    response = client_for(None).get(
        reverse("api_dictionary:definition_list"), {"value_type": "nombre"}
    )
    assert response.status_code == 400
    assert "Paramètre « value_type » invalide" in response.json()["value_type"][0]


def test_a_definition_gives_its_doctrine_and_choices(seeded):
    body = get(reverse("api_dictionary:definition_detail", args=["niveau_tension"]))
    assert body["code_list"] == "niveau_tension"
    assert body["choices"][2] == {"code": "3", "label": "Tension forte"}
    assert "Choisir le niveau le plus élevé" in body["doctrine"]
    assert body["version"] == 1


def test_a_draft_definition_is_not_published(seeded):
    Definition.objects.create(code="brouillon", label="Brouillon", value_type="integer")
    response = client_for(None).get(reverse("api_dictionary:definition_detail", args=["brouillon"]))
    assert response.status_code == 404


def test_rules_and_code_lists_are_listed(seeded):
    rules = get(reverse("api_dictionary:rule_list"))
    assert rules["count"] == 19
    rule = get(reverse("api_dictionary:rule_detail", args=["date_premier_cas_requise"]))
    assert rule["condition"] == "cas_confirmes_cumul > 0"
    assert rule["expression"] == "renseigne(date_premier_cas)"
    lists = get(reverse("api_dictionary:code_list_list"))
    assert [row["code"] for row in lists["results"]] == ["equipements_tension", "niveau_tension"]
    one = get(reverse("api_dictionary:code_list_detail", args=["niveau_tension"]))
    assert [item["code"] for item in one["items"]] == ["1", "2", "3", "4"]


def test_the_api_is_read_only(seeded, cast):
    client = client_for(cast.curator)
    url = reverse("api_dictionary:definition_detail", args=["lits_rea_occupes"])
    assert client.put(url, {}, content_type="application/json").status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post(reverse("api_dictionary:rule_list"), {}).status_code == 405


def test_the_dictionary_appears_in_the_api_schema(seeded, cast):
    schema = client_for(cast.national_requester).get(reverse("api:schema"), {"format": "json"})
    assert "/api/v1/dictionnaire/definitions/" in schema.json()["paths"]


def test_listing_queries_do_not_grow_with_the_definitions(seeded, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        get(reverse("api_dictionary:definition_list"))


def test_bounds_are_written_as_plain_numbers(seeded):
    body = get(reverse("api_dictionary:definition_detail", args=["lits_rea_occupes"]))
    assert (body["minimum"], body["maximum"]) == ("0", "1000")
