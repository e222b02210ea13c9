"""A national requester creates a daily campaign from a survey, sends it, and sees the
assignments it wrote, counted by status, in a real browser."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from surveys.audience import audience_save
from surveys.models import Assignment, Campaign
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.surveys.factories import QuestionFactory, SectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_requester_creates_sends_and_follows_a_daily_campaign(page: Page, cast, national_org):
    section = SectionFactory(
        title="Capacités",
        version__survey__owner=national_org,
        version__status="draft",
        version__title="Lits disponibles",
    )
    QuestionFactory(section=section)
    survey = section.version.survey
    today = timezone.localdate()

    log_in(page, cast.national_requester.email)
    page.goto(reverse("surveys:campaign_list"))
    page.get_by_role("link", name="Nouvelle campagne").click()
    page.get_by_label("Enquête").select_option(str(survey.pk))
    page.get_by_label("Titre de la campagne").fill("Lits disponibles — quotidien")
    page.get_by_label("Fréquence", exact=True).select_option("daily")
    page.get_by_label("Début (première période)").fill(today.isoformat())
    page.get_by_label("Fin (dernière période)").fill((today + dt.timedelta(days=6)).isoformat())
    page.get_by_label("Heure limite (heure de Paris)").fill("23:30")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lits disponibles — quotidien")
    expect(page.locator("#campaign-status")).to_have_text("Brouillon")

    # The audience is chosen on its own page (another part): here through its service.
    campaign = Campaign.objects.get(title="Lits disponibles — quotidien")
    audience_save(
        campaign=campaign,
        filters={"finess": [cast.paris_hospital.finess, cast.paris_ehpad.finess]},
        user=cast.national_requester,
    )

    page.get_by_role("link", name="Envoyer maintenant").click()
    expect(page.get_by_role("row", name="Demandes créées 2")).to_be_visible()
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.get_by_text("Campagne envoyée à 2 destinataires.")).to_be_visible()
    expect(page.locator("#campaign-status")).to_have_text("Ouverte")
    row = page.locator("#period-table tbody tr").first
    expect(row.locator("th")).to_have_text(today.isoformat())
    # Columns: period, due, then À faire, En cours, Transmise, En retard, Dispensée.
    expect(row.locator("td").nth(1)).to_have_text("2")
    page.screenshot(path="/tmp/campaigns.png", full_page=True)  # noqa: S108
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "campaign_detail.png"), full_page=True)

    page.goto(reverse("surveys:campaign_list"))
    expect(page.get_by_role("row", name="Lits disponibles — quotidien")).to_contain_text("Ouverte")
    assert Assignment.objects.filter(campaign=campaign, status="todo").count() == 2
