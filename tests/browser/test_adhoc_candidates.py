"""A curator opens, from the menu, the ad-hoc questions grouped for the dictionary, in a real
browser."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.accounts.factories import OrganisationFactory
from tests.browser.test_login_by_role import log_in
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.test_adhoc_groups import ask

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")  # noqa: S108


def test_a_curator_sees_ad_hoc_questions_to_rebind_or_to_define(page: Page, cast):
    SHOTS.mkdir(parents=True, exist_ok=True)
    DefinitionFactory(code="lits_rea_ouverts", label="Lits de réanimation ouverts")
    ask("Lits de reanimation ouverts", title="Capacités de réanimation")
    ask("Nombre de masques FFP2 en stock", title="Stocks DGOS")
    ask("nombre de masques ffp2 en stok", title="Stocks régionaux", owner=OrganisationFactory())

    log_in(page, cast.curator.email)
    page.get_by_role("link", name="Questions ad hoc").first.click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Questions ad hoc à rapprocher du dictionnaire"
    )
    expect(page.locator("#adhoc-summary")).to_contain_text("2 groupes, dont 1 à rebrancher")
    expect(page.get_by_text("à rebrancher sur « Lits de réanimation ouverts »")).to_be_visible()
    expect(page.get_by_role("link", name="Créer une définition")).to_be_visible()
    page.screenshot(path=str(SHOTS / "adhoc-candidates.png"), full_page=True)
