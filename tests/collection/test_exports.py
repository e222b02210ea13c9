"""Exports of a campaign's values: contents, codebook, formulas, scope, the queued path."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from collection.exports import services
from collection.exports.cells import neutralise
from collection.models import Export
from notifications.models import Notification
from tests.collection.exports_world import world
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"


def _url(w):
    return reverse("collection:export_create", kwargs={"pk": w.campaign.pk})


def _csv(response):
    body = b"".join(response.streaming_content)
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def _xlsx(response):
    body = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(body))


UNIT = {
    "paris": ["750100042", "Hôpital de la Pitié", "75", "11", "355", "Centre Hospitalier (C.H.)"],
    "cayenne": ["970300026", "CH de Cayenne", "973", "03", "355", "Centre Hospitalier (C.H.)"],
    "clinic": [
        "970100228",
        "Clinique des Eaux-Claires",
        "971",
        "01",
        "355",
        "Centre Hospitalier (C.H.)",
    ],
}
CAMPAIGN = "Capacités de réanimation"
AT = "2026-03-02 10:30:00"


def test_the_long_csv_has_one_row_per_value_the_campaign_owes(cast):
    w = world(cast)
    response = client_for(cast.national_requester).post(
        _url(w), {"kind": "values_long", "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    beds = ["lits_rea_ouverts", "Lits de réanimation ouverts", "2026-03-02"]
    notes = ["observations", "Observations", "2026-03-02"]
    assert rows == [
        [
            "FINESS / RPPS",
            "Nom",
            "Département",
            "Région",
            "Catégorie",
            "Libellé de catégorie",
            "Code",
            "Libellé",
            "Période",
            "Valeur",
            "Unité",
            "Statut",
            "Campagne de la déclaration",
            "Canal",
            "Modifiée le",
        ],
        [*UNIT["paris"], *beds, "12", "lits", "Déclarée", CAMPAIGN, "formulaire en ligne", AT],
        [*UNIT["paris"], *notes, "'=1+1", "", "Déclarée", CAMPAIGN, "formulaire en ligne", AT],
        [*UNIT["cayenne"], *beds, "-2", "lits", "Déclarée", CAMPAIGN, "formulaire en ligne", AT],
        [
            *UNIT["cayenne"],
            *notes,
            "'@SUM(A1:A2)",
            "",
            "Déclarée",
            CAMPAIGN,
            "formulaire en ligne",
            AT,
        ],
        # Declared through another campaign: shared, so exported, with its own provenance.
        [*UNIT["clinic"], *beds, "30,5", "lits", "Déclarée", "", "formulaire en ligne", AT],
        [
            *UNIT["clinic"],
            "remarque_locale",
            "Remarque locale",
            "2026-03-02",
            "'-2",
            "",
            "Déclarée",
            "",
            "formulaire en ligne",
            AT,
        ],
    ]
    export = Export.objects.get()
    assert (export.status, export.row_count, export.file.name) == ("ready", 6, "")
    assert export.requested_by == cast.national_requester


def test_the_wide_xlsx_has_one_row_per_unit_and_period_and_a_codebook(cast):
    w = world(cast)
    response = client_for(cast.national_requester).post(
        _url(w), {"kind": "values_wide", "format": "xlsx"}
    )
    assert response.status_code == 200
    workbook = _xlsx(response)
    assert workbook.sheetnames == ["Données", "Dictionnaire"]
    rows = [list(r) for r in workbook["Données"].iter_rows(values_only=True)]
    fixed = ["Période", "État de la demande"]
    assert rows[0] == [
        "FINESS / RPPS",
        "Nom",
        "Département",
        "Région",
        "Catégorie",
        "Libellé de catégorie",
        *fixed,
        "lits_rea_ouverts",
        "observations",
        "remarque_locale",
    ]
    assert rows[1:] == [
        [*UNIT["paris"], "2026-03-02", "À faire", 12, "'=1+1", None],
        [*UNIT["cayenne"], "2026-03-02", "À faire", -2, "'@SUM(A1:A2)", None],
        [*UNIT["clinic"], "2026-03-02", "À faire", 30.5, None, "'-2"],
    ]
    codebook = [list(r) for r in workbook["Dictionnaire"].iter_rows(values_only=True)]
    assert codebook == [
        [
            "Code",
            "Libellé",
            "Unité",
            "Type",
            "Agrégation entre établissements",
            "Doctrine de remplissage",
            "Origine",
        ],
        [
            "lits_rea_ouverts",
            "Lits de réanimation ouverts",
            "lits",
            "Nombre entier",
            "Somme",
            "Lits armés et dotés en personnel, à 8 h.",
            "Dictionnaire des définitions",
        ],
        [
            "observations",
            "Observations",
            None,
            "Texte",
            "Somme",
            "Ce qui compte, ce qui ne compte pas.",
            "Dictionnaire des définitions",
        ],
        [
            "remarque_locale",
            "Remarque locale",
            None,
            "Texte",
            None,
            "Ce que l'établissement veut signaler.",
            "Question ad hoc (propre à l'enquête, hors dictionnaire)",
        ],
    ]


def test_no_cell_of_an_xlsx_is_a_formula_and_numbers_stay_numbers(cast):
    w = world(cast)
    response = client_for(cast.national_requester).post(
        _url(w), {"kind": "values_long", "format": "xlsx"}
    )
    workbook = _xlsx(response)
    cells = [c for row in workbook["Données"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "'=1+1" in values and "'@SUM(A1:A2)" in values and "'-2" in values
    # The stored number -2 is a number, not text: a sum over the column still works.
    [negative] = [c for c in cells if c.value == -2]
    assert negative.data_type == "n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 40 00 00 00", "'+33 1 40 00 00 00"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("12", "12"),
        ("Lits = 12", "Lits = 12"),
    ],
)
def test_text_that_a_spreadsheet_would_run_is_neutralised(text, expected):
    assert neutralise(text) == expected


def test_an_ars_export_of_a_national_campaign_has_only_its_territories(cast):
    w = world(cast)
    response = client_for(cast.ars_guadeloupe_agent).post(
        _url(w), {"kind": "values_long", "format": "csv"}
    )
    rows = _csv(response)[1:]
    assert {row[0] for row in rows} == {"970100228"}  # Pointe-à-Pitre only
    wide = _csv(
        client_for(cast.ars_idf_agent).post(_url(w), {"kind": "values_wide", "format": "csv"})
    )[1:]
    assert [row[0] for row in wide] == ["750100042"]


def test_the_export_page_shows_the_form_and_says_when_rows_are_restricted(cast):
    w = world(cast)
    page = client_for(cast.ars_idf_agent).get(_url(w))
    assert page.status_code == 200
    assert "que les établissements des territoires de votre agence" in page.content.decode()
    page = client_for(cast.national_requester).get(_url(w))
    assert "territoires de votre agence" not in page.content.decode()
    assert "2026-03-02" in page.content.decode()


@pytest.mark.parametrize("role", ["ehpad_respondent", "hospital_respondent", "curator"])
def test_respondents_and_curators_cannot_export(cast, role):
    w = world(cast)
    response = client_for(getattr(cast, role)).post(
        _url(w), {"kind": "values_long", "format": "csv"}
    )
    assert response.status_code == 403
    assert not Export.objects.exists()


def test_an_ars_whose_territories_the_campaign_does_not_reach_gets_a_404(cast):
    w = world(cast)
    w.clinic.assignments.all().delete()
    response = client_for(cast.ars_guadeloupe_agent).post(
        _url(w), {"kind": "values_long", "format": "csv"}
    )
    assert response.status_code == 404


def test_only_the_chosen_periods_are_exported(cast):
    w = world(cast)
    from tests.collection.answering import assignment
    from tests.collection.exports_world import DAY, put

    assignment(w.campaign, w.paris, day=DAY + dt.timedelta(days=1))
    rows = _csv(
        client_for(cast.national_requester).post(
            _url(w), {"kind": "values_long", "format": "csv", "periods": ["2026-03-03"]}
        )
    )[1:]
    assert [(r[0], r[8], r[9]) for r in rows] == [("750100042", "2026-03-03", "99")]
    assert put  # the value of 2026-03-03 was written by the world, now owed


def test_a_large_export_is_queued_built_by_the_task_and_notified(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    w = world(cast)
    client = client_for(cast.national_requester)
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    # Eager (embedded default): the task runs on commit, here. With a broker, the real worker
    # is tested by test_a_queued_export_is_built_after_commit_by_the_worker.
    with django_capture_on_commit_callbacks(execute=eager) as callbacks:
        response = client.post(_url(w), {"kind": "values_long", "format": "xlsx"})
    assert callbacks  # the task, queued on commit (and the notification's delivery)
    assert response.status_code == 302
    assert response["Location"] == reverse("collection:export_list")
    export = Export.objects.get()
    if not eager:
        assert export.status == Export.Status.QUEUED
        services.export_build(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == Export.Status.READY
    assert export.row_count == 6
    assert export.file.name.startswith("exports/")
    assert export.expires_at - export.finished_at == dt.timedelta(days=7)
    notification = Notification.objects.get(kind="export_ready")
    assert notification.recipient == cast.national_requester
    assert notification.link.endswith(reverse("collection:export_list"))
    listing = client.get(reverse("collection:export_list")).content.decode()
    download_url = reverse("collection:export_download", kwargs={"pk": export.pk})
    assert download_url in listing
    download = client.get(download_url)
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook["Données"].max_row == 7


def test_a_task_run_twice_builds_the_file_once(cast, settings):
    settings.EXPORT_SYNC_MAX_ROWS = 2
    w = world(cast)
    result = services.export_create(
        campaign=w.campaign,
        kind="values_long",
        format="csv",
        params={},
        user=cast.national_requester,
    )
    assert result.chunks is None
    assert services.export_build(export_id=result.export.pk) is not None
    assert services.export_build(export_id=result.export.pk) is None
    assert Notification.objects.filter(kind="export_ready").count() == 1


def _ready_export(cast, settings, *, days_left=3):
    settings.EXPORT_SYNC_MAX_ROWS = 1
    w = world(cast)
    result = services.export_create(
        campaign=w.campaign, kind="values_long", format="csv", params={}, user=cast.ars_idf_agent
    )
    services.export_build(export_id=result.export.pk)
    export = Export.objects.get(pk=result.export.pk)
    export.expires_at = timezone.now() + dt.timedelta(days=days_left)
    export.save(update_fields=["expires_at"])
    return export


def test_another_user_cannot_download_an_export(cast, settings):
    export = _ready_export(cast, settings)
    url = reverse("collection:export_download", kwargs={"pk": export.pk})
    response = client_for(cast.ars_idf_agent).get(url)
    assert response.status_code == 200
    # Read to the end: the test client then closes the response (and the file).
    assert b"".join(response.streaming_content).startswith(BOM)
    for other in (cast.national_requester, cast.ars_guadeloupe_agent, cast.ehpad_respondent):
        assert client_for(other).get(url).status_code == 404


def test_a_ready_export_is_not_served_once_its_requester_lost_access(cast, settings):
    export = _ready_export(cast, settings)
    url = reverse("collection:export_download", kwargs={"pk": export.pk})
    cast.ars_idf_agent.memberships.all().delete()
    assert client_for(cast.ars_idf_agent).get(url).status_code == 404


def test_a_ready_export_of_a_campaign_gone_is_not_served(cast, settings):
    export = _ready_export(cast, settings)
    Export.objects.filter(pk=export.pk).update(campaign=None)
    url = reverse("collection:export_download", kwargs={"pk": export.pk})
    assert client_for(cast.ars_idf_agent).get(url).status_code == 404


def test_an_expired_export_is_gone_and_the_purge_deletes_its_file(cast, settings):
    export = _ready_export(cast, settings, days_left=-1)
    storage, name = export.file.storage, export.file.name
    assert storage.exists(name)
    url = reverse("collection:export_download", kwargs={"pk": export.pk})
    response = client_for(cast.ars_idf_agent).get(url)
    assert response.status_code == 410
    assert "Export expiré" in response.content.decode()
    assert services.export_purge() == 1
    export.refresh_from_db()
    assert export.status == Export.Status.EXPIRED and not export.file
    assert not storage.exists(name)
    assert client_for(cast.ars_idf_agent).get(url).status_code == 410
    assert services.export_purge() == 0


def test_the_purge_keeps_exports_that_have_not_expired(cast, settings):
    export = _ready_export(cast, settings, days_left=1)
    assert services.export_purge() == 0
    assert export.file.storage.exists(export.file.name)


def test_the_late_list_exports_late_units_with_their_contacts(cast):
    w = world(cast)
    w.campaign.assignments.filter(unit=w.cayenne).update(
        status="late", due_at=timezone.now() - dt.timedelta(days=3)
    )
    cast.cayenne_hospital.contacts.create(role="crisis", email="crise@ch-cayenne.fr")
    rows = _csv(
        client_for(cast.national_requester).post(_url(w), {"kind": "late", "format": "csv"})
    )
    assert rows[0][:3] == ["FINESS / RPPS", "Nom", "Département"]
    late = {row[0]: row for row in rows[1:]}
    assert "970300026" in late
    assert "crise@ch-cayenne.fr" in late["970300026"]
    assert late["970300026"][7] == "3"


def test_an_xlsx_beyond_a_sheet_is_refused_in_french(cast, monkeypatch):
    w = world(cast)
    monkeypatch.setattr(services, "XLSX_MAX_ROWS", 3)
    response = client_for(cast.national_requester).post(
        _url(w), {"kind": "values_long", "format": "xlsx"}
    )
    assert response.status_code == 200
    assert "choisissez le format CSV" in response.content.decode()
    assert not Export.objects.exists()


def test_a_stored_zero_and_decimals_are_written_plainly():
    from collection.exports.cells import csv_text

    assert csv_text(Decimal("0E-6"), decimal_comma=True) == "0"
    assert csv_text(Decimal("1200.500000"), decimal_comma=True) == "1200,5"
    assert csv_text(Decimal("1E+3"), decimal_comma=False) == "1000"


@pytest.mark.realstack
def test_a_queued_export_is_built_after_commit_by_the_worker(
    transactional_db, cast, settings, celery_worker_process
):
    """Eager on the embedded default; on ``make test-real`` the worker process builds it."""
    import time

    settings.EXPORT_SYNC_MAX_ROWS = 1
    w = world(cast)
    response = client_for(cast.national_requester).post(
        _url(w), {"kind": "values_wide", "format": "csv"}
    )
    assert response.status_code == 302
    deadline = time.monotonic() + 30
    export = Export.objects.get()
    while export.status in (Export.Status.QUEUED, Export.Status.RUNNING):
        assert time.monotonic() < deadline, "l'export n'a pas été construit en 30 s"
        time.sleep(0.2)
        export.refresh_from_db()
    assert export.status == Export.Status.READY, export.error
    assert export.row_count == 3
    with export.file.open("rb") as handle:
        assert handle.read().startswith(BOM)
    assert Notification.objects.filter(kind="export_ready", recipient=cast.national_requester)


def test_the_long_export_counts_its_served_rows(cast):
    # A weekly campaign serves « lits » from the daily values of its source (a stock: the
    # Sunday's) and asks « visites »: one stored row and one served row, two rows counted,
    # so that the XLSX limit, streaming and ``Export.row_count`` see them all.
    from collection.exports.access import export_access
    from collection.exports.rows import long_table
    from surveys.periods import period_of
    from tests.collection.answering import unit_of
    from tests.collection.reusing import (
        WEEK_DAY,
        assignment_for,
        days_of,
        definition,
        reusing_campaign,
        source_campaign,
        store,
    )

    beds, visits = definition("lits", "stock"), definition("visites", "flow")
    unit = unit_of(cast.paris_hospital)
    source = source_campaign([beds], [unit])
    target = reusing_campaign([beds, visits], [beds], source=source)
    store(unit, beds, days_of(WEEK_DAY)[-1], "7", campaign=source)
    store(unit, visits, period_of("week", WEEK_DAY), "30", campaign=target)
    assignment_for(target, unit)
    access = export_access(user=cast.national_requester, campaign=target)
    assert access is not None
    table = long_table(access)
    assert table.count() == len(list(table.rows())) == 2
    result = services.export_create(
        campaign=target, kind="values_long", format="csv", params={}, user=cast.national_requester
    )
    assert result.export.row_count == 2
    assert b"".join(result.chunks)
