"""A requester sees, before sending, who nobody would tell; sends; reads the delivery log."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.surveys.test_notices import contact, new_campaign

pytestmark = pytest.mark.browser


def test_a_requester_is_warned_sends_and_reads_the_delivery_log(page: Page, live_server, cast):
    contact(cast.paris_hospital, "crise@pitie.fr")
    campaign = new_campaign(cast, cast.paris_hospital, cast.ain_hospital)
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, cast.national_requester.email)

    page.goto(live_server.url + reverse("surveys:campaign_send", kwargs={"pk": campaign.pk}))
    warning = page.locator("#silent-establishments")
    expect(warning.get_by_role("heading", level=2)).to_have_text(
        "1 établissement ne recevra aucun message"
    )
    expect(warning).to_contain_text("CH de Fleyriat (010000024)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "notices_send.png", full_page=True)
    page.get_by_role("button", name="Envoyer", exact=True).click()

    expect(page).to_have_url(
        live_server.url + reverse("surveys:campaign_detail", kwargs={"pk": campaign.pk})
    )
    expect(page.get_by_role("heading", name="Journal des envois")).to_be_visible()
    log = page.get_by_role("table", name="Messages envoyés pour cette campagne")
    expect(log.get_by_role("row")).to_have_count(3)  # header + two addresses
    expect(log).to_contain_text("crise@pitie.fr")
    expect(log).to_contain_text(cast.hospital_respondent.email)
    page.screenshot(path=SCREENSHOTS / "notices.png", full_page=True)
    assert errors == []
