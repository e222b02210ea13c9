"""Follow-up and results in a real browser: the DGOS requester opens a national campaign's
follow-up, picks a period, reads the rates and the late list, opens a late unit's history, then
the results by department and drills down; the ARS Guadeloupe agent sees its region only."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from surveys.models import Assignment
from tests.browser.test_login_by_role import log_in
from tests.collection.test_results import DAY, world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108 (where the brief asks for them)


def _with_a_late_period(world):  # noqa: F811
    national, units = world
    from tests.collection.answering import assignment

    later = DAY + dt.timedelta(days=1)
    for name, unit in units.items():
        status = Assignment.Status.SUBMITTED if name.startswith("paris") else Assignment.Status.LATE
        assignment(national, unit, day=later, status=status)
    return national


def test_requester_follows_a_campaign_and_reads_its_results(page: Page, cast, world):  # noqa: F811
    national = _with_a_late_period(world)
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, cast.national_requester.email)
    page.goto(f"/enquetes/campagnes/{national.pk}/")
    page.get_by_role("link", name="Suivi des réponses et retards").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suivi de la campagne")
    page.locator("#period-select").select_option((DAY + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("#summary-rate")).to_have_text("40,0 %")
    expect(page.locator("#late-table")).to_contain_text("CH Louis-Constant Fleming")
    page.screenshot(path=str(SHOTS / "followup-dashboard.png"), full_page=True)

    page.locator("#late-table").get_by_role("link", name="CH de Cayenne").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CH de Cayenne")
    expect(page.locator("main")).to_contain_text("En retard")
    page.screenshot(path=str(SHOTS / "followup-unit-history.png"), full_page=True)

    page.goto(f"/collecte/campagnes/{national.pk}/resultats/?periode={DAY.isoformat()}")
    page.get_by_label("Regrouper par").select_option("departement")
    page.get_by_role("button", name="Afficher").click()
    table = page.locator("#results-table")
    expect(table).to_contain_text("973 — Guyane")
    expect(table).to_contain_text("210")
    page.screenshot(path=str(SHOTS / "results-by-department.png"), full_page=True)
    table.get_by_role("link", name="Établissements de 75 — Paris").click()
    expect(page.locator("#detail-table")).to_contain_text("Ehpad Les Tilleuls")
    page.screenshot(path=str(SHOTS / "results-drill-down.png"), full_page=True)


def test_ars_agent_sees_only_its_region(page: Page, cast, world):  # noqa: F811
    national = _with_a_late_period(world)
    log_in(page, cast.ars_guadeloupe_agent.email)
    page.goto(f"/collecte/campagnes/{national.pk}/suivi/")
    expect(page.locator("#scope-notice")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Ehpad Les Tilleuls")
    expect(page.locator("#late-table")).to_contain_text("CH Louis-Constant Fleming")
    page.goto(f"/collecte/campagnes/{national.pk}/resultats/?periode={DAY.isoformat()}")
    expect(page.locator("#results-table")).not_to_contain_text("Île-de-France")
    page.screenshot(path=str(SHOTS / "results-ars-guadeloupe.png"), full_page=True)
    assert timezone.now()
