"""Every role logs in through the real form, in a real browser, and lands on its own page."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.accounts.factories import PASSWORD
from tests.conftest import ROLES

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"

# Where each role lands after logging in; None is the "no membership" page served at "/".
LANDING_URL_NAME = {
    "national_requester": "surveys:campaign_list",
    "ars_idf_agent": "surveys:campaign_list",
    "ars_guadeloupe_agent": "surveys:campaign_list",
    "ehpad_respondent": "collection:inbox",
    "hospital_respondent": "collection:inbox",
    "legal_entity_respondent": "collection:inbox",
    "curator": "referentials:establishment_list",
    "outsider": None,
    # A professional whose RPPS identity a curator verified answers for themself.
    "professional": "collection:inbox",
}
LOGGED_IN_ROLES = [role for role in ROLES if role != "anonymous"]


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Open the service, get sent to the login page, and submit the form as a person would."""
    page.goto("/")
    expect(page).to_have_url(re.compile(re.escape(reverse("accounts:login"))))
    # Not exact: the DSFR appends an aria-hidden " *" to the labels of required fields.
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def test_the_landing_table_covers_every_logged_in_role():
    assert set(LANDING_URL_NAME) == set(LOGGED_IN_ROLES)


@pytest.mark.parametrize("role", LOGGED_IN_ROLES)
def test_each_role_logs_in_through_the_form_and_lands_on_its_own_page(
    page: Page, live_server, cast, role
):
    url_name = LANDING_URL_NAME[role]
    expected_path = reverse(url_name) if url_name else "/"

    log_in(page, cast.user(role).email)

    expect(page).to_have_url(live_server.url + expected_path)
    assert path_of(page) == expected_path
    if url_name is None:
        expect(page.get_by_role("main")).to_contain_text("n'est rattaché à aucune organisation")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{role}.png", full_page=True)


def test_a_wrong_password_shows_a_french_error_and_stays_on_the_login_page(
    page: Page, live_server, cast
):
    log_in(page, cast.hospital_respondent.email, password="pas-le-bon-mot-de-passe")

    expect(page.get_by_text("Adresse électronique ou mot de passe incorrect")).to_be_visible()
    assert path_of(page) == reverse("accounts:login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)


def test_the_legal_entity_respondent_inbox_lists_both_its_sites_and_no_other(
    page: Page, live_server, cast
):
    log_in(page, cast.legal_entity_respondent.email)

    expect(page).to_have_url(live_server.url + reverse("collection:inbox"))
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=cast.cayenne_hospital.name, exact=True)).to_be_visible()
    expect(main.get_by_role("link", name=cast.cayenne_ehpad.name, exact=True)).to_be_visible()
    expect(main).not_to_contain_text(cast.paris_hospital.name)


def test_the_ile_de_france_agent_directory_shows_paris_and_not_saint_martin(
    page: Page, live_server, cast
):
    log_in(page, cast.ars_idf_agent.email)
    expect(page).to_have_url(live_server.url + reverse("surveys:campaign_list"))

    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Annuaire"
    ).click()

    expect(page).to_have_url(live_server.url + reverse("referentials:establishment_list"))
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name=cast.paris_hospital.name, exact=True)).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text(cast.saint_martin_hospital.name)


def test_logging_out_from_the_header_returns_to_login_and_closes_the_inbox(
    page: Page, live_server, cast
):
    login_path, inbox_path = reverse("accounts:login"), reverse("collection:inbox")
    log_in(page, cast.hospital_respondent.email)
    expect(page).to_have_url(live_server.url + inbox_path)

    page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()

    expect(page).to_have_url(live_server.url + login_path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")

    page.goto(inbox_path)

    assert path_of(page) == login_path
    assert parse_qs(urlsplit(page.url).query) == {"next": [inbox_path]}
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()


def test_the_login_page_breaks_no_content_security_policy_and_raises_no_script_error(
    page: Page, live_server
):
    console_errors: list[str] = []
    page_errors: list[str] = []
    page.on(
        "console", lambda message: message.type == "error" and console_errors.append(message.text)
    )
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    # Chromium also reports CSP violations as console errors; this records their details.
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    response = page.goto("/")
    page.wait_for_load_state("networkidle")

    assert path_of(page) == reverse("accounts:login")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # The DSFR script ran under the nonce: it marks the document once started.
    expect(page.locator("html")).to_have_attribute("data-fr-js", "true")
    assert page.evaluate("window.__cspViolations") == []
    assert console_errors == []
    assert page_errors == []
