"""Open data: aggregates by region and department, small counts hidden, nothing recomputable."""

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.urls import reverse

from collection.opendata import DEPARTMENT, REGION, OpenCell, open_data_cells, suppress
from surveys.periods import period_of
from tests.collection.answering import assignment, campaign, unit_of
from tests.collection.exports_world import DAY, put
from tests.collection.reusing import (
    WEEK_DAY,
    assignment_for,
    days_of,
    definition,
    reusing_campaign,
    source_campaign,
    store,
)
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory

MINIMUM = 11


def _cell(level, code, count, total, parent=""):
    return OpenCell(
        level=level,
        code=code,
        label=code,
        parent=parent,
        definition="lits",
        period="2026-03-02",
        count=count,
        total=Decimal(total),
        aggregation="sum",
    )


def assert_nothing_recomputable(cells, minimum=MINIMUM):
    """Every small cell is hidden, and in every published region the hidden departments
    together are none or at least ``minimum`` establishments: what the region minus its
    published departments gives is never the value of fewer than ``minimum``."""
    assert all(c.secret for c in cells if c.count < minimum)
    departments = defaultdict(list)
    for cell in cells:
        if cell.level == DEPARTMENT:
            departments[(cell.definition, cell.period, cell.parent)].append(cell)
    for region in (c for c in cells if c.level == REGION):
        members = departments[(region.definition, region.period, region.code)]
        if region.secret:
            assert all(d.secret for d in members), region
            continue
        hidden = [d for d in members if d.secret]
        hidden_count = sum(d.count for d in hidden)
        assert hidden_count == 0 or hidden_count >= minimum, (
            region.code,
            [(d.code, d.count) for d in hidden],
        )
        published = sum(d.total for d in members if not d.secret)
        if hidden:
            # What subtraction gives is the total of at least ``minimum`` establishments.
            assert region.total - published == sum(d.total for d in hidden)
            assert region.count - sum(d.count for d in members if not d.secret) >= minimum


def test_a_department_under_the_threshold_is_hidden_and_a_second_one_with_it():
    region = _cell(REGION, "11", 60, 600)
    departments = [
        _cell(DEPARTMENT, "75", 30, 300, "11"),
        _cell(DEPARTMENT, "92", 12, 100, "11"),
        _cell(DEPARTMENT, "93", 13, 150, "11"),
        _cell(DEPARTMENT, "94", 5, 50, "11"),
    ]
    suppress([region], departments, minimum=MINIMUM)
    assert not region.secret
    assert [(d.code, d.secret, d.secondary) for d in departments] == [
        ("75", False, False),
        ("92", True, True),  # the next smallest, so that 94 cannot be recomputed
        ("93", False, False),
        ("94", True, False),
    ]
    assert_nothing_recomputable([region, *departments])


def test_two_small_departments_together_under_the_threshold_hide_a_third():
    # 4 + 6 = 10 establishments: the region minus 69 would give their total, so 69 goes too.
    region = _cell(REGION, "84", 40, 400)
    departments = [
        _cell(DEPARTMENT, "01", 4, 40, "84"),
        _cell(DEPARTMENT, "69", 30, 300, "84"),
        _cell(DEPARTMENT, "38", 6, 60, "84"),
    ]
    suppress([region], departments, minimum=MINIMUM)
    assert [(d.secret, d.secondary) for d in departments] == [
        (True, False),
        (True, True),
        (True, False),
    ]
    assert not region.secret
    assert_nothing_recomputable([region, *departments])


def test_two_hidden_departments_of_one_establishment_each_do_not_learn_each_others_value():
    # 22 = 20 + 1 + 1: published, the region minus 20 is the sum of the two lone
    # establishments, and each knows its own. The 20 is hidden with them.
    region = _cell(REGION, "94", 22, 220)
    departments = [
        _cell(DEPARTMENT, "971", 20, 200, "94"),
        _cell(DEPARTMENT, "977", 1, 7, "94"),
        _cell(DEPARTMENT, "978", 1, 13, "94"),
    ]
    suppress([region], departments, minimum=MINIMUM)
    assert [d.secret for d in departments] == [True, True, True]
    assert departments[0].secondary
    assert_nothing_recomputable([region, *departments])


def test_hidden_departments_that_already_count_enough_need_no_more():
    region = _cell(REGION, "75", 60, 600)
    departments = [
        _cell(DEPARTMENT, "75", 30, 300, "75"),
        _cell(DEPARTMENT, "77", 14, 140, "75"),
        _cell(DEPARTMENT, "91", 10, 100, "75"),
        _cell(DEPARTMENT, "95", 6, 60, "75"),
    ]
    suppress([region], departments, minimum=MINIMUM)
    assert [d.secret for d in departments] == [False, False, True, True]
    assert not any(d.secondary for d in departments)
    assert_nothing_recomputable([region, *departments])


def test_a_small_region_hides_all_its_departments():
    region = _cell(REGION, "01", 8, 80)
    departments = [_cell(DEPARTMENT, "971", 6, 60, "01"), _cell(DEPARTMENT, "978", 2, 20, "01")]
    suppress([region], departments, minimum=MINIMUM)
    assert region.secret and all(d.secret for d in departments)
    assert region.value is None


def test_a_region_made_of_one_hidden_department_is_hidden_too():
    # Establishments whose region code and department disagree: the region hides itself.
    region = _cell(REGION, "02", 12, 120)
    departments = [_cell(DEPARTMENT, "972", 5, 50, "02")]
    suppress([region], departments, minimum=MINIMUM)
    assert region.secret and region.secondary


