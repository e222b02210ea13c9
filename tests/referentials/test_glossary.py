"""The public glossary: browsable without login, searched the way people type."""

import pytest
from django.urls import reverse

from referentials.dictionary import definition_deprecate, definition_save, dictionary_load_seed
from referentials.models import Definition
from referentials.selectors_dictionary import definition_search, definition_usages
from tests.conftest import client_for


@pytest.fixture
def seeded(db):
    dictionary_load_seed()


def test_the_glossary_is_browsable_without_login(seeded, client):
    response = client.get(reverse("glossary:definition_list"))
    assert response.status_code == 200
    assert "Lits de réanimation occupés" in response.text
    assert "41</strong> définitions" in response.text


def test_a_definition_page_shows_doctrine_format_rules_and_history(seeded, client):
    response = client.get(reverse("glossary:definition_detail", args=["lits_rea_occupes"]))
    assert response.status_code == 200
    page = response.text
    assert "Doctrine de remplissage" in page
    assert "Ne pas compter" in page
    assert "Nombre entier" in page and "lits" in page
    assert "Maximum</dt><dd>1000</dd>" in page
    assert "Stock : dernière valeur de la période" in page
    assert "lits_rea_occupes &lt;= lits_rea_installes" in page
    assert "100 * lits_rea_occupes / lits_rea_installes" in page  # indicator using it
    assert "Historique des versions" in page
    assert "Aucune enquête n'utilise encore cette définition" in page


def test_a_choice_definition_lists_its_codes(seeded, client):
    response = client.get(reverse("glossary:definition_detail", args=["niveau_tension"]))
    assert "Tension forte" in response.text
    assert "<code>4</code>" in response.text


def test_the_doctrine_is_escaped_never_rendered_as_html(seeded, client):
    definition = Definition.objects.get(code="stock_gants")
    definition.doctrine = '<script>alert("x")</script>Gants comptés à l\'unité.'
    definition_save(definition=definition, acting_user=None)
    response = client.get(reverse("glossary:definition_detail", args=["stock_gants"]))
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text


def test_a_deprecated_definition_links_to_its_replacement(seeded, client):
    old = Definition.objects.get(code="lits_rea_occupes")
    new = Definition.objects.create(
        code="lits_rea_occupes_8h",
        label="Lits de réanimation occupés à 8 h",
        value_type="integer",
        status="published",
    )
    definition_deprecate(old=old, new=new, acting_user=None)
    response = client.get(reverse("glossary:definition_detail", args=["lits_rea_occupes"]))
    assert "Définition obsolète" in response.text
    assert reverse("glossary:definition_detail", args=["lits_rea_occupes_8h"]) in response.text


def test_drafts_and_unknown_codes_are_not_found(seeded, client):
    Definition.objects.create(code="brouillon", label="Brouillon", value_type="integer")
    assert client.get(reverse("glossary:definition_detail", args=["brouillon"])).status_code == 404
    assert client.get(reverse("glossary:definition_detail", args=["inconnu"])).status_code == 404


def test_a_typo_finds_the_reanimation_definitions_first(seeded):
    found = [d.code for d in definition_search(query="reanimtion")]
    assert set(found[:4]) == {
        "lits_rea_disponibles",
        "lits_rea_installes",
        "lits_rea_occupes",
        "patients_covid_rea",
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("RÉANIMATION", "lits_rea_installes"),
        ("masqe ffp2", "stock_masques_ffp2"),
        ("plan blnc", "plan_blanc_declenche"),
        ("ventilateurs", "respirateurs"),  # a synonym
        ("absentéisme", "personnel_absent"),
        ("lits_si_occupes", "lits_si_occupes"),  # the code
    ],
)
def test_search_ignores_accents_case_and_typos(seeded, query, expected):
    assert expected in [d.code for d in definition_search(query=query)[:3]]


def test_search_finds_words_of_the_doctrine_after_closer_matches(seeded):
    found = [d.code for d in definition_search(query="ecmo")]
    assert found == ["patients_covid_rea"]  # "y compris sous ECMO" in its doctrine


def test_the_glossary_page_searches_and_filters(seeded, client):
    response = client.get(
        reverse("glossary:definition_list"), {"q": "reanimtion", "theme": "capacites"}
    )
    assert response.status_code == 200
    assert "Lits de réanimation installés" in response.text
    assert "Patients Covid en réanimation" not in response.text  # another theme
    response = client.get(reverse("glossary:definition_list"), {"value_type": "boolean"})
    assert "Plan blanc déclenché" in response.text
    assert "Lits de réanimation" not in response.text


def test_surveys_using_a_definition_are_none_until_the_survey_builder_exists(seeded):
    assert definition_usages(Definition.objects.get(code="lits_rea_occupes")) == []


@pytest.mark.parametrize("role", ["curator", "hospital_respondent", "outsider"])
def test_the_glossary_is_the_same_for_every_role(seeded, cast, role):
    response = client_for(cast.user(role)).get(reverse("glossary:definition_list"))
    assert response.status_code == 200
    assert "41</strong> définitions" in response.text
