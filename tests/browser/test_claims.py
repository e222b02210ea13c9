"""A health professional without membership links their account to their RPPS identity."""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import ProfessionalClaim
from tests.browser.test_login_by_role import log_in
from tests.referentials.factories import ProfessionalActivityFactory

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_a_professional_asks_for_their_rpps_identity_from_the_home_page(page: Page, cast):
    ProfessionalActivityFactory(
        professional__national_id="810000000041",
        professional__rpps="10000000041",
        professional__last_name="PETIT",
    )
    log_in(page, cast.outsider.email)
    page.get_by_role(
        "link",
        name="Vous êtes professionnel de santé ? Rattachez votre compte à votre identité RPPS",
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rattacher mon compte à mon identité RPPS"
    )
    page.get_by_label("Numéro RPPS").fill("10000000042")
    page.get_by_role("button", name="Demander le rattachement").click()
    expect(page.locator(".fr-error-text")).to_contain_text("n'est pas un numéro RPPS valide")
    page.get_by_label("Numéro RPPS").fill("100 000 000 41")
    page.get_by_label("Message au gestionnaire").fill("Infirmière libérale à Bobigny")
    page.get_by_role("button", name="Demander le rattachement").click()
    expect(page.get_by_text("Demande en attente de vérification")).to_be_visible()
    page.screenshot(path="/tmp/claims.png", full_page=True)  # noqa: S108 - asked for here
    claim = ProfessionalClaim.objects.get(user=cast.outsider)
    assert (claim.rpps, claim.status) == ("10000000041", "pending")
