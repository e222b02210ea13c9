"""Issue #7, « Done when », in a real browser: never ask twice.

The DGOS sends a daily « capacités » campaign to every Ehpad. The ARS Île-de-France drafts a
weekly survey of its region's Ehpads asking two of the same definitions (beds available, a
stock; admissions, a flow) plus a new one (staff absent). Its sending page shows the overlap
with exact counts; the ARS chooses reuse and sends. An Ehpad of Paris, having answered the
DGOS every day of the week, is asked only the new question for that week and sees the two
others served from its DGOS answers (the last day's stock, the week's sum of the flow); the
ARS's results show all three.
"""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Role
from collection import values
from collection.models import Channel
from referentials.units import unit_for_establishment
from surveys.campaigns import periods_open_due
from surveys.models import Assignment, Campaign, CampaignReuse, OverlapChoice, SurveyVersion
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.browser.test_login_by_role import log_in
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import (
    CampaignFactory,
    QuestionFactory,
    SectionFactory,
    SurveyVersionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
SHOTS = Path("/tmp/shots")  # noqa: S108
NATIONAL_TITLE = "Capacités des Ehpad — quotidien"
WEEKLY_SURVEY = "Tensions hebdomadaires des Ehpad franciliens"
WEEKLY_TITLE = "Ehpad franciliens — hebdomadaire"
EHPAD_CATEGORY = "Etablissement d'hébergement pour personnes âgées dépendantes (500)"
# What the Ehpad Les Tilleuls answers the DGOS each day of the week (Monday first).
BEDS = [10, 11, 12, 13, 14, 15, 16]  # a stock: the week's value is Sunday's, 16
ADMISSIONS = [1, 2, 3, 4, 5, 6, 7]  # a flow: the week's value is the sum, 28


def _definitions():
    bounds = {"value_type": "integer", "minimum": Decimal(0), "maximum": Decimal(1000)}
    beds = DefinitionFactory(
        code="lits_disponibles",
        label="Lits disponibles",
        unit="lits",
        time_aggregation="stock",
        **bounds,
    )
    admissions = DefinitionFactory(
        code="admissions", label="Admissions", unit="résidents", time_aggregation="flow", **bounds
    )
    staff = DefinitionFactory(
        code="personnels_absents",
        label="Personnels absents",
        unit="agents",
        time_aggregation="stock",
        **bounds,
    )
    return beds, admissions, staff


def _survey(owner, title, definitions):
    version = SurveyVersionFactory(
        survey__owner=owner, title=title, status=SurveyVersion.Status.DRAFT
    )
    section = SectionFactory(version=version, title="Capacités")
    for definition in definitions:
        QuestionFactory(section=section, definition=definition, required=True)
    return version


def _ehpad(finess: str, name: str, postcode: str):
    return EstablishmentFactory(
        ehpad=True,
        finess=finess,
        name=name,
        postcode=postcode,
        territory_code=postcode[:2],
        finess_department=postcode[:2],
        region_code="11",
    )


def _respondent_of(establishment):
    organisation = OrganisationFactory(
        establishment=True,
        finess=establishment.finess,
        name=establishment.name,
        territory_code=establishment.territory_code,
        legal_entity_finess=establishment.legal_entity.finess,
    )
    user = UserFactory(email="direction@ehpad-les-tilleuls.fr")
    MembershipFactory(user=user, organisation=organisation, role=Role.RESPONDENT)
    return user


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"overlap-{name}.png"), full_page=True)


def _log_out(page: Page) -> None:
    page.context.clear_cookies()


def _answer_the_dgos_every_day(national, ehpad, respondent, monday) -> None:
    """The days of the week open one after the other (the beat, moved to Sunday), and the
    Ehpad answers each of them through the store's one write path."""
    sunday = monday + dt.timedelta(days=6)
    periods_open_due(campaign=national, now=dt.datetime.combine(sunday, dt.time(8), PARIS))
    unit = unit_for_establishment(ehpad)
    for offset, (beds, admissions) in enumerate(zip(BEDS, ADMISSIONS, strict=True)):
        day = monday + dt.timedelta(days=offset)
        assignment = Assignment.objects.get(
            campaign=national, unit=unit, period__key=day.isoformat()
        )
        outcome = values.submit(
            assignment,
            {"lits_disponibles": str(beds), "admissions": str(admissions)},
            channel=Channel.FORM,
            user=respondent,
            now=dt.datetime.combine(day, dt.time(18), PARIS),
        )
        assert outcome.applied, outcome.blocking


