"""Served questions through the three channels: the same « not asked » verdict everywhere.

Three sites of the CH de Cayenne owe an ARS campaign that reuses the open beds the DGOS's
daily « Capacités » campaign asks of them; each site answers through one channel.
"""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook
from rest_framework.test import APIClient

from accounts.models import Organisation
from collection.models import Value
from collection.spreadsheets import template
from surveys.models import AudienceMember, CampaignReuse, OverlapChoice
from surveys.periods import period_of
from tests.collection.answering import assignment, campaign, dictionary, key_for, unit_of
from tests.collection.reusing import store
from tests.collection.test_channels import _by_api, _by_form, _by_spreadsheet
from tests.conftest import client_for
from tests.referentials.factories import EstablishmentFactory

pytestmark = pytest.mark.django_db

REFUSED = "Lits de réanimation ouverts : cette valeur n'est pas demandée ici"
CASES = {
    "the served question is not asked": ({"lits_rea_occupes": "12"}, []),
    "its value feeds the rules": (
        {"lits_rea_occupes": "25"},
        ["Les lits occupés ne peuvent dépasser les lits ouverts."],
    ),
    "a changed served value is refused": (
        {"lits_rea_ouverts": "30", "lits_rea_occupes": "12"},
        [REFUSED, "Corriger la valeur partagée"],
    ),
}


@pytest.fixture
def served_sites(cast):
    """Open beds served (20) from the DGOS campaign; occupied beds asked by the ARS."""
    open_beds, occupied = dictionary()
    dgos = campaign(
        owner=Organisation.objects.get(short_name="DGOS"),
        title="Capacités",
        definitions=[open_beds],
        start_date=timezone.localdate() - dt.timedelta(days=10),
    )
    ars = campaign(
        title="Tension réanimation",
        definitions=[open_beds, occupied],
        overlap_choice=OverlapChoice.REUSE,
    )
    CampaignReuse.objects.create(campaign=ars, definition=open_beds, source=dgos)
    third = EstablishmentFactory(
        finess="970300034",
        name="Centre de soins de Kourou",
        legal_entity=cast.cayenne_hospital.legal_entity,
        territory_code="973",
    )
    today = period_of("day", timezone.localdate())
    owed = {}
    for channel, establishment in (
        ("form", cast.cayenne_hospital),
        ("spreadsheet", cast.cayenne_ehpad),
        ("api", third),
    ):
        unit = unit_of(establishment)
        AudienceMember.objects.create(campaign=dgos, unit=unit)
        store(unit, open_beds, today, "20", campaign=dgos)
        owed[channel] = assignment(ars, unit)
    return ars, owed


@pytest.mark.parametrize("case", CASES)
def test_the_three_channels_leave_a_served_question_out_alike(
    cast, served_sites, settings, tmp_path, case
):
    settings.MEDIA_ROOT = tmp_path
    answers, expected = CASES[case]
    sent, owed = served_sites
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
    written = {"lits_rea_ouverts": "20"}  # the DGOS's value, untouched
    if not expected:
        written["lits_rea_occupes"] = answers["lits_rea_occupes"]
    assert stored == {"form": written, "spreadsheet": written, "api": written}


