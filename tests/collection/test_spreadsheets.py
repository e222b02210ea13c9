"""Answering by spreadsheet: template, upload checks, preview, apply in one transaction."""

import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from accounts.models import Organisation
from collection import values
from collection.models import Upload, Value, ValueRevision
from collection.spreadsheets import importer, template
from surveys.models import Assignment
from tests.conftest import client_for
from tests.referentials.factories_dictionary import (
    CodeListFactory,
    CodeListItemFactory,
    DefinitionFactory,
)
from tests.surveys.factories import (
    AssignmentFactory,
    CampaignFactory,
    CampaignPeriodFactory,
    QuestionFactory,
    ReportingUnitFactory,
    SectionFactory,
    SurveyVersionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def make_campaign(cast):
    """A campaign asking beds (integer 0-500), tension (list) and an ad hoc yes/no question,
    sent to both sites of the CH de Cayenne and to the Pitié."""
    # The cast's DGOS sends it (a new survey owner would be a second "DGOS" organisation).
    dgos = Organisation.objects.filter(short_name="DGOS").first()
    section = SectionFactory(version__survey__owner=dgos)
    beds = DefinitionFactory(
        code="lits_rea_occupes",
        label="Lits de réanimation occupés",
        minimum=Decimal(0),
        maximum=Decimal(500),
        doctrine="Lits occupés à minuit. " * 30,
    )
    levels = CodeListFactory(code="niveau_tension")
    for code, label in (("1", "Faible"), ("2", "Modérée"), ("3", "Forte")):
        if not levels.items.filter(code=code).exists():  # called again by the access matrix
            CodeListItemFactory(code_list=levels, code=code, label=label)
    tension = DefinitionFactory(
        code="niveau_tension",
        label="Niveau de tension",
        value_type="single_choice",
        code_list=levels,
        unit="",
        minimum=None,
    )
    QuestionFactory(section=section, definition=beds, required=True)
    QuestionFactory(section=section, definition=tension)
    QuestionFactory(section=section, code="plan_blanc", label="Plan blanc", value_type="boolean")
    campaign = CampaignFactory(version=section.version, title="Capacités de réanimation")
    period = CampaignPeriodFactory(campaign=campaign)
    units = {
        name: ReportingUnitFactory(establishment=getattr(cast, name))
        for name in ("cayenne_hospital", "cayenne_ehpad", "paris_hospital")
    }
    assignments = {
        name: AssignmentFactory(period=period, unit=unit) for name, unit in units.items()
    }
    return campaign, assignments


def download(client, campaign, **params):
    response = client.get(reverse("collection:spreadsheet_template", args=[campaign.pk]), params)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.content))


def to_bytes(book):
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, campaign, name, data):
    response = client.post(
        reverse("collection:spreadsheet_upload", args=[campaign.pk]),
        {"file": SimpleUploadedFile(name, data)},
    )
    assert response.status_code == 302, response.content[:500]
    return Upload.objects.latest("created_at")


def rows_by_finess(sheet):
    return {sheet.cell(row=r, column=1).value: r for r in range(3, sheet.max_row + 1)}


def column_of(sheet, code):
    return next(
        c for c in range(1, sheet.max_column + 1) if sheet.cell(row=1, column=c).value == code
    )


def fill(sheet, finess, **answers):
    row = rows_by_finess(sheet)[finess]
    for code, value in answers.items():
        sheet.cell(row=row, column=column_of(sheet, code), value=value)
    return row


@pytest.fixture
def setup(cast):
    campaign, assignments = make_campaign(cast)
    return campaign, assignments, client_for(cast.legal_entity_respondent)


# --- Template ---------------------------------------------------------------------------------


