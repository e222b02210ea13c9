"""The dictionary exported and re-imported as a spreadsheet, through the services."""

import re

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from referentials.admin_dictionary import CodeListItemResource, DefinitionResource
from referentials.dictionary import dictionary_load_seed
from referentials.models import CodeListItem, Definition, DefinitionRevision
from tests.accounts.factories import UserFactory


@pytest.fixture
def seeded(db):
    dictionary_load_seed()


@pytest.fixture
def staff(db, client):
    user = UserFactory(email="ops@sante.gouv.fr", is_staff=True, is_superuser=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def edited(exported, change):
    """The exported dataset, each row passed through ``change(row) -> row``."""
    dataset = tablib.Dataset(headers=exported.headers)
    for row in exported.dict:
        row = change(dict(row))
        dataset.append([row[h] for h in exported.headers])
    return dataset


def as_csv(dataset):
    return tablib.Dataset().load(dataset.export("csv"), format="csv")


def test_an_unchanged_export_reimported_changes_nothing(seeded):
    revisions = DefinitionRevision.objects.count()
    events = AuditEvent.objects.count()
    exported = DefinitionResource().export()
    assert len(exported) == 41
    result = DefinitionResource().import_data(as_csv(exported), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["skip"] == 41
    assert DefinitionRevision.objects.count() == revisions
    assert AuditEvent.objects.count() == events
    assert set(Definition.objects.values_list("version", flat=True)) == {1}
    assert DefinitionResource().export().csv == exported.csv


def test_code_list_items_round_trip_too(seeded):
    exported = CodeListItemResource().export()
    result = CodeListItemResource().import_data(as_csv(exported), dry_run=False)
    assert result.totals["skip"] == len(exported) == 12
    assert CodeListItemResource().export().csv == exported.csv


def test_a_wording_fix_imported_is_versioned(seeded):
    def fix(row):
        if row["code"] == "stock_gants":
            row["label"] = "Stock de gants d'examen"
            row["synonyms"] = row["synonyms"] + "; gants vinyle"
        return row

    result = DefinitionResource().import_data(
        edited(DefinitionResource().export(), fix), dry_run=False
    )
    assert result.totals["update"] == 1 and result.totals["skip"] == 40
    gants = Definition.objects.get(code="stock_gants")
    assert (gants.label, gants.version) == ("Stock de gants d'examen", 2)
    assert gants.synonyms[-1] == "gants vinyle"
    assert gants.revisions.first().comment == "Import de tableur"


def test_an_import_changing_the_meaning_of_a_published_definition_saves_nothing(seeded):
    def change(row):
        if row["code"] == "stock_gants":
            row["label"] = "Stock de gants (paires)"  # a valid fix in the same file...
        if row["code"] == "lits_rea_occupes":
            row["unit"] = "places"  # ...and a change of meaning
        return row

    result = DefinitionResource().import_data(
        edited(DefinitionResource().export(), change), dry_run=False
    )
    assert result.has_validation_errors()
    invalid = result.invalid_rows[0]
    message = " ".join(invalid.error.messages)
    assert "« lits_rea_occupes » ne peut pas changer de sens (unité)" in message
    assert Definition.objects.get(code="lits_rea_occupes").unit == "lits"
    assert Definition.objects.get(code="stock_gants").label == "Stock de gants"  # rolled back
    assert DefinitionRevision.objects.filter(version=2).count() == 0


def test_a_file_with_a_code_twice_is_refused(seeded):
    exported = DefinitionResource().export()
    exported.append(exported[0])
    result = DefinitionResource().import_data(exported, dry_run=False)
    assert result.has_errors()
    assert "figure deux fois dans le fichier" in str(result.base_errors[0].error)


def test_a_code_list_file_with_a_duplicate_code_is_refused(seeded):
    dataset = tablib.Dataset(headers=["code_list", "code", "label", "order"])
    dataset.append(["niveau_tension", "5", "Crise majeure", "5"])
    dataset.append(["niveau_tension", "5", "Crise", "6"])
    result = CodeListItemResource().import_data(dataset, dry_run=False)
    assert result.has_errors()
    assert not CodeListItem.objects.filter(code="5").exists()


def test_the_admin_previews_then_applies_an_import(seeded, staff, client):
    def fix(row):
        if row["code"] == "tests_positifs":
            row["label"] = "Tests de dépistage positifs (RT-PCR et antigéniques)"
        return row

    content = edited(DefinitionResource().export(), fix).export("csv").encode()
    preview = client.post(
        reverse("admin:referentials_definition_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("dictionnaire.csv", content),
        },
    )
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "RT-PCR et antigéniques" in html
    assert Definition.objects.get(code="tests_positifs").version == 1  # only a preview

    confirm = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    confirm.pop("csrfmiddlewaretoken", None)
    response = client.post(reverse("admin:referentials_definition_process_import"), confirm)
    assert response.status_code == 302
    definition = Definition.objects.get(code="tests_positifs")
    assert definition.version == 2
    assert definition.revisions.first().changed_by == staff


def test_the_admin_preview_shows_a_refusal_and_offers_no_confirmation(seeded, staff, client):
    def change(row):
        if row["code"] == "tests_positifs":
            row["maximum"] = "5000000"
        return row

    content = edited(DefinitionResource().export(), change).export("csv").encode()
    preview = client.post(
        reverse("admin:referentials_definition_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("dictionnaire.csv", content),
        },
    )
    html = preview.content.decode()
    assert "ne peut pas changer de sens (maximum)" in html
    assert "process_import" not in html
    assert Definition.objects.get(code="tests_positifs").maximum == 1000000


def test_the_admin_form_refuses_a_change_of_meaning(seeded, staff, client):
    definition = Definition.objects.get(code="stock_gants")
    url = reverse("admin:referentials_definition_change", args=[definition.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "code": "stock_gants",
        "label": "Stock de gants",
        "doctrine": definition.doctrine,
        "value_type": "integer",
        "unit": "boîtes",
        "minimum": "0",
        "maximum": "10000000",
        "decimals": "",
        "code_list": "",
        "time_aggregation": "stock",
        "establishment_aggregation": "sum",
        "themes": [t.pk for t in definition.themes.all()],
        "synonyms": '["gants d\'examen"]',
        "owner": "",
        "status": "published",
        "replaced_by": "",
        "max_jump_ratio": "5",
        "directory_maximum": "",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "ne peut pas changer de sens (unité)" in response.content.decode()
    assert Definition.objects.get(code="stock_gants").unit == "unités"
