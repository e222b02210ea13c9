"""The web form, the spreadsheet and the API give the same verdict on the same answers.

Three sites of one legal entity owe the same campaign for the same period; the same raw
answers go through each channel, one site per channel, as its respondents would send them.
Each channel must block on exactly the same messages, or write exactly the same values.
"""

import io
import json

import pytest
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Organisation
from collection.models import Value
from collection.spreadsheets import importer, template
from tests.collection.answering import assignment, campaign, dictionary, key_for, unit_of
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory

pytestmark = pytest.mark.django_db

CASES = {
    "valid": ({"lits_rea_ouverts": "20", "lits_rea_occupes": "12"}, []),
    "not a number": (
        {"lits_rea_ouverts": "20", "lits_rea_occupes": "douze"},
        ["Lits de réanimation occupés : « douze » n'est pas un nombre"],
    ),
    "over the maximum": (
        {"lits_rea_ouverts": "600", "lits_rea_occupes": "12"},
        ["Lits de réanimation ouverts : 600 lits dépasse le maximum (500 lits)"],
    ),
    "a rule across questions": (
        {"lits_rea_ouverts": "10", "lits_rea_occupes": "12"},
        ["Les lits occupés ne peuvent dépasser les lits ouverts."],
    ),
    "a required answer missing": (
        {"lits_rea_ouverts": "10"},
        ["Lits de réanimation occupés : réponse obligatoire."],
    ),
}


@pytest.fixture
def sites(cast):
    """Three sites of the CH de Cayenne, each owing the same campaign for today."""
    definitions = dictionary()
    sent = campaign(owner=Organisation.objects.get(short_name="DGOS"), definitions=definitions)
    third = EstablishmentFactory(
        finess="970300034",
        name="Centre de soins de Kourou",
        legal_entity=cast.cayenne_hospital.legal_entity,
        territory_code="973",
    )
    owed = {
        channel: assignment(sent, unit_of(establishment))
        for channel, establishment in (
            ("form", cast.cayenne_hospital),
            ("spreadsheet", cast.cayenne_ehpad),
            ("api", third),
        )
    }
    return sent, owed


def _by_form(cast, owed, answers):
    client = client_for(cast.legal_entity_respondent)
    response = client.post(
        reverse("collection:assignment_form", kwargs={"pk": owed.pk}),
        {"_revision": owed.revision, "_action": "submit", **answers},
    )
    return response.status_code == 302, response.content.decode()


def _by_spreadsheet(cast, sent, owed, answers):
    client = client_for(cast.legal_entity_respondent)
    response = client.get(reverse("collection:spreadsheet_template", args=[sent.pk]))
    book = load_workbook(io.BytesIO(response.content))
    sheet = book[template.DATA_SHEET]
    columns = {sheet.cell(row=1, column=c).value: c for c in range(1, sheet.max_column + 1)}
    [row] = [
        r
        for r in range(3, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value == owed.unit.finess
    ]
    for code, raw in answers.items():
        sheet.cell(row=row, column=columns[code], value=raw)
    buffer = io.BytesIO()
    book.save(buffer)
    upload = importer.upload_receive(
        user=cast.legal_entity_respondent,
        campaign=sent,
        name="reponses.xlsx",
        data=buffer.getvalue(),
    )
    messages = " ".join(issue["message"] for issue in upload.report["issues"])
    if upload.report["counts"]["error"] or upload.report["file_errors"]:
        return False, messages
    importer.upload_apply(upload=upload, user=cast.legal_entity_respondent)
    return True, messages


def _by_api(cast, owed, answers):
    _key, raw = key_for(cast.legal_entity_respondent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(
        reverse("api:assignment_answer", args=[owed.pk]),
        json.dumps({"valeurs": answers}),
        content_type="application/json",
    )
    errors = response.json().get("erreurs", [])
    return response.status_code == 200, " ".join(e["message"] for e in errors)


@pytest.mark.parametrize("case", CASES)
def test_the_three_channels_give_the_same_verdict(cast, sites, settings, tmp_path, case):
    settings.MEDIA_ROOT = tmp_path
    answers, expected = CASES[case]
    sent, owed = sites
    outcomes = {
        "form": _by_form(cast, owed["form"], answers),
        "spreadsheet": _by_spreadsheet(cast, sent, owed["spreadsheet"], answers),
        "api": _by_api(cast, owed["api"], answers),
    }
    for channel, (applied, said) in outcomes.items():
        assert applied is (not expected), f"{channel} : {said[:400]}"
        for message in expected:
            shown = escape(message) if channel == "form" else message
            assert shown in said, f"{channel} ne dit pas « {message} »"
    stored = {
        channel: dict(Value.objects.filter(unit=owed[channel].unit).values_list("code", "data"))
        for channel in owed
    }
    written = {code: raw for code, raw in answers.items()} if not expected else {}
    assert stored == {"form": written, "spreadsheet": written, "api": written}
