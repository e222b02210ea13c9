"""Real-browser fixtures: Debian's Chromium driven by Playwright, against the live server.

Playwright's sync API starts an asyncio loop in the main thread and keeps it *running* for as
long as Playwright is alive (it hops in and out of it through greenlets). Django's async-safety
guard sees that loop and refuses every ORM call made from the test process: creating the test
database, building the ``cast``, flushing the tables after a transactional test. The guard is
therefore lifted (``DJANGO_ALLOW_ASYNC_UNSAFE``) by the fixture that starts Playwright, for
exactly as long as Playwright lives, and the browser tests are moved to the end of the run so
that no other test ever runs with the guard lifted. Requests served by the live server run in
its own thread, with no loop, and keep the guard.

Chromium is Debian's (``/usr/bin/chromium``); Playwright never downloads a browser here.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Shorter than Playwright's 30 s: every page here is local and small, a hang is a failure.
ACTION_TIMEOUT_MS = 10_000


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests last, once every other test has run with Django's async guard on."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} est introuvable : les tests navigateur pilotent le Chromium de Debian. "
            "Installez-le avec `apt-get install -y chromium` (ne lancez pas "
            "`playwright install`, qui télécharge un autre navigateur).",
            pytrace=False,
        )
    with pytest.MonkeyPatch.context() as patch:
        # See the module docstring: Playwright's loop looks "running" to Django until it stops.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    """A fresh page in a fresh context (no cookies carried over), relative URLs on the server."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    new_page = context.new_page()
    yield new_page
    context.close()
