import pytest
from playwright.sync_api import sync_playwright

@pytest.fixture(scope="session")
def browser():
    p = sync_playwright().start()
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
    yield b
    b.close(); p.stop()

@pytest.fixture
def page(browser, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ctx = browser.new_context()
    pg = ctx.new_page()
    yield pg
    ctx.close()
