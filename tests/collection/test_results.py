"""Aggregated results: sums, means, ratio of sums, counts, scope and drill-down."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from collection import followup, results
from collection.models import Value
from surveys.models import Assignment
from tests.collection.answering import assignment, campaign, unit_of
from tests.conftest import client_for
from tests.referentials.factories_dictionary import DefinitionFactory, IndicatorFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)


def _value(unit, definition, number, *, day=DAY, owner_campaign=None):
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
        campaign=owner_campaign,
    )


@pytest.fixture
def world(cast, national_org):
    """A national campaign asking open beds (sum), occupied beds (sum), a delay (mean) and a
    free-text remark (not aggregated), for one day, of five establishments in three regions."""
    open_beds = DefinitionFactory(code="lits_ouverts", establishment_aggregation="sum")
    occupied = DefinitionFactory(code="lits_occupes", establishment_aggregation="sum")
    delay = DefinitionFactory(code="delai_heures", establishment_aggregation="mean", unit="h")
    remark = DefinitionFactory(
        code="remarque", value_type="text", establishment_aggregation="none", unit=""
    )
    IndicatorFactory(
        code="taux_occupation",
        label="Taux d'occupation",
        expression="lits_occupes / lits_ouverts * 100",
        unit="%",
    )
    national = campaign(
        owner=national_org,
        title="Capacités",
        definitions=[open_beds, occupied, delay, remark],
        start_date=DAY,
    )
    figures = {
        # name: (open, occupied, delay)
        "paris_hospital": (10, 1, 4),
        "paris_ehpad": (90, 81, 8),
        "cayenne_hospital": (50, 25, 2),
        "pointe_a_pitre_clinic": (20, 10, 6),
        "saint_martin_hospital": (40, 40, 3),
    }
    units = {}
    for name, (o, c, d) in figures.items():
        unit = units[name] = unit_of(getattr(cast, name))
        assignment(national, unit, day=DAY, status=Assignment.Status.SUBMITTED)
        _value(unit, open_beds, o)
        _value(unit, occupied, c)
        _value(unit, delay, d)
    Value.objects.create(
        unit=units["paris_hospital"],
        definition=remark,
        code="remarque",
        period_kind="day",
        period_key=DAY.isoformat(),
        period_start=DAY,
        period_end=DAY,
        data="RAS",
        channel="form",
        changed_at=timezone.now(),
    )
    # A value of another period and one of a unit outside the campaign: never counted.
    _value(units["paris_hospital"], open_beds, 1000, day=DAY - dt.timedelta(days=1))
    _value(unit_of(cast.ain_hospital), open_beds, 1000)
    return national, units


def _table(user, national, **kwargs):
    access = followup.access_for(campaign=national, user=user)
    assert access is not None
    return results.results_table(access=access, period_key=DAY.isoformat(), **kwargs)


def _cells(row, table):
    return {c.code: cell for c, cell in zip(table.columns, row.cells, strict=True)}


def test_total_sums_beds_averages_delays_counts_text_and_takes_the_ratio_of_sums(cast, world):
    national, _ = world
    table = _table(cast.national_requester, national)
    total = _cells(table.total, table)
    assert total["lits_ouverts"].value == 210
    assert total["lits_ouverts"].establishments == 5
    assert total["lits_occupes"].value == 157
    assert total["delai_heures"].value == Decimal("4.6")  # (4 + 8 + 2 + 6 + 3) / 5
    assert total["remarque"].value == 1  # a text: the number of answers only
    # Ratio of sums: 157 / 210 = 74.76 %, not the mean of the ratios (10, 90, 50, 50, 100 %).
    assert total["taux_occupation"].value.quantize(Decimal("0.01")) == Decimal("74.76")
    assert total["taux_occupation"].establishments == 5


def test_by_region_each_cell_aggregates_its_establishments(cast, world):
    national, _ = world
    table = _table(cast.national_requester, national)
    by_region = {row.key: _cells(row, table) for row in table.rows}
    assert set(by_region) == {"11", "03", "01"}
    assert by_region["11"]["lits_ouverts"].value == 100
    assert by_region["11"]["lits_ouverts"].establishments == 2
    assert by_region["11"]["delai_heures"].value == 6
    # Île-de-France occupancy: (1 + 81) / (10 + 90) = 82 %, not (10 % + 90 %) / 2 = 50 %.
    assert by_region["11"]["taux_occupation"].value == 82
    # Guadeloupe with Saint-Martin: (10 + 40) / (20 + 40).
    assert by_region["01"]["taux_occupation"].value.quantize(Decimal("0.01")) == Decimal("83.33")


def test_by_department_and_by_category(cast, world):
    national, _ = world
    departments = _table(cast.national_requester, national, dimension="departement")
    assert {r.key: _cells(r, departments)["lits_ouverts"].value for r in departments.rows} == {
        "75": 100,
        "973": 50,
        "971": 20,
        "978": 40,
    }
    categories = _table(cast.national_requester, national, dimension="categorie")
    assert {r.key: _cells(r, categories)["lits_ouverts"].value for r in categories.rows} == {
        "355": 120,
        "500": 90,
    }


def test_values_written_by_another_campaign_are_read_from_the_shared_store(
    cast, world, national_org
):
    national, units = world
    other = campaign(owner=national_org, title="Autre collecte")
    Value.objects.filter(unit=units["paris_hospital"], period_key=DAY.isoformat()).update(
        campaign=other
    )
    table = _table(cast.national_requester, national)
    assert _cells(table.total, table)["lits_ouverts"].value == 210


def test_ars_agent_sees_only_its_region_in_every_cell(cast, world):
    national, _ = world
    table = _table(cast.ars_guadeloupe_agent, national)
    assert [row.key for row in table.rows] == ["01"]
    total = _cells(table.total, table)
    assert total["lits_ouverts"].value == 60
    assert total["lits_ouverts"].establishments == 2
    assert total["taux_occupation"].value.quantize(Decimal("0.01")) == Decimal("83.33")


def test_drill_down_lists_the_individual_values_of_a_group(cast, world):
    national, _ = world
    page = client_for(cast.national_requester).get(
        reverse("collection:campaign_results", kwargs={"pk": national.pk}),
        {"periode": DAY.isoformat(), "detail": "11"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="detail-table"' in html
    assert "Ehpad Les Tilleuls" in html and "Hôpital de la Pitié" in html
    assert "CH de Cayenne" not in html.split('id="detail-table"')[1]


def test_drill_down_outside_the_ars_region_is_refused(cast, world):
    national, _ = world
    client = client_for(cast.ars_guadeloupe_agent)
    url = reverse("collection:campaign_results", kwargs={"pk": national.pk})
    assert client.get(url, {"periode": DAY.isoformat(), "detail": "11"}).status_code == 404
    inside = client.get(url, {"periode": DAY.isoformat(), "detail": "01"})
    assert inside.status_code == 200
    assert "CH Louis-Constant Fleming" in inside.content.decode()
    assert "Hôpital de la Pitié" not in inside.content.decode()


@pytest.mark.parametrize(
    "role", ["ehpad_respondent", "hospital_respondent", "legal_entity_respondent", "outsider"]
)
def test_respondents_never_see_results_nor_drill_down(cast, world, role):
    national, _ = world
    response = client_for(cast.user(role)).get(
        reverse("collection:campaign_results", kwargs={"pk": national.pk}),
        {"periode": DAY.isoformat(), "detail": "03"},
    )
    assert response.status_code in (403, 404)
    assert "Ehpad Edmar Lama" not in response.content.decode()


def test_results_page_shows_the_table_with_counts_of_establishments(cast, world):
    national, _ = world
    page = client_for(cast.national_requester).get(
        reverse("collection:campaign_results", kwargs={"pk": national.pk}),
        {"periode": DAY.isoformat(), "par": "departement"},
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="results-table"' in html
    assert "973 — Guyane" in html
    assert "5 étab." in html


def test_group_indicators_agree_with_the_dictionary_indicator_aggregate(cast, world):
    from referentials.dictionary import indicator_aggregate
    from referentials.models import Indicator

    national, units = world
    table = _table(cast.national_requester, national)
    indicator = Indicator.objects.get(code="taux_occupation")
    guyane = [
        {
            v.code: v.number
            for v in Value.objects.filter(unit=units["cayenne_hospital"], period_key="2026-03-02")
        }
    ]
    expected = indicator_aggregate(indicator=indicator, rows=guyane)
    row = next(r for r in table.rows if r.key == "03")
    cell = _cells(row, table)["taux_occupation"]
    assert (
        (cell.value, cell.establishments)
        == (expected.value, expected.establishments)
        == (
            Decimal(50),
            1,
        )
    )


def test_served_cells_of_a_reusing_campaign_come_from_reuse(cast, world, monkeypatch):
    from collection import reuse
    from referentials.models import Definition
    from surveys.models import CampaignReuse

    national, units = world
    national.overlap_choice = "reuse"
    national.save(update_fields=["overlap_choice"])
    open_beds = Definition.objects.get(code="lits_ouverts")
    CampaignReuse.objects.create(campaign=national, definition=open_beds)
    calls = []

    def served_values(*, campaign, period_key, unit_ids=None, schema=None):
        calls.append((campaign.pk, period_key))
        unit = units["paris_ehpad"]
        return {
            (unit.pk, "lits_ouverts"): reuse.Served(
                code="lits_ouverts",
                definition_id=open_beds.pk,
                state="available",
                data="7",
                text="7",
                needed=(),
                present=1,
                sources=(),
                source_campaign_id=None,
                provenance="",
            )
        }

    monkeypatch.setattr(reuse, "served_values", served_values)
    table = _table(cast.national_requester, national)
    total = _cells(table.total, table)
    # The served unit counts its served 7, not its stored 90; the four units it is not served
    # to were asked, and their stored answers count (10 + 50 + 20 + 40).
    assert (total["lits_ouverts"].value, total["lits_ouverts"].establishments) == (127, 5)
    assert calls == [(national.pk, "2026-03-02")]
    assert table.served_codes == ["lits_ouverts"]


def test_a_partly_reused_definition_counts_the_served_and_the_asked_units(cast):
    # A weekly campaign reuses « lits » (a stock) from a daily campaign asked of one unit only:
    # that unit is served its Sunday value, 20; the other, outside the source's audience, was
    # asked and answered 7. Both count: 27 beds from 2 establishments.
    from surveys.periods import period_of
    from tests.collection.reusing import (
        WEEK_DAY,
        assignment_for,
        days_of,
        definition,
        reusing_campaign,
        source_campaign,
        store,
    )

    beds = definition("lits", "stock")
    served_unit, asked_unit = unit_of(cast.paris_hospital), unit_of(cast.cayenne_hospital)
    source = source_campaign([beds], [served_unit])
    target = reusing_campaign([beds], [beds], source=source)
    store(served_unit, beds, days_of(WEEK_DAY)[-1], "20", campaign=source)
    store(asked_unit, beds, period_of("week", WEEK_DAY), "7", campaign=target)
    for unit in (served_unit, asked_unit):
        assignment_for(target, unit)
    access = followup.access_for(campaign=target, user=cast.national_requester)
    assert access is not None
    table = results.results_table(access=access, period_key="2026-W49")
    total = _cells(table.total, table)
    assert (total["lits"].value, total["lits"].establishments) == (27, 2)
    by_unit = {row.unit_id: row.cells for row in results.drill_down(results=table, key="11")}
    assert by_unit[served_unit.pk] == ["20"]
