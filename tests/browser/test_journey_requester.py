"""Issue #5, end to end in a real browser: an ARS Île-de-France requester builds a survey (one
question of the dictionary, one ad-hoc question), creates a daily campaign from it, targets every
Ehpad of Île-de-France, sends it and finds it in the register. Then the database: one assignment
per targeted establishment and opened period, the version frozen."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from referentials.models import Establishment
from surveys.campaigns import campaigns_tick
from surveys.models import Assignment, Campaign, Question, SurveyVersion
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.referentials.factories import EstablishmentFactory
from tests.referentials.factories_dictionary import DefinitionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
SURVEY_TITLE = "Tensions dans les Ehpad franciliens"
CAMPAIGN_TITLE = "Tensions en Ehpad — quotidien"
DAYS = 5
EHPAD_CATEGORY = "Etablissement d'hébergement pour personnes âgées dépendantes (500)"


def _establishment(finess: str, name: str, postcode: str, city: str, **extra) -> int:
    department = postcode[:2]
    return EstablishmentFactory(
        finess=finess,
        name=name,
        postcode=postcode,
        city=city,
        territory_code=department,
        finess_department=department,
        **{"region_code": "11", **extra},
    ).pk


def _directory(cast) -> tuple[set[int], set[int]]:
    """The directory rows: the ids of the open Ehpads of Île-de-France (the expected audience),
    and of the establishments that must stay out of it."""
    targeted = {
        cast.paris_ehpad.pk,  # Ehpad Les Tilleuls, Paris (75)
        _establishment("920000718", "Ehpad Les Lilas", "92100", "BOULOGNE-BILLANCOURT", ehpad=True),
        _establishment("930001128", "Ehpad La Roseraie", "93100", "MONTREUIL", ehpad=True),
        _establishment("940001134", "Ehpad Le Parc", "94300", "VINCENNES", ehpad=True),
        _establishment("770001147", "Ehpad Les Coteaux", "77000", "MELUN", ehpad=True),
        _establishment("950001172", "Ehpad Val d'Oise", "95000", "CERGY", ehpad=True),
    }
    outside = {
        # An Ehpad of Lyon: another region, outside this ARS's scope.
        _establishment(
            "690001193", "Ehpad du Rhône", "69003", "LYON", ehpad=True, region_code="84"
        ),
        # A hospital of Île-de-France: not an Ehpad.
        _establishment("920001203", "Hôpital Foch", "92150", "SURESNES"),
        # A closed Ehpad of Île-de-France: only open establishments are asked.
        _establishment(
            "780001152",
            "Ehpad fermé des Yvelines",
            "78000",
            "VERSAILLES",
            ehpad=True,
            status=Establishment.Status.CLOSED,
        ),
        cast.paris_hospital.pk,
        cast.cayenne_ehpad.pk,  # an Ehpad of Guyane
    }
    return targeted, outside


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"journey_{name}.png"), full_page=True)


def _assigned_establishments(campaign: Campaign, period_key: str) -> list[int]:
    return sorted(
        Assignment.objects.filter(campaign=campaign, period__key=period_key).values_list(
            "unit__establishment_id", flat=True
        )
    )


def test_an_ars_requester_builds_targets_sends_and_registers_a_daily_campaign(page: Page, cast):
    targeted, outside = _directory(cast)
    audience = len(targeted)  # 5 created + the cast's Ehpad Les Tilleuls (75)
    DefinitionFactory(
        code="residents_covid_positifs",
        label="Résidents testés positifs au Covid-19",
        doctrine="Résidents présents dont le dernier test (PCR ou antigénique) est positif.",
        unit="résidents",
    )
    DefinitionFactory(code="lits_medecine", label="Lits de médecine")
    today = timezone.now().astimezone(PARIS).date()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, cast.ars_idf_agent.email)

    # 1. The survey: its presentation, then a question of the dictionary, then an ad-hoc one.
    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_role("link", name="Nouveau questionnaire").click()
    page.get_by_label("Titre").fill(SURVEY_TITLE)
    page.get_by_label("Finalité").fill(
        "Suivre chaque jour les cas de Covid-19 et les absences de personnel dans les Ehpad."
    )
    page.get_by_label("Base légale").select_option("public_interest")
    page.get_by_role("button", name="Créer le questionnaire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(SURVEY_TITLE)

    page.get_by_role("link", name=re.compile("Ajouter une question")).click()
    page.get_by_label("Définition recherchée").press_sequentially("residents positifs", delay=30)
    results = page.locator("#definition-results")
    expect(results).to_contain_text("Résidents testés positifs au Covid-19")
    expect(results).not_to_contain_text("Lits de médecine")
    results.get_by_role("link", name=re.compile("Choisir cette définition")).click()
    expect(page.locator("#picked-definition")).to_contain_text("dernier test (PCR")
    page.get_by_label("Réponse obligatoire").check(force=True)
    page.get_by_role("button", name="Ajouter la question").click()
    expect(
        page.get_by_role("row", name=re.compile("Résidents testés positifs au Covid-19"))
    ).to_be_visible()

    page.get_by_role("link", name=re.compile("Ajouter une question")).click()
    page.get_by_label("Libellé de la question").fill("Personnels absents ce jour")
    page.get_by_label("Type de valeur").select_option("integer")
    page.get_by_role("button", name="Ajouter la question").click()
    expect(page.get_by_role("row", name=re.compile("Personnels absents ce jour"))).to_be_visible()
    expect(page.get_by_role("heading", name="Questions (2)")).to_be_visible()
    _shot(page, "builder")

    # 2. A daily campaign of that survey, from today for five days, due at 23:30 each day.
    survey_id = SurveyVersion.objects.get(title=SURVEY_TITLE).survey_id
    page.get_by_role("link", name="Campagnes").first.click()
    page.get_by_role("link", name="Nouvelle campagne").click()
    page.get_by_label("Enquête").select_option(str(survey_id))
    page.get_by_label("Titre de la campagne").fill(CAMPAIGN_TITLE)
    page.get_by_label("Fréquence", exact=True).select_option("daily")
    page.get_by_label("Début (première période)").fill(today.isoformat())
    page.get_by_label("Fin (dernière période)").fill(
        (today + dt.timedelta(days=DAYS - 1)).isoformat()
    )
    page.get_by_label("Heure limite (heure de Paris)").fill("23:30")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CAMPAIGN_TITLE)
    expect(page.locator("#campaign-status")).to_have_text("Brouillon")
    expect(page.locator("#audience-size")).to_have_text("0")
    _shot(page, "campaign_draft")

    # 3. The audience: every Ehpad of Île-de-France, counted live as the boxes are ticked.
    page.get_by_role("link", name="choisir l'audience").click()
    count = page.locator("#audience-count")
    expect(count).to_contain_text("0 établissement dans l'audience")
    page.locator("#checkboxes-id_categories label", has_text=EHPAD_CATEGORY).click()
    page.locator("#checkboxes-id_regions label", has_text="Île-de-France (11)").click()
    expect(count).to_contain_text(f"{audience} établissements dans l'audience")
    sample = page.locator("#audience-sample")
    expect(sample).to_contain_text("Ehpad Les Lilas")
    expect(sample).not_to_contain_text("Ehpad du Rhône")
    expect(sample).not_to_contain_text("Hôpital Foch")
    expect(sample).not_to_contain_text("Ehpad fermé des Yvelines")
    _shot(page, "audience")
    page.get_by_role("button", name="Enregistrer l'audience").click()
    expect(page.locator(".fr-alert--success")).to_contain_text(
        f"Audience enregistrée : {audience} établissements."
    )

    # 4. Send, after the confirmation page has said what the sending will do.
    page.get_by_role("link", name="Campagnes").first.click()
    page.get_by_role("link", name=CAMPAIGN_TITLE).click()
    expect(page.locator("#audience-size")).to_have_text(str(audience))
    page.get_by_role("link", name="Envoyer maintenant").click()
    summary = page.locator("#send-summary")
    expect(summary.get_by_role("row", name=re.compile("Destinataires"))).to_contain_text(
        str(audience)
    )
    expect(page.get_by_role("row", name=f"Demandes créées {audience}")).to_be_visible()
    _shot(page, "send_confirm")
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.get_by_text(f"Campagne envoyée à {audience} destinataires.")).to_be_visible()
    expect(page.locator("#campaign-status")).to_have_text("Ouverte")
    first_row = page.locator("#period-table tbody tr").first
    expect(first_row.locator("th")).to_have_text(today.isoformat())
    expect(first_row.locator("td").nth(1)).to_have_text(str(audience))  # « À faire »
    _shot(page, "campaign_open")

    # 5. The register: the campaign, its audience, its questions and its burden.
    page.get_by_role("link", name="Registre", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registre des collectes")
    row = page.locator("#register-table tbody tr", has_text=CAMPAIGN_TITLE)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{audience} établissements")
    expect(row).to_contain_text("residents_covid_positifs")
    expect(row).to_contain_text("+ 1 question libre")
    expect(row).to_contain_text("Ouverte")
    expect(row).to_contain_text(f"{audience * 2} par période")
    expect(row).to_contain_text(f"{audience * 2 * DAYS} au total")
    _shot(page, "register")

    # 6. The database: what the pages said is what was written.
    campaign = Campaign.objects.select_related("version").get(title=CAMPAIGN_TITLE)
    assert campaign.status == Campaign.Status.OPEN
    assert campaign.audience_size == audience
    assert campaign.audience_filters == {"categories": ["500"], "regions": ["11"]}
    assert campaign.version.is_frozen
    assert campaign.version.frozen_at is not None
    questions = list(Question.objects.filter(version=campaign.version))
    assert len(questions) == 2
    assert sorted(q.definition is not None for q in questions) == [False, True]
    assert {q.definition.code for q in questions if q.definition} == {"residents_covid_positifs"}

    assert list(campaign.periods.values_list("key", flat=True)) == [today.isoformat()]
    assert _assigned_establishments(campaign, today.isoformat()) == sorted(targeted)
    assigned = set(
        Assignment.objects.filter(campaign=campaign).values_list(
            "unit__establishment_id", flat=True
        )
    )
    assert not assigned & outside
    assert Assignment.objects.filter(campaign=campaign, status="todo").count() == audience

    # Tomorrow morning the beat opens the next period, for the same establishments.
    tomorrow = today + dt.timedelta(days=1)
    counts = campaigns_tick(now=dt.datetime.combine(tomorrow, dt.time(8, 0), tzinfo=PARIS))
    assert counts["assignments"] == audience
    assert sorted(campaign.periods.values_list("key", flat=True)) == [
        today.isoformat(),
        tomorrow.isoformat(),
    ]
    assert Assignment.objects.filter(campaign=campaign).count() == 2 * audience
    assert _assigned_establishments(campaign, tomorrow.isoformat()) == sorted(targeted)
    # The first day's answers, due at 23:30 that day, are now late; the new ones are to do.
    first_day = Assignment.objects.filter(campaign=campaign, period__key=today.isoformat())
    assert first_day.filter(status="late").count() == audience
    second_day = Assignment.objects.filter(campaign=campaign, period__key=tomorrow.isoformat())
    assert second_day.filter(status="todo").count() == audience
