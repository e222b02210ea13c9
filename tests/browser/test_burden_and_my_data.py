"""The burden page and « Mes données » in a real browser, for the three kinds of reader: the
DGOS (the country and every region), an ARS (its region), an Ehpad (itself, and its values
beside its neighbours' medians). Screenshots go to /tmp/shots/burden-*.png and mydata-*.png.

Three weeks of a daily capacity campaign answered by Ehpad Edmar Lama and six other Ehpad of
Guyane; a weekly campaign reusing two of its definitions; a campaign sent anyway.
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from collection.models import Value
from surveys.models import AudienceMember, CampaignReuse, OverlapChoice
from tests.browser.test_login_by_role import log_in
from tests.collection.answering import assignment, campaign, unit_of
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108 - screenshots for people to look at, nothing secret
GUYANE = {"finess_department": "9C", "territory_code": "973", "region_code": "03"}
DAYS = 21
NEIGHBOUR_VALUE = 4321  # one neighbour's figure: never on the Ehpad's page


def _value(unit, definition, day, number):
    Value.objects.create(
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


def _scene(cast):
    today = timezone.localdate()
    first = today - dt.timedelta(days=DAYS - 1)
    beds = DefinitionFactory(code="lits_occupes", label="Lits occupés", unit="lits")
    staff = DefinitionFactory(code="personnels_absents", label="Personnels absents", unit="")
    new = DefinitionFactory(code="residents_covid", label="Résidents Covid", unit="")
    ehpad = unit_of(cast.cayenne_ehpad)
    neighbours = [
        unit_of(EstablishmentFactory(ehpad=True, name=f"Ehpad de Guyane {n}", **GUYANE))
        for n in range(6)
    ]
    daily = campaign(
        title="Capacités quotidiennes des Ehpad", definitions=[beds, staff], start_date=first
    )
    AudienceMember.objects.bulk_create(
        [AudienceMember(campaign=daily, unit=u) for u in [ehpad, *neighbours]]
    )
    for offset in range(DAYS):
        day = first + dt.timedelta(days=offset)
        for unit in [ehpad, *neighbours[:2]]:
            assignment(daily, unit, day=day)
        _value(ehpad, beds, day, 40 + offset % 5)
        for index, unit in enumerate(neighbours):
            number = NEIGHBOUR_VALUE if index == 5 else 30 + index * 4 + offset % 3
            _value(unit, beds, day, number)
    weekly = campaign(
        title="Suivi hebdomadaire",
        definitions=[beds, staff, new],
        frequency="weekly",
        period_kind="week",
        start_date=first,
        overlap_choice=OverlapChoice.REUSE,
    )
    for definition in (beds, staff):
        CampaignReuse.objects.create(campaign=weekly, definition=definition, source=daily)
    clinic = unit_of(cast.pointe_a_pitre_clinic)
    for weeks_ago in range(3):
        day = today - dt.timedelta(weeks=weeks_ago)
        assignment(weekly, ehpad, day=day)
        assignment(weekly, clinic, day=day)
    anyway = campaign(
        title="Recueil de crise",
        definitions=[new],
        overlap_choice=OverlapChoice.SEND_ANYWAY,
        overlap_justification="Indicateur attendu par la cellule interministérielle.",
        overlap_summary={"covered": 2, "asked": 3},
    )
    assignment(anyway, unit_of(cast.paris_ehpad), day=today)


def test_the_dgos_the_ars_and_the_ehpad_each_see_their_burden(page: Page, live_server, cast):
    _scene(cast)
    SHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, cast.national_requester.email)
    page.get_by_role("link", name="Charge de collecte").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Charge de collecte")
    expect(page.locator("#burden-weeks-title")).to_be_visible()
    expect(page.locator("#burden-regions-title")).to_be_visible()
    expect(page.get_by_role("link", name="Recueil de crise")).to_be_visible()
    expect(page.get_by_role("table", name="Cellules par région sur la période")).to_contain_text(
        "Guyane"
    )
    page.screenshot(path=SHOTS / "burden-national.png", full_page=True)
    page.get_by_role("link", name="Par semaine pour Ehpad Edmar Lama").click()
    expect(page.locator("#burden-unit-title")).to_be_visible()

    page.context.clear_cookies()
    log_in(page, cast.ars_guadeloupe_agent.email)
    page.goto("/collecte/fardeau/")
    regions = page.get_by_role("table", name="Cellules par région sur la période")
    expect(regions).to_contain_text("Guadeloupe")
    expect(regions).not_to_contain_text("Guyane")
    page.screenshot(path=SHOTS / "burden-ars.png", full_page=True)

    page.context.clear_cookies()
    log_in(page, cast.ehpad_respondent.email)
    page.get_by_role("link", name="Charge de collecte").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Charge de collecte")
    expect(page.locator("body")).not_to_contain_text("Clinique des Eaux-Claires")
    page.screenshot(path=SHOTS / "burden-ehpad.png", full_page=True)


def test_the_ehpad_sees_its_values_beside_its_neighbours_medians(page: Page, live_server, cast):
    _scene(cast)
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, cast.ehpad_respondent.email)
    page.get_by_role("link", name="Mes données").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    page.locator("#id_definition").select_option("lits_occupes")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("#mydata-chart-title")).to_contain_text("Lits occupés")
    table = page.get_by_role("table").last
    expect(table).to_contain_text("Médiane du département (973)")
    expect(table).to_contain_text("(sur 6 établissements)")
    assert str(NEIGHBOUR_VALUE) not in page.content()
    assert "4\u202f321" not in page.content()
    page.screenshot(path=SHOTS / "mydata-ehpad.png", full_page=True)