def test_template_lists_every_site_with_validations_hidden_sheet_and_locked_header(cast, setup):
    campaign, assignments, client = setup
    values.submit(
        assignments["cayenne_ehpad"], {"lits_rea_occupes": "7"}, channel="form"
    )  # known values are prefilled
    book = download(client, campaign)
    sheet = book[template.DATA_SHEET]
    assert [sheet.cell(row=1, column=c).value for c in range(1, 7)] == [
        "finess",
        "nom",
        "periode",
        "lits_rea_occupes",
        "niveau_tension",
        "plan_blanc",
    ]
    assert sheet.cell(row=2, column=4).value == "Lits de réanimation occupés (lits)"
    # Only the Cayenne sites: the Pitié is outside the legal entity; the EHPAD's row is
    # transmitted already, so only the hospital's open assignment is owed.
    assert set(rows_by_finess(sheet)) == {cast.cayenne_hospital.finess}
    everything = download(client, campaign, demande=assignments["cayenne_ehpad"].pk)[
        template.DATA_SHEET
    ]
    assert everything.cell(row=3, column=4).value == 7

    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    beds = validations["D3"]
    assert (beds.type, beds.formula1, beds.formula2) == ("whole", "0", "500")
    assert len(beds.prompt) <= 255 and beds.prompt.startswith("Lits occupés à minuit.")
    assert validations["E3"].type == "list" and "_listes" in validations["E3"].formula1
    assert validations["F3"].formula1 == '"oui,non"'
    assert book[template.LISTS_SHEET]["A2"].value == "Modérée"

    assert sheet.protection.sheet is True
    assert sheet["A1"].protection.locked and sheet["C3"].protection.locked
    assert not sheet["D3"].protection.locked

    meta = book[template.META_SHEET]
    assert meta.sheet_state == "hidden"
    fields = {row[0].value: row[1].value for row in meta.iter_rows()}
    assert fields["campagne"] == campaign.pk and fields["version"] == 1
    signed = template.unsign_payload(fields["signature"])
    assert signed["units"] == [assignments["cayenne_hospital"].unit_id]


def test_a_campaign_not_sent_to_the_user_is_not_found(cast):
    other, _ = make_campaign(cast)
    client = client_for(cast.professional)
    url = reverse("collection:spreadsheet_template", args=[other.pk])
    assert client.get(url).status_code == 404


# --- Round trip -------------------------------------------------------------------------------


def test_round_trip_preview_then_apply_writes_values_and_revisions(cast, setup):
    campaign, assignments, client = setup
    book = download(client, campaign)
    sheet = book[template.DATA_SHEET]
    fill(sheet, cast.cayenne_hospital.finess, lits_rea_occupes=12, niveau_tension="Forte")
    sheet.cell(row=4, column=1, value=cast.cayenne_ehpad.finess)
    sheet.cell(row=4, column=3, value=assignments["cayenne_ehpad"].period.key)
    sheet.cell(row=4, column=4, value=3)
    sheet.cell(row=4, column=6, value="oui")

    received = upload(client, campaign, "capacites.xlsx", to_bytes(book))
    assert received.status == Upload.Status.CHECKED
    assert received.report["counts"] == {
        "new": 2,
        "changed": 0,
        "unchanged": 0,
        "error": 0,
        "empty": 0,
    }
    assert not Value.objects.exists()  # nothing before « Appliquer »
    preview = client.get(reverse("collection:upload_preview", args=[received.pk]))
    assert "2 nouvelle(s)" in preview.content.decode()

    response = client.post(reverse("collection:upload_apply", args=[received.pk]))
    assert response.status_code == 302
    received.refresh_from_db()
    assert received.status == Upload.Status.APPLIED and received.applied_at
    hospital = Value.objects.get(unit=assignments["cayenne_hospital"].unit, code="lits_rea_occupes")
    assert (hospital.data, hospital.channel) == ("12", "spreadsheet")
    tension = Value.objects.get(code="niveau_tension")
    assert tension.data == "3"
    assert set(ValueRevision.objects.values_list("channel", flat=True)) == {"spreadsheet"}
    assert Value.objects.get(code="plan_blanc").data is True
    assignments["cayenne_hospital"].refresh_from_db()
    assert assignments["cayenne_hospital"].status == Assignment.Status.SUBMITTED
    assert received.report["applied_rows"] == 2


