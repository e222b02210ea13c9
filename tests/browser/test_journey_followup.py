"""Issue #9, end to end in a real browser: an ARS Île-de-France requester follows a daily
campaign, exports the late list, queries an outlier; the Ehpad corrects it; the requester
exports the results to XLSX with its codebook; the open-data CSV hides every small count; the
Ehpad sees its figures beside its department's."""

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import Organisation, Role
from collection.models import Value, ValueQuery
from referentials.units import unit_for_establishment
from tests.accounts.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.browser.test_login_by_role import log_in
from tests.collection import quality_setup as setup
from tests.referentials.factories import EstablishmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108 (where the brief asks for them)
TITLE = "Lits occupés en Ehpad — quotidien"


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"journey9-{name}.png", full_page=True)


def _world(cast):
    """An ARS Île-de-France campaign over 14 Paris Ehpads: 12 answered today (the Tilleuls far
    below its own history), 2 late since yesterday; a respondent for the Tilleuls."""
    occupied, _ = setup.definitions()
    ars = Organisation.objects.get(memberships__user=cast.ars_idf_agent)
    campaign = setup.campaign(ars, title=TITLE, definition=occupied)
    today = timezone.localdate()
    ehpads = [cast.paris_ehpad] + [
        EstablishmentFactory(
            ehpad=True,
            finess=f"7500{n:05d}",
            name=f"Ehpad Paris {n}",
            territory_code="75",
            region_code="11",
        )
        for n in range(1, 14)
    ]
    for index, ehpad in enumerate(ehpads):
        unit = unit_for_establishment(ehpad)
        if index >= 12:
            setup.assignment(campaign, ehpad, day=today - dt.timedelta(days=1))
            continue
        base = 30 if ehpad == cast.paris_ehpad else 20 + index
        setup.history(unit, occupied, [base, base + 1, base, base - 1, base])
        setup.answered(campaign, ehpad, occupied, 3 if ehpad == cast.paris_ehpad else base)
    organisation = OrganisationFactory(
        establishment=True,
        finess=cast.paris_ehpad.finess,
        name=cast.paris_ehpad.name,
        territory_code="75",
        legal_entity_finess=cast.paris_ehpad.legal_entity.finess,
    )
    respondent = UserFactory(email="direction@ehpad-les-tilleuls.fr")
    MembershipFactory(user=respondent, organisation=organisation, role=Role.RESPONDENT)
    return campaign, respondent


def _download(page: Page, click) -> bytes:
    with page.expect_download() as info:
        click()
    return Path(info.value.path()).read_bytes()


def test_an_ars_requester_follows_queries_exports_and_the_ehpad_corrects_and_compares(
    cast, page: Page, browser: Browser, live_server
):
    campaign, respondent = _world(cast)
    tilleuls = Value.objects.get(
        unit__establishment=cast.paris_ehpad,
        period_key__isnull=False,
        period_start=timezone.localdate(),
    )

    # The requester follows the campaign and exports the late list.
    log_in(page, cast.ars_idf_agent.email)
    page.goto(reverse("collection:campaign_followup", kwargs={"pk": campaign.pk}))
    expect(page.locator("#late-table")).to_contain_text("Ehpad Paris 12")
    _shot(page, "followup")
    page.goto(reverse("collection:export_create", kwargs={"pk": campaign.pk}))
    page.get_by_label("Établissements en retard, avec leurs contacts").check(force=True)
    page.get_by_label("CSV (UTF-8, séparateur « ; », virgule décimale)").check(force=True)
    late = _download(page, lambda: page.get_by_role("button", name="Exporter").click())
    late_text = late.decode("utf-8-sig")
    assert "Ehpad Paris 12" in late_text and "Ehpad Paris 13" in late_text
    assert "Ehpad Paris 3" not in late_text

    # It queries the outlier from the quality page.
    page.goto(reverse("collection:campaign_quality", kwargs={"pk": campaign.pk}))
    row = page.locator("#quality-table tbody tr", has_text=cast.paris_ehpad.name)
    expect(row).to_contain_text("Écart réduit élevé (z-score)")
    expect(page.locator("#quality-table tbody tr")).to_have_count(1)
    _shot(page, "quality")
    row.get_by_role("link", name="Questionner").click()
    page.get_by_label("Votre question à l'établissement").fill(
        "3 lits occupés contre 30 d'habitude : pouvez-vous vérifier ?"
    )
    page.get_by_role("button", name="Envoyer la question").click()
    expect(page.locator(".fr-alert--success, .fr-alert")).to_contain_text("Question envoyée")
    assert ValueQuery.objects.get().value == tilleuls

    # The Ehpad sees the query in its inbox and corrects the value.
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    ehpad = context.new_page()
    log_in(ehpad, respondent.email)
    ehpad.goto(reverse("collection:inbox"))
    expect(ehpad.locator("#open-queries")).to_contain_text("1 en attente de réponse")
    ehpad.get_by_role("link", name="Questions sur vos valeurs").click()
    ehpad.locator("#queries-to-answer").get_by_role("link", name="Répondre").click()
    ehpad.get_by_label("Valeur corrigée").fill("31")
    ehpad.get_by_label("Raison de la correction").fill("Erreur de saisie : 31 lits occupés.")
    ehpad.get_by_role("button", name="Enregistrer la correction").click()
    _shot(ehpad, "corrected")
    expect(ehpad.locator("#current-value")).to_contain_text("31")
    _shot(ehpad, "corrected")
    tilleuls.refresh_from_db()
    # Revisions: declared, put in question (same data), corrected.
    assert (tilleuls.data, tilleuls.revision_count) == ("31", 3)

    # The requester exports the results to XLSX, with its codebook.
    page.goto(reverse("collection:export_create", kwargs={"pk": campaign.pk}))
    page.get_by_label("Valeurs, une ligne par valeur (format long)").check(force=True)
    page.get_by_label("Excel (XLSX), avec une feuille « Dictionnaire »").check(force=True)
    xlsx = _download(page, lambda: page.get_by_role("button", name="Exporter").click())
    book = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)
    codebook = [list(r) for r in book["Dictionnaire"].iter_rows(values_only=True)]
    assert any("lits_occupes" in row and "Lits occupés" in row for row in codebook)
    data = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    tilleuls_rows = [r for r in data if cast.paris_ehpad.name in r]
    assert tilleuls_rows and any(v in (31, "31", 31.0) for v in tilleuls_rows[0])

    # The open-data CSV hides every count under the threshold.
    page.goto(reverse("collection:open_data", kwargs={"pk": campaign.pk}))
    _shot(page, "open-data")
    opened = _download(
        page, lambda: page.get_by_role("link", name="Télécharger les données (CSV)").click()
    )
    rows = list(csv.DictReader(io.StringIO(opened.decode("utf-8"))))
    assert rows
    for row in rows:
        count = int(row["nombre_etablissements"] or 0)
        if count < 11:
            assert row["valeur"] == "" and row["secret"].lower() == "true", row

    # The Ehpad sees its figures beside its department's.
    ehpad.goto(reverse("collection:my_data"))
    expect(ehpad.locator("main")).to_contain_text("département")
    _shot(ehpad, "my-data")
    context.close()