@pytest.mark.parametrize("seed", range(60))
def test_no_hidden_cell_can_be_recomputed_on_random_counts(seed):
    import random

    generator = random.Random(seed)
    cells = []
    for r in range(4):
        members = [
            _cell(
                DEPARTMENT,
                f"{r}{d}",
                generator.choice([1, 1, 2, 3, 9, 10, 11, 14, 40]),
                10,
                f"R{r}",
            )
            for d in range(generator.randint(1, 6))
        ]
        region = _cell(REGION, f"R{r}", sum(d.count for d in members), 10 * len(members))
        suppress([region], members, minimum=MINIMUM)
        cells += [region, *members]
    assert_nothing_recomputable(cells)


def _world(cast, counts):
    """A DGOS campaign, ``counts`` = {(region, department): establishments}, each 2 beds."""
    dgos = cast.national_requester.memberships.get().organisation
    beds = DefinitionFactory(code="lits_rea_ouverts", label="Lits de réanimation ouverts")
    mean = DefinitionFactory(
        code="taux_occupation",
        label="Taux d'occupation",
        value_type="decimal",
        unit="%",
        establishment_aggregation="mean",
    )
    kept = DefinitionFactory(code="code_interne", label="Code", establishment_aggregation="none")
    c = campaign(owner=dgos, definitions=[beds, mean, kept])
    for (region, department), count in counts.items():
        for _ in range(count):
            unit = unit_of(EstablishmentFactory(territory_code=department, region_code=region))

            assignment(c, unit, day=DAY)
            put(unit, beds, data="2", number=Decimal(2))
            put(unit, mean, data="50", number=Decimal(50))
            put(unit, kept, data="3", number=Decimal(3))
    return c


def test_the_campaign_cells_hide_small_counts_and_publish_sums_and_means(cast):
    c = _world(cast, {("11", "75"): 12, ("11", "92"): 11, ("11", "94"): 3, ("84", "01"): 2})
    cells = open_data_cells(c)
    assert {c.definition for c in cells} == {"lits_rea_ouverts", "taux_occupation"}
    beds = {(c.level, c.code): c for c in cells if c.definition == "lits_rea_ouverts"}
    assert (beds[(REGION, "11")].count, beds[(REGION, "11")].value) == (26, Decimal(52))
    assert beds[(DEPARTMENT, "75")].value == Decimal(24)
    assert beds[(DEPARTMENT, "94")].secret and beds[(DEPARTMENT, "92")].secondary
    assert beds[(REGION, "84")].secret and beds[(DEPARTMENT, "01")].secret
    rates = {(c.level, c.code): c for c in cells if c.definition == "taux_occupation"}
    assert rates[(REGION, "11")].value == Decimal("50.00")
    assert_nothing_recomputable(cells)


def test_the_open_data_csv_and_its_codebook(cast):
    c = _world(cast, {("11", "75"): 12, ("11", "94"): 3})
    client = client_for(cast.national_requester)
    url = reverse("collection:open_data", kwargs={"pk": c.pk})
    page = client.get(url)
    assert page.status_code == 200
    assert "masquée" in page.content.decode()
    response = client.get(url, {"fichier": "donnees"})
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == [
        "niveau",
        "code_territoire",
        "libelle_territoire",
        "definition",
        "periode",
        "nombre_etablissements",
        "valeur",
        "secret",
    ]
    assert ["region", "11", "11", "lits_rea_ouverts", "2026-03-02", "15", "30", "false"] in rows
    assert ["departement", "94", "94", "lits_rea_ouverts", "2026-03-02", "3", "", "true"] in rows
    # 75 is the only other department of the region: hidden with 94.
    assert ["departement", "75", "75", "lits_rea_ouverts", "2026-03-02", "12", "", "true"] in rows
    codebook = b"".join(client.get(url, {"fichier": "dictionnaire"}).streaming_content).decode()
    lines = list(csv.reader(io.StringIO(codebook)))
    assert lines[0] == ["code", "libelle", "unite", "type", "agregation", "doctrine"]
    assert [line[0] for line in lines[1:]] == ["lits_rea_ouverts", "taux_occupation"]


def test_an_ars_cannot_publish_a_national_campaign(cast):
    c = _world(cast, {("11", "75"): 1})
    url = reverse("collection:open_data", kwargs={"pk": c.pk})
    assert client_for(cast.ars_idf_agent).get(url).status_code == 403
    assert client_for(cast.hospital_respondent).get(url).status_code == 403


def test_a_reusing_campaign_publishes_its_served_values_once_per_establishment(cast):
    # A weekly campaign reuses « lits » (a stock) from a daily one: its week is the last day's
    # value, served rather than stored. Twelve establishments of Paris, 3 beds each on Sunday;
    # one of them also holds a weekly value of its own (1000), which the served one replaces.
    beds = definition("lits", "stock")
    units = [
        unit_of(EstablishmentFactory(territory_code="75", region_code="11")) for _ in range(12)
    ]
    source = source_campaign([beds], units)
    target = reusing_campaign([beds], [beds], source=source)
    sunday = days_of(WEEK_DAY)[-1]
    for unit in units:
        store(unit, beds, sunday, "3", campaign=source)
        assignment_for(target, unit)
    store(units[0], beds, period_of("week", WEEK_DAY), "1000")
    cells = {(c.level, c.code): c for c in open_data_cells(target)}
    region = cells[(REGION, "11")]
    assert (region.period, region.count, region.value) == ("2026-W49", 12, Decimal(36))
    assert (cells[(DEPARTMENT, "75")].count, cells[(DEPARTMENT, "75")].value) == (12, 36)