def test_nothing_is_applied_when_one_row_is_in_error(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    sheet = book[template.DATA_SHEET]
    fill(sheet, cast.cayenne_hospital.finess, lits_rea_occupes=900)
    received = upload(client, campaign, "capacites.xlsx", to_bytes(book))
    assert received.status == Upload.Status.REJECTED
    assert received.report["counts"]["error"] == 1
    [issue] = received.report["issues"]
    assert (issue["sheet"], issue["row"], issue["column"], issue["code"]) == (
        "Réponses",
        3,
        "D",
        "lits_rea_occupes",
    )
    assert "900 lits dépasse le maximum" in issue["message"]
    client.post(reverse("collection:upload_apply", args=[received.pk]))
    assert not Value.objects.exists()


def test_apply_rolls_back_every_row_when_one_is_refused_at_apply_time(cast, setup, monkeypatch):
    campaign, assignments, client = setup
    book = download(client, campaign)
    sheet = book[template.DATA_SHEET]
    fill(sheet, cast.cayenne_hospital.finess, lits_rea_occupes=12)
    sheet.cell(row=4, column=1, value=cast.cayenne_ehpad.finess)
    sheet.cell(row=4, column=3, value=assignments["cayenne_ehpad"].period.key)
    sheet.cell(row=4, column=4, value=3)
    received = upload(client, campaign, "capacites.xlsx", to_bytes(book))
    real_submit = values.submit
    calls = []

    def second_refused(assignment, answers, **kwargs):
        calls.append(assignment.pk)
        outcome = real_submit(assignment, answers, **kwargs)
        if len(calls) == 2:
            outcome.applied = False
        return outcome

    monkeypatch.setattr(importer.values, "submit", second_refused)
    with pytest.raises(importer.ApplyRefused, match="Rien n'a été enregistré"):
        importer.upload_apply(upload=received, user=cast.legal_entity_respondent)
    assert len(calls) == 2
    assert not Value.objects.exists() and not ValueRevision.objects.exists()
    received.refresh_from_db()
    assert received.status == Upload.Status.CHECKED


@pytest.mark.parametrize("with_condition", [False, True])
def test_batch_check_gives_the_same_verdicts_as_values_check(cast, setup, with_condition):
    _, assignments, _ = setup
    assignment = assignments["cayenne_hospital"]
    if with_condition:  # the batch takes the schema's own path when a question is conditional
        QuestionFactory(
            section=assignment.version.sections.get(),
            code="motif",
            label="Motif",
            value_type="text",
            required=True,
            condition="plan_blanc",
        )
    values.submit(assignment, {"lits_rea_occupes": "12"}, channel="form")
    schema = importer.version_schema(assignment.version)
    loaded = importer.preload(schema, [(assignment.unit_id, assignment.period.key)])
    pair = (assignment.unit_id, assignment.period.key)
    for answers in (
        {"lits_rea_occupes": 12},
        {"lits_rea_occupes": "douze", "niveau_tension": "Forte"},
        {"lits_rea_occupes": 600, "niveau_tension": "9", "plan_blanc": "peut-être"},
        {"niveau_tension": "2", "inconnu": 1},
        {"lits_rea_occupes": None},
        {"lits_rea_occupes": 3, "plan_blanc": "oui"},
        {"lits_rea_occupes": 3, "plan_blanc": "non", "motif": "grève"},
    ):
        expected = values.check(assignment, answers)
        got = importer.check_row(
            schema, answers, stored=loaded.stored[pair], context=loaded.contexts[pair]
        )
        assert got.verdict.issues == expected.verdict.issues
        assert got.verdict.values == expected.verdict.values
        assert (got.created, got.changed, got.unchanged, got.unjustified) == (
            expected.created,
            expected.changed,
            expected.unchanged,
            expected.unjustified,
        )


# --- Refused files ----------------------------------------------------------------------------


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("vide.xlsx", b"", "Le fichier « vide.xlsx » est vide"),
        (
            "secret.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
            "« secret.xlsx » est protégé par mot de passe : enregistrez-le sans mot de passe",
        ),
        ("macros.xlsm", b"PK\x03\x04rest", "« macros.xlsm » contient des macros"),
        (
            "cache.xlsx",
            _zip({"[Content_Types].xml": "<x/>", "xl/vbaProject.bin": "x"}),
            "« cache.xlsx » contient des macros",
        ),
        ("rapport.pdf", b"%PDF-1.4", "« rapport.pdf » n'est pas un tableur accepté"),
        ("faux.xlsx", b"bonjour", "« faux.xlsx » n'est pas un tableur .xlsx lisible"),
        (
            "bombe.xlsx",
            _zip({"[Content_Types].xml": "<x/>", "xl/big.xml": "0" * 3_000_000}),
            "« bombe.xlsx » occuperait 3 Mo une fois décompressé",
        ),
        (
            "nombreux.xlsx",
            _zip({f"x/{i}.xml": "" for i in range(2001)}),
            "« nombreux.xlsx » contient 2001 éléments internes",
        ),
        ("gros.csv", b"finess;periode\n" + b"x" * 2_000_000, "« gros.csv » pèse 1.9 Mo"),
    ],
)
def test_a_bad_file_is_refused_with_its_name_and_kept(settings, setup, name, data, message):
    settings.UPLOAD_MAX_BYTES = 1_500_000
    settings.UPLOAD_MAX_UNCOMPRESSED_BYTES = 2_000_000
    campaign, _, client = setup
    received = upload(client, campaign, name, data)
    assert received.status == Upload.Status.REJECTED
    assert any(message in error for error in received.report["file_errors"]), received.report
    with received.file.open("rb") as handle:
        assert handle.read() == data  # the original is kept, even refused
    page = client.get(reverse("collection:upload_preview", args=[received.pk])).content.decode()
    assert "Le fichier est refusé" in page