def test_an_unchanged_served_copy_is_ignored_by_the_form_and_the_spreadsheet(
    cast, served_sites, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    sent, owed = served_sites
    answers = {"lits_rea_ouverts": "20", "lits_rea_occupes": "12"}
    assert _by_form(cast, owed["form"], answers)[0]
    assert _by_spreadsheet(cast, sent, owed["spreadsheet"], answers)[0]
    # The API says what it does not ask (« servie ») and refuses any copy of it.
    applied, said = _by_api(cast, owed["api"], answers)
    assert not applied and REFUSED in said


def test_the_form_shows_the_served_value_read_only_with_its_provenance(cast, served_sites):
    _sent, owed = served_sites
    client = client_for(cast.legal_entity_respondent)
    page = client.get(reverse("collection:assignment_form", kwargs={"pk": owed["form"].pk}))
    html = page.content.decode()
    assert 'name="lits_rea_ouverts" value="20"' in html
    field = html[html.index('id="q-lits_rea_ouverts"') :][:400]
    assert "readonly" in field
    assert "Non demandée ici : Déclarée par" in html and "« Capacités » (DGOS)" in html
    link = reverse(
        "collection:served_value", kwargs={"pk": owed["form"].pk, "code": "lits_rea_ouverts"}
    )
    assert f'<a href="{link}">Corriger la valeur partagée</a>' in html
    assert "Toutes les réponses" not in html  # occupied beds are still asked


def test_the_spreadsheet_template_fills_and_locks_served_cells(cast, served_sites):
    sent, owed = served_sites
    client = client_for(cast.legal_entity_respondent)
    response = client.get(reverse("collection:spreadsheet_template", args=[sent.pk]))
    sheet = load_workbook(io.BytesIO(response.content))[template.DATA_SHEET]
    columns = {sheet.cell(row=1, column=c).value: c for c in range(1, sheet.max_column + 1)}
    [row] = [
        r
        for r in range(3, sheet.max_row + 1)
        if sheet.cell(row=r, column=1).value == owed["spreadsheet"].unit.finess
    ]
    served = sheet.cell(row=row, column=columns["lits_rea_ouverts"])
    asked = sheet.cell(row=row, column=columns["lits_rea_occupes"])
    assert (
        served.value == 20 and served.protection.locked and "lecture seule" in served.comment.text
    )
    assert not asked.protection.locked and asked.comment is None


def test_the_api_form_marks_served_questions(cast, served_sites):
    _sent, owed = served_sites
    _key, raw = key_for(cast.legal_entity_respondent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = client.get(reverse("api:assignment_detail", args=[owed["api"].pk])).json()
    questions = {q["code"]: q for q in body["questions"]}
    served = questions["lits_rea_ouverts"]
    assert served["servie"] is True and served["obligatoire"] is False
    assert served["valeur_servie"]["valeur"] == "20"
    assert served["valeur_servie"]["etat"] == "disponible"
    assert "« Capacités » (DGOS)" in served["valeur_servie"]["provenance"]
    assert questions["lits_rea_occupes"]["servie"] is False
    assert questions["lits_rea_occupes"]["valeur_servie"] is None


def test_an_assignment_with_every_answer_served_is_submitted_in_one_click(cast):
    """Nothing to ask: the form says where every answer comes from; « Transmettre » closes
    the request without writing a value."""
    open_beds, _occupied = dictionary()
    dgos = campaign(
        owner=Organisation.objects.get(short_name="DGOS"),
        title="Capacités",
        definitions=[open_beds],
        start_date=timezone.localdate() - dt.timedelta(days=3),
    )
    ars = campaign(
        owner=cast.ars_idf_agent.memberships.get().organisation,
        title="Lits ouverts",
        definitions=[open_beds],
        overlap_choice=OverlapChoice.REUSE,
    )
    CampaignReuse.objects.create(campaign=ars, definition=open_beds, source=dgos)
    unit = unit_of(cast.paris_hospital)
    AudienceMember.objects.create(campaign=dgos, unit=unit)
    store(unit, open_beds, period_of("day", timezone.localdate()), "20", campaign=dgos)
    owed = assignment(ars, unit)
    client = client_for(cast.hospital_respondent)
    url = reverse("collection:assignment_form", kwargs={"pk": owed.pk})
    html = client.get(url).content.decode()
    assert "Toutes les réponses de cette demande sont fournies par" in html
    assert escape("« Capacités » (DGOS)") in html
    response = client.post(
        url,
        {"_revision": owed.revision, "_action": "submit", "lits_rea_ouverts": "20"},
    )
    assert response.status_code == 302
    owed.refresh_from_db()
    assert owed.status == "submitted"
    assert Value.objects.get(unit=unit).revision_count == 1  # nothing written
