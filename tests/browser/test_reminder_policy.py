"""A requester sets the reminder policy (« Relances ») on the campaign form, in a real browser:
a value out of bounds is refused with what to type, then the campaign page shows the policy."""

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from surveys.models import Campaign
from tests.browser.test_login_by_role import log_in
from tests.surveys.factories import QuestionFactory, SectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")  # noqa: S108


def test_a_requester_sets_the_reminders_of_a_campaign(page: Page, cast, national_org):
    section = SectionFactory(
        title="Capacités",
        version__survey__owner=national_org,
        version__status="draft",
        version__title="Lits disponibles",
    )
    QuestionFactory(section=section)
    today = timezone.localdate()
    SHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, cast.national_requester.email)
    page.goto(reverse("surveys:campaign_create") + f"?enquete={section.version.survey.pk}")
    page.get_by_label("Titre de la campagne").fill("Lits disponibles — hebdomadaire")
    page.get_by_label("Fréquence", exact=True).select_option("weekly")
    page.get_by_label("Début (première période)").fill(today.isoformat())
    page.get_by_label("Fin (dernière période)").fill((today + dt.timedelta(days=60)).isoformat())

    relances = page.get_by_role("group", name="Relances")
    expect(relances).to_be_visible()
    # The defaults of the policy are there before anything is typed.
    expect(relances.get_by_label("Relance avant l'échéance (jours)")).to_have_value("2")
    expect(relances.get_by_label("Relance le matin de l'échéance")).to_be_checked()
    relances.get_by_label("Relance avant l'échéance (jours)").fill("45")
    relances.get_by_label("Relance après l'échéance (jours)").fill("3")
    relances.get_by_label("Signalement du retard à l'ARS (jours)").fill("1")
    relances.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "reminders-form.png"), full_page=True)
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    relances = page.get_by_role("group", name="Relances")
    expect(relances).to_contain_text("entre 0 (aucune) et 30")
    expect(relances).to_contain_text("saisissez au moins 3")
    assert not Campaign.objects.exists()
    relances.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "reminders-errors.png"), full_page=True)

    relances.get_by_label("Relance avant l'échéance (jours)").fill("4")
    # The DSFR draws the box on the label, which takes the click.
    relances.locator("label[for='id_remind_on_due_day']").click()
    expect(relances.get_by_label("Relance le matin de l'échéance")).not_to_be_checked()
    relances.get_by_label("Signalement du retard à l'ARS (jours)").fill("5")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lits disponibles — hebdomadaire")
    expect(page.locator("#reminder-policy")).to_have_text(
        "4 jours avant l'échéance, 3 jours après, à ceux qui n'ont pas répondu ; "
        "retard signalé à l'ARS au-delà de 5 jours"
    )
    page.screenshot(path=str(SHOTS / "reminders-detail.png"), full_page=True)
    campaign = Campaign.objects.get()
    assert (
        campaign.remind_days_before,
        campaign.remind_on_due_day,
        campaign.remind_days_after,
        campaign.escalate_after_days,
    ) == (4, False, 3, 5)