def _with_formula(data, ref, formula, cached):
    """Put a formula (with or without its cached result) in a cell of an openpyxl file."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                cell = f"<f>{formula}</f>" + (f"<v>{cached}</v>" if cached is not None else "")
                text, count = re.subn(
                    rf'<c r="{ref}"([^>]*)>(<v>[^<]*</v>)?</c>', rf'<c r="{ref}"\1>{cell}</c>', text
                )
                assert count == 1
                content = text.encode()
            target.writestr(item, content)
    return buffer.getvalue()


def test_a_formula_uses_its_cached_value_and_says_so(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    fill(book[template.DATA_SHEET], cast.cayenne_hospital.finess, lits_rea_occupes=1)
    data = _with_formula(to_bytes(book), "D3", "6*2", 12)
    received = upload(client, campaign, "formule.xlsx", data)
    assert received.status == Upload.Status.CHECKED
    [note] = received.report["issues"]
    assert note["message"] == "cellule D3 : formule, sa valeur calculée 12 est utilisée"
    assert note["severity"] == "note"
    client.post(reverse("collection:upload_apply", args=[received.pk]))
    assert Value.objects.get(code="lits_rea_occupes").data == "12"


def test_a_formula_without_a_cached_value_is_refused(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    fill(
        book[template.DATA_SHEET],
        cast.cayenne_hospital.finess,
        lits_rea_occupes=1,
        niveau_tension="Faible",
    )
    data = _with_formula(to_bytes(book), "D3", "6*2", None)
    received = upload(client, campaign, "formule.xlsx", data)
    assert received.status == Upload.Status.REJECTED
    messages = [i["message"] for i in received.report["issues"]]
    assert any(m.startswith("cellule D3 : formule sans valeur calculée") for m in messages)


def test_merged_cells_are_refused_with_their_range(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    sheet = book[template.DATA_SHEET]
    sheet.protection.sheet = False
    sheet.merge_cells("D3:E3")
    received = upload(client, campaign, "fusion.xlsx", to_bytes(book))
    assert "cellules fusionnées (D3:E3)" in received.report["file_errors"][0]


def test_an_outdated_template_is_refused(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    fill(book[template.DATA_SHEET], cast.cayenne_hospital.finess, lits_rea_occupes=4)
    newer = SurveyVersionFactory(survey=campaign.survey, number=2)
    section = SectionFactory(version=newer)
    QuestionFactory(section=section, definition=DefinitionFactory(code="lits_rea_occupes"))
    Assignment.objects.filter(campaign=campaign).update(version=newer)
    received = upload(client, campaign, "ancien.xlsx", to_bytes(book))
    assert received.report["file_errors"] == [
        "Ce modèle correspond à la version 1 ; la version en vigueur est la 2 : téléchargez un "
        "nouveau modèle."
    ]


def test_a_tampered_template_is_refused(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    fill(book[template.DATA_SHEET], cast.cayenne_hospital.finess, lits_rea_occupes=4)
    meta = book[template.META_SHEET]
    meta["B3"] = 999_999  # version_id
    received = upload(client, campaign, "modifie.xlsx", to_bytes(book))
    assert "a été modifié" in received.report["file_errors"][0]
    meta["B3"] = str(campaign.version_id)
    meta["B9"] = meta["B9"].value[:-3] + "abc"  # the signature
    received = upload(client, campaign, "modifie.xlsx", to_bytes(book))
    assert "a été modifié" in received.report["file_errors"][0]


def test_rows_out_of_scope_twice_or_in_unknown_columns_are_named(cast, setup):
    campaign, assignments, client = setup
    book = download(client, campaign)
    sheet = book[template.DATA_SHEET]
    sheet.protection.sheet = False
    key = assignments["cayenne_hospital"].period.key
    fill(sheet, cast.cayenne_hospital.finess, lits_rea_occupes=5)
    for row, finess in ((4, cast.paris_hospital.finess), (5, cast.cayenne_hospital.finess)):
        sheet.cell(row=row, column=1, value=finess)
        sheet.cell(row=row, column=3, value=key)
        sheet.cell(row=row, column=4, value=6)
    sheet.cell(row=1, column=7, value="lits_fantomes")
    received = upload(client, campaign, "erreurs.xlsx", to_bytes(book))
    issues = {(i["row"], i["column"]): i["message"] for i in received.report["issues"]}
    assert "vous ne répondez pas pour cette unité" in issues[(4, "A")]
    assert "figure deux fois, aux lignes 3 et 5" in issues[(5, "A")]
    assert "colonne « lits_fantomes »" in issues[(1, "G")]
    assert received.report["counts"]["error"] == 3  # both duplicate rows and the Pitié


def test_the_annotated_copy_highlights_and_comments_bad_cells(cast, setup):
    campaign, _, client = setup
    book = download(client, campaign)
    fill(book[template.DATA_SHEET], cast.cayenne_hospital.finess, lits_rea_occupes="beaucoup")
    received = upload(client, campaign, "capacites.xlsx", to_bytes(book))
    response = client.get(reverse("collection:upload_annotated", args=[received.pk]))
    assert response["Content-Disposition"].endswith('capacites-annote.xlsx"')
    annotated = load_workbook(io.BytesIO(response.content))[template.DATA_SHEET]
    assert "n'est pas un nombre" in annotated["D3"].comment.text
    assert annotated["D3"].fill.fgColor.rgb.endswith("FFC7CE")
    original = client.get(reverse("collection:upload_original", args=[received.pk]))
    assert original.content[:2] == b"PK"


# --- Files that are not our template ----------------------------------------------------------


def _foreign_rows(cast, assignments):
    key = assignments["cayenne_hospital"].period.key
    return [
        ["FINESS", "periode", "lits_rea_occupes", "niveau_tension", "commentaire_niveau_tension"],
        [cast.cayenne_hospital.finess, key, "14", "2", ""],
        [cast.cayenne_ehpad.finess, key, "2", "", ""],
    ]


def test_a_foreign_xlsx_with_definition_codes_as_headers_is_imported(cast, setup):
    campaign, assignments, client = setup
    book = Workbook()
    for row in _foreign_rows(cast, assignments):
        book.active.append(row)
    received = upload(client, campaign, "export-sih.xlsx", to_bytes(book))
    assert received.report["counts"]["new"] == 2, received.report
    client.post(reverse("collection:upload_apply", args=[received.pk]))
    assert Value.objects.filter(code="lits_rea_occupes").count() == 2


def test_a_csv_is_imported_and_its_errors_annotated_in_an_xlsx_copy(cast, setup):
    campaign, assignments, client = setup
    rows = _foreign_rows(cast, assignments)
    rows[2][2] = "-3"
    text = "\n".join(";".join(r) for r in rows).encode("cp1252")
    received = upload(client, campaign, "export.csv", text)
    [issue] = received.report["issues"]
    assert (issue["sheet"], issue["row"], issue["column"]) == ("CSV", 3, "C")
    annotated = client.get(reverse("collection:upload_annotated", args=[received.pk]))
    sheet = load_workbook(io.BytesIO(annotated.content)).active
    assert "inférieur au minimum" in sheet["C3"].comment.text


def _ods(rows):
    """A minimal OpenDocument spreadsheet, written by hand (it is a zip of XML)."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    body = "".join(
        "<table:table-row>"
        + "".join(
            f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
            for v in row
        )
        + "</table:table-row>"
        for row in rows
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="Feuille1">{body}'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", content)
    return buffer.getvalue()