def test_the_ars_reuses_the_dgos_answers_and_an_ehpad_is_asked_only_the_new_question(
    page: Page, cast
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.now().astimezone(PARIS).date()
    monday = today - dt.timedelta(days=today.weekday())
    sunday = monday + dt.timedelta(days=6)
    week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
    beds, admissions, staff = _definitions()
    tilleuls = cast.paris_ehpad  # Ehpad Les Tilleuls, Paris
    _ehpad("920000718", "Ehpad Les Lilas", "92100")
    _ehpad("930001128", "Ehpad La Roseraie", "93100")
    respondent = _respondent_of(tilleuls)
    dgos = cast.national_requester.memberships.get().organisation
    ars = cast.ars_idf_agent.memberships.get().organisation

    # 1. The DGOS sends its daily campaign to every Ehpad (the three of Île-de-France and the
    # Ehpad of Cayenne): nothing else asks this, the sending page is a plain confirmation.
    national = CampaignFactory(
        version=_survey(dgos, "Capacités des Ehpad", [beds, admissions]),
        title=NATIONAL_TITLE,
        status=Campaign.Status.DRAFT,
        opened_at=None,
        frequency="daily",
        period_kind="day",
        start_date=monday,
        end_date=sunday + dt.timedelta(days=14),
        due_time=dt.time(23, 30),
        audience_filters={"categories": ["500"]},
    )
    log_in(page, cast.national_requester.email)
    page.goto(reverse("surveys:campaign_detail", kwargs={"pk": national.pk}))
    page.get_by_role("link", name="Envoyer maintenant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chevauchements et envoi")
    expect(page.locator("#no-overlap")).to_contain_text("Aucun chevauchement")
    expect(page.get_by_role("row", name="Destinataires 4")).to_be_visible()
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.get_by_text("Campagne envoyée à 4 destinataires.")).to_be_visible()
    national.refresh_from_db()
    assert national.overlap_choice == OverlapChoice.NONE
    _log_out(page)

    # 2. The ARS drafts a weekly campaign of its survey (the two definitions plus a new one)
    # for this week, and targets its region's Ehpads.
    weekly_survey = _survey(ars, WEEKLY_SURVEY, [beds, admissions, staff])
    log_in(page, cast.ars_idf_agent.email)
    page.get_by_role("link", name="Campagnes").first.click()
    page.get_by_role("link", name="Nouvelle campagne").click()
    page.get_by_label("Enquête").select_option(str(weekly_survey.survey_id))
    page.get_by_label("Titre de la campagne").fill(WEEKLY_TITLE)
    page.get_by_label("Fréquence", exact=True).select_option("weekly")
    page.get_by_label("Début (première période)").fill(today.isoformat())
    page.get_by_label("Fin (dernière période)").fill(sunday.isoformat())
    page.get_by_label("Heure limite (heure de Paris)").fill("23:30")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(WEEKLY_TITLE)
    page.get_by_role("link", name="choisir l'audience").click()
    page.locator("#checkboxes-id_categories label", has_text=EHPAD_CATEGORY).click()
    page.locator("#checkboxes-id_regions label", has_text="Île-de-France (11)").click()
    expect(page.locator("#audience-count")).to_contain_text("3 établissements dans l'audience")
    page.get_by_role("button", name="Enregistrer l'audience").click()
    expect(page.locator(".fr-alert--success")).to_contain_text("Audience enregistrée")

    # 3. « Envoyer maintenant » leads to the sending page: the overlap, counted exactly.
    page.get_by_role("link", name="Campagnes").first.click()
    page.get_by_role("link", name=WEEKLY_TITLE).click()
    page.get_by_role("link", name="Envoyer maintenant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chevauchements et envoi")
    counts = page.locator("#overlap-counts")
    # 3 Ehpads x 3 definitions x 1 week; the DGOS asks the stock and the flow every day.
    expect(counts.get_by_role("row", name="Cellules demandées")).to_contain_text("9")
    expect(counts.get_by_role("row", name="Déjà demandées par une autre campagne")).to_contain_text(
        "6"
    )
    expect(counts.get_by_role("row", name="Déjà dans l'entrepôt de valeurs")).to_contain_text("0")
    expect(counts.get_by_role("row", name="Vraiment nouvelles")).to_contain_text("3")
    other = page.locator("#overlap-campaigns tbody tr")
    expect(other).to_have_count(1)
    cells = other.locator("td")
    expect(cells.nth(0)).to_contain_text(NATIONAL_TITLE)
    expect(cells.nth(1)).to_have_text(str(dgos))
    expect(cells.nth(2)).to_contain_text("lits_disponibles")
    expect(cells.nth(2)).to_contain_text("admissions")
    expect(cells.nth(2)).not_to_contain_text("personnels_absents")
    expect(cells.nth(3)).to_have_text("3")  # establishments in common
    expect(cells.nth(4)).to_have_text(week)
    expect(cells.nth(5)).to_have_text("6")
    by_definition = page.locator("#overlap-definitions")
    for code, figures in {
        "lits_disponibles": ["3", "3", "0", "0"],
        "admissions": ["3", "3", "0", "0"],
        "personnels_absents": ["3", "0", "0", "3"],
    }.items():
        row = by_definition.get_by_role("row", name=re.compile(code))
        expect(row.locator("td")).to_have_text([*figures, re.compile(".")])
    _shot(page, "page")

    # 4. Reuse, and send.
    page.get_by_text("Réutiliser les valeurs déjà demandées").click()
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.get_by_text("Campagne envoyée à 3 destinataires.")).to_be_visible()
    expect(page.locator("#campaign-status")).to_have_text("Ouverte")
    weekly = Campaign.objects.get(title=WEEKLY_TITLE)
    assert weekly.overlap_choice == OverlapChoice.REUSE
    assert sorted(
        CampaignReuse.objects.filter(campaign=weekly).values_list("definition__code", "source")
    ) == [("admissions", national.pk), ("lits_disponibles", national.pk)]
    _log_out(page)

    # 5. The Ehpad answers the DGOS every day of the week.
    _answer_the_dgos_every_day(national, tilleuls, respondent, monday)

    # 6. Its weekly request asks only the new question; the two others are served.
    assignment = Assignment.objects.get(campaign=weekly, unit=unit_for_establishment(tilleuls))
    assert assignment.period.key == week
    log_in(page, respondent.email)
    page.goto(reverse("collection:assignment_form", kwargs={"pk": assignment.pk}))
    expect(page.get_by_role("heading", level=1)).to_have_text(WEEKLY_TITLE)
    asked = page.locator("#q-personnels_absents")
    expect(asked).to_be_editable()
    # Served: shown with their value, read-only, with where they come from.
    for code, value in (("lits_disponibles", "16"), ("admissions", "28")):
        served = page.locator(f"#q-{code}")
        expect(served).to_have_value(value)
        expect(served).not_to_be_editable()
    expect(page.get_by_text(re.compile("Somme des 7 valeurs journalières"))).to_be_visible()
    expect(page.get_by_text(re.compile("Dernière valeur journalière"))).to_be_visible()
    _shot(page, "ehpad-form")
    asked.fill("4")
    page.get_by_role("button", name="Transmettre", exact=True).click()
    expect(page.get_by_text("Vos réponses ont été transmises")).to_be_visible()
    _log_out(page)

    # 7. The ARS's results show all three, the served ones read from the store.
    log_in(page, cast.ars_idf_agent.email)
    page.goto(reverse("collection:campaign_results", kwargs={"pk": weekly.pk}))
    table = page.locator("#results-table")
    expect(table).to_contain_text("Lits disponibles")
    expect(table).to_contain_text("Admissions")
    expect(table).to_contain_text("Personnels absents")
    total = table.get_by_role("row", name=re.compile("^Ensemble"))
    expect(total.locator("td").nth(0)).to_contain_text("16")
    expect(total.locator("td").nth(1)).to_contain_text("28")
    expect(total.locator("td").nth(2)).to_contain_text("4")
    _shot(page, "ars-results")
