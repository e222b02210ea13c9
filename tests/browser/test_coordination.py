"""Coordination in a real browser: the DGOS reads the ARS's request and accepts it."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from surveys.models import CoordinationRequest
from tests.browser.test_login_by_role import log_in
from tests.surveys.test_coordination import _ask, world  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")  # noqa: S108


def test_the_dgos_accepts_a_coordination_request(page: Page, cast, world):  # noqa: F811
    request = _ask(world, cast)
    SHOTS.mkdir(parents=True, exist_ok=True)

    log_in(page, cast.national_requester.email)
    page.goto(reverse("surveys:coordination_list"))
    received = page.locator("#coordination-received")
    expect(received).to_contain_text("Capacités quotidiennes")
    expect(received).to_contain_text("En attente")
    received.get_by_role("link", name=re.compile("Ajouter à")).click()
    expect(page.locator("#coordination-definitions")).to_contain_text("Personnels absents")
    expect(page.locator("#coordination-definitions")).not_to_contain_text("Lits disponibles")
    page.screenshot(path=str(SHOTS / "overlap-coordination.png"), full_page=True)
    page.get_by_text("Accepter : ajouter ces questions").click()
    page.get_by_role("button", name="Enregistrer la décision").click()

    expect(page.get_by_text(re.compile("Demande acceptée : la version 2"))).to_be_visible()
    request.refresh_from_db()
    assert request.status == CoordinationRequest.Status.ACCEPTED
