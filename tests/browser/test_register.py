"""An ARS viewer reads the register in a real browser: the DGOS's campaign is there, and
filtering by a definition keeps only the campaigns asking it."""

import datetime as dt

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import Organisation, Role
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.referentials.factories_dictionary import DefinitionFactory, ThemeFactory
from tests.surveys.factories import (
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    SectionFactory,
    SurveyFactory,
    SurveyVersionFactory,
)

pytestmark = pytest.mark.browser


def _campaign(owner, title, definitions, *, audience_size, **extra):
    version = SurveyVersionFactory(survey=SurveyFactory(owner=owner), title=title)
    section = SectionFactory(version=version)
    for definition in definitions:
        QuestionFactory(section=section, definition=definition)
    return CampaignFactory(version=version, title=title, audience_size=audience_size, **extra)


def test_an_ars_viewer_sees_a_dgos_campaign_and_filters_by_definition(page: Page, cast):
    dgos = Organisation.objects.get(memberships__user=cast.national_requester)
    ars_idf = Organisation.objects.get(name="ARS Île-de-France")
    capacities = ThemeFactory(code="capacites", label="Capacités")
    beds = DefinitionFactory(code="lits_rea_installes", label="Lits de réanimation installés")
    beds.themes.add(capacities)
    patients = DefinitionFactory(code="patients_covid_rea", label="Patients Covid en réanimation")
    start = dt.date(2026, 11, 1)
    dgos_campaign = _campaign(
        dgos,
        "Capacités de réanimation",
        [beds, patients],
        audience_size=40,
        frequency="daily",
        period_kind="day",
        start_date=start,
        end_date=dt.date(2026, 11, 30),
        crisis_frequency="",
    )
    CampaignPeriodFactory(campaign=dgos_campaign, day=start)
    _campaign(
        ars_idf,
        "Tension dans les Ehpad",
        [patients],
        audience_size=10,
        frequency="weekly",
        period_kind="week",
        start_date=start,
        end_date=dt.date(2026, 12, 31),
    )
    viewer = UserFactory(email="lecteur@ars-idf.sante.fr")
    MembershipFactory(user=viewer, organisation=ars_idf, role=Role.VIEWER)

    log_in(page, viewer.email)
    page.get_by_role("link", name="Registre", exact=True).first.click()
    expect(page).to_have_url(page.url.split("/enquetes/")[0] + reverse("surveys:register"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Registre des collectes")
    expect(page.locator("#result-count")).to_contain_text("2 campagnes au registre")
    table = page.locator("#register-table")
    expect(table).to_contain_text("Capacités de réanimation")
    expect(table).to_contain_text("DGOS")
    # 40 establishments x 2 questions: 80 cells per day, 2400 over the 30 days of November.
    expect(table).to_contain_text("80 par période")
    expect(table).to_contain_text("2400 au total")

    page.get_by_label("Définition demandée").select_option(label=f"{beds.label} ({beds.code})")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("#result-count")).to_contain_text("1 campagne correspond à vos filtres")
    expect(table).to_contain_text("Capacités de réanimation")
    expect(table).not_to_contain_text("Tension dans les Ehpad")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "register.png"), full_page=True)

    # Not the viewer's organisation: the title opens the register's read-only page.
    page.get_by_role("link", name="Capacités de réanimation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Capacités de réanimation")
    expect(page.get_by_text("Fiche du registre, en lecture seule.")).to_be_visible()
    expect(page.get_by_role("link", name="Lits de réanimation installés")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "register_detail.png"), full_page=True)
