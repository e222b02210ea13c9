"""A curator finds the establishments nobody would be told about, filters them, and goes to
one's contacts page, in a real browser."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.test_login_by_role import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")  # noqa: S108


def test_a_curator_lists_filters_and_opens_an_establishment_without_contact(page: Page, cast):
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, cast.curator.email)
    page.goto(reverse("referentials:curation_proposal_list"))
    page.get_by_role("link", name="Établissements sans aucun contact ni répondant").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Établissements sans contact")
    expect(page.locator("#missing-count")).to_contain_text("5 établissements sans contact sur 8")
    page.screenshot(path=str(SHOTS / "contacts-missing.png"), full_page=True)

    page.get_by_label("Département ou territoire").select_option("977")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("#missing-count")).to_contain_text("1 établissement sans contact sur 1")
    expect(page.locator("#missing-list tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Ajouter un contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts de l'établissement")
    expect(page.locator(".fr-text--lead")).to_contain_text("PMI Saint-Barthélemy")
