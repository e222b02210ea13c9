"""A respondent sees the unread badge, opens the notification centre and marks all read."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from notifications.services import Recipient
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.notifications.helpers import notify_request

pytestmark = pytest.mark.browser


def test_a_user_with_two_unread_notifications_sees_the_badge_opens_the_centre_and_reads_all(
    page: Page, live_server, cast
):
    user = cast.hospital_respondent
    for number in (1, 2):
        notify_request(
            [Recipient(user=user)],
            dedup=f"campagne-{number}",
            subject=f"Nouvelle demande n° {number} : lits de réanimation",
        )
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, user.email)

    banner = page.get_by_role("banner")
    link = banner.get_by_role("link", name="Notifications (2 non lues)").first
    expect(link).to_be_visible()
    expect(link).to_contain_text("2")
    link.click()

    expect(page).to_have_url(live_server.url + reverse("notifications:inbox"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    items = page.get_by_role("list", name="Notifications, de la plus récente à la plus ancienne")
    expect(items.get_by_role("listitem")).to_have_count(2)
    expect(items.get_by_role("listitem").first).to_contain_text("Nouvelle demande n° 2")
    expect(page.get_by_text("Non lue", exact=True)).to_have_count(2)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "notifications.png", full_page=True)

    page.get_by_role("button", name="Tout marquer comme lu").click()

    expect(page.get_by_text("2 notification(s) marquée(s) comme lue(s).")).to_be_visible()
    expect(page.get_by_text("Aucune notification non lue.")).to_be_visible()
    expect(page.get_by_text("Non lue", exact=True)).to_have_count(0)
    expect(banner.get_by_role("link", name="Notifications", exact=True).first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "notifications_read.png", full_page=True)
    assert errors == []
