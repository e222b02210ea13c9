"""In a browser: a requester exports a campaign's values to XLSX with its codebook."""

import io
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.test_login_by_role import log_in
from tests.collection.exports_world import world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots")  # noqa: S108 - where reviewers look at screenshots


def test_a_requester_downloads_the_values_as_xlsx_with_a_codebook(page: Page, cast):
    w = world(cast)
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, cast.national_requester.email)
    page.goto(reverse("surveys:campaign_detail", kwargs={"pk": w.campaign.pk}))
    page.get_by_role("link", name="Exporter les données (CSV, XLSX)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exporter les données")
    page.get_by_text("Valeurs, une ligne par établissement et période").click()
    page.get_by_text("Excel (XLSX), avec une feuille « Dictionnaire »").click()
    page.screenshot(path=str(SHOTS / "exports-form.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("button", name="Exporter").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert workbook.sheetnames == ["Données", "Dictionnaire"]
    rows = list(workbook["Données"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["750100042", "970300026", "970100228"]
    assert rows[1][-3:] == (12, "'=1+1", None)
    codes = [r[0] for r in workbook["Dictionnaire"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["lits_rea_ouverts", "observations", "remarque_locale"]

    page.goto(reverse("collection:export_list"))
    expect(page.locator("#export-table")).to_contain_text("Téléchargé directement")
    page.screenshot(path=str(SHOTS / "exports-list.png"), full_page=True)
    page.goto(reverse("collection:open_data", kwargs={"pk": w.campaign.pk}))
    expect(page.locator("#open-data-counts")).to_contain_text("masquée")
    page.screenshot(path=str(SHOTS / "exports-open-data.png"), full_page=True)
