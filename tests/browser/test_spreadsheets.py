"""The CH de Cayenne answers for both its sites with one spreadsheet, in a real browser."""

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from collection.models import Upload, Value
from collection.spreadsheets import template
from tests.browser.test_login_by_role import log_in
from tests.collection.test_spreadsheets import column_of, make_campaign, rows_by_finess

pytestmark = pytest.mark.browser


def _fill_and_save(path, cast, *, beds_at_ehpad):
    book = load_workbook(path)
    sheet = book[template.DATA_SHEET]
    rows = rows_by_finess(sheet)
    beds = column_of(sheet, "lits_rea_occupes")
    sheet.cell(row=rows[cast.cayenne_hospital.finess], column=beds, value=18)
    sheet.cell(row=rows[cast.cayenne_ehpad.finess], column=beds, value=beds_at_ehpad)
    book.save(path)


def test_legal_entity_answers_for_its_sites_by_spreadsheet(
    page: Page, live_server, cast, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    campaign, _ = make_campaign(cast)
    log_in(page, cast.legal_entity_respondent.email)
    page.goto(reverse("collection:spreadsheet_upload", args=[campaign.pk]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Répondre par tableur")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger le modèle (.xlsx)").click()
    filled = tmp_path / "capacites.xlsx"
    download_info.value.save_as(filled)
    sheet = load_workbook(filled)[template.DATA_SHEET]
    assert set(rows_by_finess(sheet)) == {cast.cayenne_hospital.finess, cast.cayenne_ehpad.finess}

    _fill_and_save(filled, cast, beds_at_ehpad="trois")  # one error
    page.get_by_label("Tableur rempli").set_input_files(filled)
    page.get_by_role("button", name="Déposer et vérifier").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu du dépôt")
    errors = page.get_by_role("table", name="Erreurs à corriger (1)")
    expect(errors).to_contain_text("« trois » n'est pas un nombre")
    expect(page.get_by_role("button", name="Appliquer")).to_have_count(0)
    page.screenshot(path="/tmp/spreadsheets.png", full_page=True)  # noqa: S108

    with page.expect_download() as annotated_info:
        page.get_by_role("link", name="Télécharger une copie annotée").click()
    annotated = tmp_path / "annotee.xlsx"
    annotated_info.value.save_as(annotated)
    annotated_sheet = load_workbook(annotated)[template.DATA_SHEET]
    row = rows_by_finess(annotated_sheet)[cast.cayenne_ehpad.finess]
    cell = annotated_sheet.cell(row=row, column=column_of(annotated_sheet, "lits_rea_occupes"))
    assert "n'est pas un nombre" in cell.comment.text

    _fill_and_save(filled, cast, beds_at_ehpad=3)  # fixed
    page.get_by_role("link", name="page de dépôt").click()
    page.get_by_label("Tableur rempli").set_input_files(filled)
    page.get_by_role("button", name="Déposer et vérifier").click()
    expect(page.get_by_text("2 nouvelle(s)")).to_be_visible()
    page.screenshot(path="/tmp/spreadsheets-ok.png", full_page=True)  # noqa: S108
    page.get_by_role("button", name="Appliquer").click()
    expect(page.get_by_role("status")).to_contain_text("Dépôt appliqué : 2 demande(s) transmise(s)")
    assert Upload.objects.filter(status=Upload.Status.APPLIED).count() == 1
    assert sorted(Value.objects.filter(code="lits_rea_occupes").values_list("data", flat=True)) == [
        "18",
        "3",
    ]