def test_an_ods_is_imported(cast, setup):
    campaign, assignments, client = setup
    received = upload(client, campaign, "libreoffice.ods", _ods(_foreign_rows(cast, assignments)))
    assert received.report["counts"]["new"] == 2, received.report
    client.post(reverse("collection:upload_apply", args=[received.pk]))
    assert Value.objects.filter(code="lits_rea_occupes", channel="spreadsheet").count() == 2


def test_an_upload_is_not_found_for_another_organisation(cast, setup):
    campaign, _, client = setup
    received = upload(client, campaign, "vide.xlsx", b"")
    other = client_for(cast.hospital_respondent)
    assert other.get(reverse("collection:upload_preview", args=[received.pk])).status_code == 404
    assert client.get(reverse("collection:upload_preview", args=[received.pk])).status_code == 200


def test_an_upload_is_its_uploaders_only_even_within_the_organisation(cast, setup):
    """A colleague of one site must not read, or apply, what someone sent for another site."""
    from tests.accounts.factories import MembershipFactory, UserFactory

    campaign, _, client = setup
    book = download(client, campaign)
    received = upload(client, campaign, "capacites.xlsx", to_bytes(book))
    colleague = UserFactory(email="cadre@ch-cayenne.fr")
    MembershipFactory(
        user=colleague,
        organisation=cast.legal_entity_respondent.memberships.get().organisation,
        role="respondent",
    )
    other = client_for(colleague)
    for name in ("upload_preview", "upload_original", "upload_annotated"):
        assert other.get(reverse(f"collection:{name}", args=[received.pk])).status_code == 404
    assert other.post(reverse("collection:upload_apply", args=[received.pk])).status_code == 404
