"""« Mes données »: an establishment's own values beside its peers' medians, never a peer's value.

Ehpad Edmar Lama (Cayenne, Guyane) answered « lits occupés » on two days. Other Ehpad of
Guyane answered too: five on the first day (10, 20, 30, 40 and a distinctive 98765), four on
the second; Ehpad Les Tilleuls (Paris) answered 50 on the first day, so the category (Ehpad,
nationwide) has six peers that day.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collection import feedback
from collection.models import Value
from tests.collection.answering import professional_unit, unit_of
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory

DAY_1 = dt.date(2026, 11, 30)
DAY_2 = dt.date(2026, 12, 1)
GUYANE = {"finess_department": "9C", "territory_code": "973", "region_code": "03"}
DISTINCTIVE = 98765


def store(unit, definition, day, number):
    return Value.objects.create(
        unit=unit,
        definition=definition,
        code=definition.code,
        period_kind="day",
        period_key=day.isoformat(),
        period_start=day,
        period_end=day,
        data=str(number),
        number=Decimal(number),
        channel="form",
        changed_at=timezone.now(),
    )


@pytest.fixture
def scene(cast):
    occupied = DefinitionFactory(code="lits_occupes", label="Lits occupés", unit="lits")
    ehpad = unit_of(cast.cayenne_ehpad)
    store(ehpad, occupied, DAY_1, 7)
    store(ehpad, occupied, DAY_2, 8)
    for index, number in enumerate([10, 20, 30, 40, DISTINCTIVE]):
        peer = unit_of(EstablishmentFactory(ehpad=True, name=f"Ehpad voisin {index}", **GUYANE))
        store(peer, occupied, DAY_1, number)
        if index < 4:
            store(peer, occupied, DAY_2, number + 1)
    store(unit_of(cast.paris_ehpad), occupied, DAY_1, 50)
    return {"occupied": occupied, "ehpad": ehpad}


def comparisons(result):
    return {c.kind: c for c in result.comparisons}


def test_medians_are_those_of_the_other_establishments_of_each_group(cast, scene):
    result = feedback.feedback_for(
        unit=scene["ehpad"], user=cast.ehpad_respondent, start=DAY_1, end=DAY_2
    )
    groups = comparisons(result)
    assert result.keys == [DAY_1.isoformat(), DAY_2.isoformat()]
    assert result.own == {DAY_1.isoformat(): 7, DAY_2.isoformat(): 8}
    # Department and region: 10, 20, 30, 40, 98765 -> 30 (its own 7 is not counted).
    assert groups["department"].medians[DAY_1.isoformat()] == Decimal(30)
    assert groups["region"].medians[DAY_1.isoformat()] == Decimal(30)
    # Category (every Ehpad): the same five and Paris's 50 -> (30 + 40) / 2.
    assert groups["category"].medians[DAY_1.isoformat()] == Decimal(35)
    assert groups["category"].counts[DAY_1.isoformat()] == 6


def test_a_median_of_fewer_than_five_other_establishments_is_withheld(cast, scene):
    result = feedback.feedback_for(
        unit=scene["ehpad"], user=cast.ehpad_respondent, start=DAY_1, end=DAY_2
    )
    for comparison in result.comparisons:
        assert comparison.counts[DAY_2.isoformat()] == 4
        assert comparison.medians[DAY_2.isoformat()] is None


def test_the_medians_match_pythons_on_this_database(cast, scene):
    # On PostgreSQL the database computes them (percentile_cont); on SQLite, Python does.
    values = Value.objects.filter(period_key=DAY_1.isoformat()).exclude(unit=scene["ehpad"])
    medians, counts = feedback.period_medians(values)
    assert medians == {DAY_1.isoformat(): Decimal(35)}
    assert counts == {DAY_1.isoformat(): 6}
    half = Value.objects.filter(number__in=[10, 20]).exclude(unit=scene["ehpad"])
    assert feedback.period_medians(half)[0] == {DAY_1.isoformat(): Decimal(15)}


def test_the_page_shows_no_value_of_another_establishment(cast, scene):
    response = client_for(cast.ehpad_respondent).get(
        reverse("collection:my_data"),
        {"definition": "lits_occupes", "du": DAY_1.isoformat(), "au": DAY_2.isoformat()},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert str(DISTINCTIVE) not in html and "98\u202f765" not in html
    assert "Ehpad voisin" not in html
    assert "trop peu d'établissements pour comparer" in html
    assert 'id="mydata-chart-title"' in html
    assert "(sur 6 établissements)" in html


def test_a_legal_entity_chooses_among_its_own_sites_only(cast, scene):
    hospital = unit_of(cast.cayenne_hospital)
    store(hospital, scene["occupied"], DAY_1, 321)
    client = client_for(cast.legal_entity_respondent)
    page = client.get(reverse("collection:my_data"), {"site": hospital.pk, "du": "2026-11-01"})
    assert page.context["feedback"].unit == hospital
    assert "321" in page.content.decode()
    choices = dict(page.context["form"].fields["site"].choices)
    assert set(choices) == {hospital.pk, scene["ehpad"].pk}

    outsider_site = unit_of(cast.pointe_a_pitre_clinic)
    store(outsider_site, scene["occupied"], DAY_1, 4444)
    page = client.get(reverse("collection:my_data"), {"site": outsider_site.pk, "du": "2026-11-01"})
    assert page.context["feedback"].unit != outsider_site
    assert "4444" not in page.content.decode()


def test_a_legal_entitys_own_sites_are_never_its_peers(cast, scene):
    # CH de Cayenne answers for the hospital and Ehpad Edmar Lama (7, then 8). Were the Ehpad
    # a peer of the hospital, the entity could pick its value to move the median and read the
    # outsiders' values off it: only the establishments it does not answer for count.
    hospital = unit_of(cast.cayenne_hospital)
    store(hospital, scene["occupied"], DAY_1, 321)
    store(hospital, scene["occupied"], DAY_2, 322)
    result = feedback.feedback_for(
        unit=hospital, user=cast.legal_entity_respondent, start=DAY_1, end=DAY_2
    )
    department = comparisons(result)["department"]
    # Day 1: the five outsiders only (10, 20, 30, 40, 98765), not the Ehpad's 7.
    assert department.counts[DAY_1.isoformat()] == 5
    assert department.medians[DAY_1.isoformat()] == Decimal(30)
    # Day 2: four outsiders; the Ehpad would have made five and revealed a median.
    assert department.counts[DAY_2.isoformat()] == 4
    assert department.medians[DAY_2.isoformat()] is None


def test_a_professional_sees_their_own_values_without_comparison(cast, scene):
    mine = professional_unit(cast.paris_doctor)
    store(mine, scene["occupied"], DAY_1, 3)
    page = client_for(cast.professional).get(reverse("collection:my_data"), {"du": "2026-11-01"})
    assert page.status_code == 200
    assert page.context["feedback"].comparisons == []
    assert page.context["feedback"].own == {DAY_1.isoformat(): 3}


def test_a_respondent_without_any_unit_yet_gets_a_page_that_says_so(cast):
    page = client_for(cast.hospital_respondent).get(reverse("collection:my_data"))
    assert page.status_code == 200
    assert "aucune demande" in page.content.decode()


def test_a_bad_date_range_is_told_and_the_default_range_is_used(cast, scene):
    page = client_for(cast.ehpad_respondent).get(
        reverse("collection:my_data"), {"du": "2026-12-10", "au": "2026-12-01"}
    )
    assert page.status_code == 200
    assert "La date de fin doit suivre la date de début." in page.content.decode()
