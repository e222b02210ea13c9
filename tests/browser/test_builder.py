"""A national requester builds a survey in a real browser: a question found in the dictionary by
typing (with a typo), an ad-hoc question, then the preview as respondents will see it."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.referentials.factories_dictionary import DefinitionFactory

pytestmark = pytest.mark.browser


def test_a_national_requester_builds_a_survey_and_previews_it(page: Page, live_server, cast):
    DefinitionFactory(
        code="lits_rea_ouverts",
        label="Lits de réanimation ouverts",
        doctrine="Lits installés et armés en personnel, occupés ou non.",
        unit="lits",
    )
    DefinitionFactory(code="lits_medecine", label="Lits de médecine")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, cast.national_requester.email)

    page.get_by_role("link", name="Questionnaires").first.click()
    page.get_by_role("link", name="Nouveau questionnaire").click()
    page.get_by_label("Titre").fill("Capacités de réanimation")
    page.get_by_label("Finalité").fill("Suivre les capacités de réanimation pendant l'épidémie.")
    page.get_by_label("Base légale").select_option("public_interest")
    page.get_by_role("button", name="Créer le questionnaire").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Capacités de réanimation")

    # A question of the dictionary, found by typing with a typo.
    page.get_by_role("link", name=re.compile("Ajouter une question")).click()
    page.get_by_label("Définition recherchée").press_sequentially("reanimtion", delay=30)
    results = page.locator("#definition-results")
    expect(results).to_contain_text("Lits de réanimation ouverts")
    expect(results).not_to_contain_text("Lits de médecine")
    page.screenshot(path=str(SCREENSHOTS / "builder_search.png"), full_page=True)
    results.get_by_role("link", name=re.compile("Choisir cette définition")).click()
    expect(page.locator("#picked-definition")).to_contain_text("Lits installés et armés")
    page.get_by_label("Réponse obligatoire").check(force=True)
    page.get_by_role("button", name="Ajouter la question").click()
    expect(page.get_by_role("row", name=re.compile("Lits de réanimation ouverts"))).to_be_visible()

    # An ad-hoc question: typing its label suggests the dictionary's closest definitions.
    page.get_by_role("link", name=re.compile("Ajouter une question")).click()
    page.get_by_label("Libellé de la question").press_sequentially(
        "Lits de réanimation armés", delay=20
    )
    expect(page.locator("#similar-definitions")).to_contain_text(
        "Utiliser cette définition à la place"
    )
    page.get_by_label("Libellé de la question").fill("Respirateurs disponibles")
    page.get_by_label("Type de valeur").select_option("integer")
    page.get_by_label("Condition d'affichage").fill("lits_rea_ouverts > 0")
    page.get_by_role("button", name="Ajouter la question").click()
    expect(page.get_by_role("row", name=re.compile("Respirateurs disponibles"))).to_be_visible()

    page.screenshot(path=str(SCREENSHOTS / "builder_editor.png"), full_page=True)

    # The preview: the respondents' form; the conditional question waits for its trigger.
    page.get_by_role("link", name="Aperçu").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Aperçu")
    expect(page.get_by_label(re.compile("Lits de réanimation ouverts"))).to_be_visible()
    expect(page.get_by_text("Lits installés et armés en personnel")).to_be_visible()
    page.get_by_label(re.compile("Lits de réanimation ouverts")).fill("12")
    expect(page.get_by_label(re.compile("Respirateurs disponibles"))).to_be_visible()
    page.screenshot(path="/tmp/builder.png", full_page=True)  # noqa: S108 (to look at)
    page.screenshot(path=str(SCREENSHOTS / "builder_preview.png"), full_page=True)
