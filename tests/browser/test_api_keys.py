"""In a real browser: a respondent creates an API key and sees it once; the API documentation
(Swagger UI, served by the service itself) runs under the strict CSP; the inbox renders."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from accounts.models import ApiKey, Organisation
from tests.browser.test_login_by_role import SCREENSHOTS, log_in
from tests.collection.answering import assignment, campaign, days_ago, unit_of

pytestmark = pytest.mark.browser


def watch_console(page: Page) -> list[str]:
    """Console errors and uncaught exceptions (a CSP violation is reported as one)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_a_respondent_creates_a_key_and_sees_it_only_once(page: Page, live_server, cast):
    problems = watch_console(page)
    log_in(page, cast.hospital_respondent.email)
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Clés d'API"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clés d'API")
    page.get_by_role("link", name="Créer une clé").click()
    page.get_by_label("Nom de la clé").fill("DPI, envoi des lits")
    page.get_by_role("button", name="Créer la clé").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Clé d'API créée")
    expect(page.get_by_text("elle ne sera plus jamais affichée")).to_be_visible()
    raw = page.get_by_label("Clé « DPI, envoi des lits »").input_value()
    key = ApiKey.objects.get()
    assert raw.startswith(f"rs_{key.prefix}_")
    page.get_by_role("button", name="Copier la clé").click()
    expect(page.locator("#api-key-copied")).not_to_be_empty()

    page.get_by_role("link", name="Revenir aux clés d'API").click()
    table = page.get_by_role("table")
    expect(table).to_contain_text(f"rs_{key.prefix}_…")
    expect(page.get_by_role("main")).not_to_contain_text(raw)
    assert problems == []


def test_the_api_documentation_runs_under_the_csp(page: Page, live_server, cast):
    problems = watch_console(page)
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    log_in(page, cast.hospital_respondent.email)
    page.goto(reverse("api:docs"))
    # Swagger UI fetched the schema and drew the answering API's operations.
    expect(page.get_by_text("/api/v1/demandes/{id}/reponses/").first).to_be_visible()
    expect(page.get_by_text("API Recueil santé").first).to_be_visible()
    assert scripts and all(url.startswith(f"{live_server.url}/static/") for url in scripts)
    assert [p for p in problems if "Content Security Policy" in p or "Refused" in p] == []
    assert problems == []


def test_the_inbox_of_a_legal_entity(page: Page, live_server, cast):
    dgos = Organisation.objects.get(short_name="DGOS")
    ars = Organisation.objects.get(name="ARS Île-de-France")
    national = campaign(owner=dgos, title="Capacités de réanimation")
    regional = campaign(owner=ars, title="Tensions estivales")
    for establishment in (cast.cayenne_hospital, cast.cayenne_ehpad):
        assignment(national, unit_of(establishment))
    assignment(regional, unit_of(cast.cayenne_ehpad), due_at=days_ago(2))
    problems = watch_console(page)
    log_in(page, cast.legal_entity_respondent.email)
    expect(page).to_have_url(live_server.url + reverse("collection:inbox"))
    table = page.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(4)  # the header and three assignments
    expect(table).to_contain_text("En retard de 2 jours")
    page.get_by_label("Site").select_option(cast.cayenne_hospital.finess)
    page.get_by_role("button", name="Filtrer").click()
    expect(table.get_by_role("row")).to_have_count(2)
    page.get_by_label("Site").select_option("")
    page.get_by_role("button", name="Filtrer").click()
    page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=True)
    assert problems == []
