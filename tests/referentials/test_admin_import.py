"""The technical admin: a FINESS or RPPS file uploaded, kept and imported by the worker; the
contacts and corrections import-export."""

import re
import time
from pathlib import Path

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referentials import importers, tasks
from referentials.admin import CorrectionResource, FunctionalContactResource
from referentials.models import (
    Correction,
    DirectoryChange,
    Establishment,
    FunctionalContact,
    ImportRun,
)
from tests.accounts.factories import UserFactory

FINESS_EXCERPT = (
    Path(__file__).resolve().parents[2]
    / "referentials"
    / "data"
    / "etalab-cs1100502-excerpt-20260512.csv"
)
UPLOAD = reverse("admin:referentials_importrun_upload")


@pytest.fixture
def staff(db, client):
    user = UserFactory(email="ops@sante.gouv.fr", is_staff=True, is_superuser=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def upload(client, content=b"finess;structureet\n", *, dry_run=False, name="etalab.csv"):
    data = {"source": ImportRun.Source.FINESS_ETALAB, "file": SimpleUploadedFile(name, content)}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(UPLOAD, data)


def test_an_upload_keeps_the_file_and_hands_the_run_to_the_queue_after_commit(
    staff, client, monkeypatch, django_capture_on_commit_callbacks
):
    enqueued = []
    monkeypatch.setattr(tasks.import_file_run, "delay", lambda run_id: enqueued.append(run_id))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(client, b"ligne 1\nligne 2\n")

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:referentials_importrun_change", args=[run.pk])
    assert len(callbacks) == 1
    assert enqueued == [run.pk]  # the task gets the run's id, once committed
    assert run.file_name == "etalab.csv"
    assert run.started_by == staff
    assert len(run.checksum) == 64
    assert Path(run.stored_file.path).read_bytes() == b"ligne 1\nligne 2\n"
    assert run.status == ImportRun.Status.RUNNING


def test_nothing_is_enqueued_before_the_commit(staff, client, monkeypatch):
    called = []
    monkeypatch.setattr(importers, "run_import", lambda **kwargs: called.append(kwargs))
    upload(client)  # the test transaction never commits
    assert ImportRun.objects.get().status == ImportRun.Status.RUNNING
    assert called == []


def test_an_uploaded_real_file_is_imported_by_the_task_in_dry_run(
    transactional_db, client, celery_worker_process
):
    """End to end: upload, commit, the task (eager here, a real worker on the real stack)."""
    user = UserFactory(email="ops@sante.gouv.fr", is_staff=True, is_superuser=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    upload(client, FINESS_EXCERPT.read_bytes(), dry_run=True, name=FINESS_EXCERPT.name)

    run = ImportRun.objects.get()
    deadline = time.monotonic() + 60
    while run.status == ImportRun.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    assert run.dry_run is True
    assert run.status == ImportRun.Status.DRY_RUN, run.message
    assert run.counts["created"] == 14
    assert not Establishment.objects.exists()  # a dry run changes nothing


def test_the_upload_form_requires_a_file(staff, client):
    response = client.post(UPLOAD, {"source": ImportRun.Source.RPPS})
    assert response.status_code == 200
    assert not ImportRun.objects.exists()


def test_staff_without_the_import_permission_cannot_upload(db, client):
    user = UserFactory(email="support@sante.gouv.fr", is_staff=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(UPLOAD).status_code == 403


def test_the_run_page_refreshes_itself_while_running(staff, client):
    run = ImportRun.objects.create(
        source=ImportRun.Source.RPPS, file_name="rpps.txt", checksum="0" * 64, progress=1200
    )
    page = reverse("admin:referentials_importrun_change", args=[run.pk])
    html = client.get(page).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html
    assert "1200 lignes traitées" in html

    run.status = ImportRun.Status.SUCCEEDED
    run.counts = {"created": 3}
    run.save()
    html = client.get(page).content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "created : 3" in html
    changelist = client.get(reverse("admin:referentials_importrun_changelist")).content.decode()
    assert UPLOAD in changelist


# --- import-export ---------------------------------------------------------------------------


def test_contacts_round_trip_through_a_spreadsheet(cast, staff, client):
    pmi = cast.saint_barthelemy_pmi
    contact = FunctionalContact.objects.create(
        establishment=pmi, role="crisis", email="crise@pmi.fr", phone="0590276000"
    )
    exported = FunctionalContactResource().export()
    assert exported.headers[:3] == ["finess", "role", "label"]
    assert exported.dict[0]["finess"] == pmi.finess

    rows = [dict(row) for row in exported.dict]
    rows[0]["phone"] = "05 90 27 60 01"
    rows.append({**rows[0], "role": "direction", "email": "Direction@PMI.fr", "phone": ""})
    edited = tablib.Dataset(headers=exported.headers)
    for row in rows:
        edited.append([row[h] for h in exported.headers])

    # The admin's import shows a preview (a dry run) before anything is written.
    preview = client.post(
        reverse("admin:referentials_functionalcontact_import"),
        {
            "resource": "0",
            "format": "0",
            "import_file": SimpleUploadedFile("contacts.csv", edited.export("csv").encode()),
        },
    )
    html = preview.content.decode()
    assert preview.status_code == 200
    assert re.search(r"059027600</span><del[^>]*>0</del><ins[^>]*>1</ins>", html)  # the diff
    assert "Nouveau" in html and "direction@pmi.fr" in html
    assert FunctionalContact.objects.count() == 1

    # Confirming posts back the hidden fields of the preview.
    confirm = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    confirm.pop("csrfmiddlewaretoken", None)
    response = client.post(reverse("admin:referentials_functionalcontact_process_import"), confirm)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phone == "0590276001"
    assert FunctionalContact.objects.get(role="direction").email == "direction@pmi.fr"
    assert DirectoryChange.objects.filter(establishment=pmi, actor=staff).count() == 2


def test_a_contact_with_a_bad_email_is_refused_at_import(cast):
    dataset = tablib.Dataset(
        headers=["finess", "role", "label", "email", "phone", "is_active", "verified_on"]
    )
    dataset.append([cast.paris_hospital.finess, "crisis", "", "pas-une-adresse", "", "1", ""])
    result = FunctionalContactResource().import_data(dataset, dry_run=False)
    assert result.has_validation_errors()
    assert not FunctionalContact.objects.exists()


def test_corrections_are_exported(cast):
    Correction.objects.create(
        establishment=cast.paris_hospital,
        field="phone",
        value="0142160000",
        reason="Standard",
        created_by=cast.curator,
    )
    row = CorrectionResource().export().dict[0]
    assert row["finess"] == cast.paris_hospital.finess
    assert (row["field"], row["value"], row["corrige_par"]) == (
        "phone",
        "0142160000",
        cast.curator.email,
    )
