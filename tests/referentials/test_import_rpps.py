"""The RPPS import: professionals and activity sites, incremental, atomic, bounded."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from referentials.importers import rpps as rpps_importer
from referentials.importers.rpps import activity_territory, import_rpps
from referentials.models import ImportRun, Professional, ProfessionalActivity
from referentials.rpps import normalise_header

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"
LAYOUT_52 = DATA / "rpps-personne-activite-52cols-anonymised.txt"
HEADER_56 = DATA / "rpps-personne-activite-header-56cols-2026.txt"
# The 2026 header rewords three of the 52-column headers.
REWORDED_56 = {
    "libelle civilite exercice": "libelle civilite d'exercice",
    "code departement (coord. structure)": "code departement (structure)",
    "libelle departement (coord. structure)": "libelle departement (structure)",
}
DOCTOR, AUDIO, PUBLIC_HEALTH, SPEECH = "810526018154", "0908301666", "810131860917", "0390996031"


def rows_52() -> list[list[str]]:
    text = LAYOUT_52.read_text(encoding="utf-8-sig")
    return [line.removesuffix("|").split("|") for line in text.splitlines()]


HEADER_52 = rows_52()[0]
COLUMN = {name: position for position, name in enumerate(HEADER_52)}


def write(path: Path, rows: list[list[str]], *, bom: bool = True, extra: str = "") -> Path:
    text = "".join("|".join(row) + "|\n" for row in rows) + extra
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def excerpt(tmp_path: Path, name: str = "rpps.txt", **kwargs) -> Path:
    return write(tmp_path / name, rows_52(), **kwargs)


def changed(row: list[str], **values: str) -> list[str]:
    """A copy of a data row with some columns (named as in the 52-column header) changed."""
    row = list(row)
    for name, value in values.items():
        row[COLUMN[name]] = value
    return row


def luhn_key(stem: str) -> str:
    for key in "0123456789":
        digits = stem + key
        total = sum(
            int(c) if i % 2 == 0 else (2 * int(c) - 9 if int(c) > 4 else 2 * int(c))
            for i, c in enumerate(reversed(digits))
        )
        if total % 10 == 0:
            return digits
    raise AssertionError(stem)


def layout_56(tmp_path: Path) -> Path:
    """The excerpt's records under the 2026 header, each column found by its header name."""
    header = HEADER_56.read_text(encoding="utf-8-sig").strip().removesuffix("|").split("|")
    by_name = {normalise_header(name): position for position, name in enumerate(HEADER_52)}
    sources = [
        by_name.get(REWORDED_56.get(normalise_header(name), normalise_header(name)))
        for name in header
    ]
    assert len(header) == 56 and sources.count(None) == 4  # fonction and genre d'activité
    rows = [[row[s] if s is not None else "" for s in sources] for row in rows_52()[1:]]
    return write(tmp_path / "rpps-56.txt", [header, *rows])


def directory() -> list[tuple]:
    """Everything the import wrote, comparable between runs."""
    return [
        (
            p.national_id,
            p.rpps,
            p.title,
            p.last_name,
            p.first_name,
            p.profession_code,
            p.profession_label,
            p.specialty_code,
            p.specialty_label,
            p.status,
            p.row_hash,
            sorted(
                p.activities.values_list(
                    "mode_code",
                    "siret",
                    "finess_site",
                    "finess_legal_entity",
                    "postcode",
                    "commune_code",
                    "territory_code",
                )
            ),
        )
        for p in Professional.objects.order_by("national_id")
    ]


def test_the_excerpt_creates_four_professionals_with_their_activity_sites(tmp_path) -> None:
    run = import_rpps(path=LAYOUT_52)

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.source == ImportRun.Source.RPPS
    assert len(run.checksum) == 64
    assert run.counts["created"] == 4
    assert run.counts["rejected"] == 0
    assert run.counts["grouped_by_person"] is True
    doctor = Professional.objects.get(national_id=DOCTOR)
    assert (doctor.rpps, doctor.title, doctor.last_name, doctor.first_name) == (
        "10526018154",
        "Docteur",
        "MARTIN",
        "CLAIRE",
    )
    assert (doctor.profession_code, doctor.specialty_code) == ("10", "SM53")
    assert doctor.last_import == run
    site = doctor.activities.get()
    assert (site.mode_code, site.siret, site.finess_site, site.finess_legal_entity) == (
        "S",
        "26250462400012",
        "250000700",
        "250000452",
    )
    assert (site.postcode, site.commune_code, site.territory_code) == ("25304", "25462", "25")
    audio = Professional.objects.get(national_id=AUDIO)
    assert audio.rpps == ""  # known by ADELI number only
    assert audio.activities.get().territory_code == "25"  # from the postcode, no commune code
    assert Professional.objects.get(national_id=PUBLIC_HEALTH).activities.get().territory_code == ""
    assert Professional.objects.get(national_id=SPEECH).activities.get().territory_code == "75"


def test_the_56_column_layout_gives_the_same_records(tmp_path) -> None:
    import_rpps(path=LAYOUT_52)
    before = directory()

    run = import_rpps(path=layout_56(tmp_path))

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.checksum != ImportRun.objects.exclude(pk=run.pk).get().checksum
    assert (run.counts["unchanged"], run.counts["created"], run.counts["updated"]) == (4, 0, 0)
    assert directory() == before


def test_a_byte_order_mark_changes_nothing(tmp_path) -> None:
    import_rpps(path=excerpt(tmp_path, "without-bom.txt", bom=False))
    before = directory()

    run = import_rpps(path=excerpt(tmp_path, "with-bom.txt", bom=True))

    assert run.counts["unchanged"] == 4
    assert directory() == before
    assert Professional.objects.filter(national_id=DOCTOR).exists()  # first column read


def test_a_person_with_several_activities_is_one_professional_with_each_site(tmp_path) -> None:
    header, doctor, *others = rows_52()
    saint_martin = changed(
        doctor,
        **{
            "Code mode exercice": "L",
            "Numéro SIRET site": "",
            "Numéro FINESS site": "",
            "Numéro FINESS établissement juridique": "",
            "Code postal (coord. structure)": "97150",
            "Code commune (coord. structure)": "",
        },
    )
    # The same site under a second savoir-faire: one activity, not two.
    second_skill = changed(doctor, **{"Code savoir-faire": "CAPA1"})
    path = write(tmp_path / "rpps.txt", [header, doctor, saint_martin, second_skill, *others])

    run = import_rpps(path=path)

    assert run.counts["created"] == 4
    professional = Professional.objects.get(national_id=DOCTOR)
    assert professional.specialty_code == "SM53"
    assert sorted(professional.activities.values_list("mode_code", "territory_code")) == [
        ("L", "978"),
        ("S", "25"),
    ]


def test_lines_of_one_person_scattered_in_the_file_are_merged(tmp_path) -> None:
    header, doctor, audio, public_health, speech = rows_52()
    elsewhere = changed(doctor, **{"Code postal (coord. structure)": "97133"})
    elsewhere = changed(elsewhere, **{"Code commune (coord. structure)": "97701"})
    path = write(tmp_path / "rpps.txt", [header, doctor, audio, public_health, elsewhere, speech])

    run = import_rpps(path=path)

    assert run.counts["persons"] == 4
    assert run.counts["groups"] == 5
    assert run.counts["grouped_by_person"] is False
    assert Professional.objects.count() == 4
    territories = Professional.objects.get(national_id=DOCTOR).activities.values_list(
        "territory_code", flat=True
    )
    assert sorted(territories) == ["25", "977"]


def test_reimporting_the_same_file_writes_nothing_and_says_so(tmp_path) -> None:
    first = import_rpps(path=LAYOUT_52)

    run = import_rpps(path=LAYOUT_52)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.counts["identical_to"] == first.pk
    assert (run.counts["created"], run.counts["updated"], run.counts["unchanged"]) == (0, 0, 4)
    assert "identique" in run.message
    assert set(Professional.objects.values_list("last_import", flat=True)) == {first.pk}


def test_the_same_records_in_another_file_are_unchanged(tmp_path) -> None:
    first = import_rpps(path=LAYOUT_52)
    before = directory()

    run = import_rpps(path=excerpt(tmp_path, extra="\n"))

    assert "identical_to" not in run.counts
    assert (run.counts["created"], run.counts["updated"], run.counts["unchanged"]) == (0, 0, 4)
    assert "Aucune modification" in run.message
    assert directory() == before
    assert set(Professional.objects.values_list("last_import", flat=True)) == {first.pk}


def test_a_changed_activity_is_rebuilt_for_that_person_only(tmp_path) -> None:
    import_rpps(path=LAYOUT_52)
    untouched = set(ProfessionalActivity.objects.exclude(professional__national_id=SPEECH))
    header, *rows = rows_52()
    rows[3] = changed(rows[3], **{"Code postal (coord. structure)": "75014"})

    run = import_rpps(path=write(tmp_path / "rpps.txt", [header, *rows]))

    assert (run.counts["updated"], run.counts["unchanged"]) == (1, 3)
    speech = Professional.objects.get(national_id=SPEECH)
    assert speech.activities.get().postcode == "75014"
    assert speech.last_import == run
    assert set(ProfessionalActivity.objects.exclude(professional=speech)) == untouched


def test_a_vanished_person_is_closed_and_reopened_when_back(tmp_path, settings) -> None:
    settings.DIRECTORY_MAX_CLOSURE_SHARE = 0.5
    import_rpps(path=LAYOUT_52)
    header, *rows = rows_52()

    run = import_rpps(path=write(tmp_path / "rpps.txt", [header, *rows[:3]]))

    assert run.counts["closed"] == 1
    speech = Professional.objects.get(national_id=SPEECH)
    assert speech.status == "closed"
    assert speech.activities.count() == 1  # nothing deleted

    run = import_rpps(path=LAYOUT_52)

    assert (run.counts["reopened"], run.counts["unchanged"]) == (1, 3)
    assert Professional.objects.get(national_id=SPEECH).status == "open"


def test_a_file_closing_too_many_professionals_is_refused_unless_forced(tmp_path) -> None:
    import_rpps(path=LAYOUT_52)
    before = directory()
    header, *rows = rows_52()
    truncated = write(tmp_path / "rpps.txt", [header, rows[0]])

    run = import_rpps(path=truncated)

    assert run.status == ImportRun.Status.REFUSED
    assert "fermerait 3 des 4" in run.message
    assert directory() == before

    run = import_rpps(path=truncated, force=True)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.forced
    assert Professional.objects.filter(status="closed").count() == 3


def test_a_bad_rpps_check_digit_is_rejected_with_its_line_number(tmp_path, settings) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 0.5
    header, doctor, *others = rows_52()
    bad = changed(
        doctor,
        **{"Identifiant PP": "10526018155", "Identification nationale PP": "810526018155"},
    )
    path = write(tmp_path / "rpps.txt", [header, doctor, bad, *others])

    run = import_rpps(path=path)

    assert run.status == ImportRun.Status.SUCCEEDED
    assert run.counts["rejected"] == 1
    assert run.counts["created"] == 4
    [rejected] = run.rejected_lines
    assert rejected["line"] == 3
    assert rejected["field"] == "Identifiant PP"
    assert "10526018155" in rejected["reason"] and "invalide" in rejected["reason"]


def test_missing_name_and_wrong_field_count_are_rejected_line_by_line(tmp_path, settings) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 0.5
    header, doctor, audio, public_health, speech = rows_52()
    nameless = changed(audio, **{"Nom d'exercice": ""})
    path = write(tmp_path / "rpps.txt", [header, doctor, nameless, public_health[:30], speech])

    run = import_rpps(path=path)

    assert run.counts["rejected"] == 2
    reasons = {entry["line"]: entry["reason"] for entry in run.rejected_lines}
    assert set(reasons) == {3, 4}
    assert "nom d'exercice absent" in reasons[3]
    assert "ligne tronquée" in reasons[4] and "au lieu de 52" in reasons[4]
    assert Professional.objects.count() == 2


def test_a_file_with_too_many_rejected_lines_is_refused_whole(tmp_path) -> None:
    header, doctor, *others = rows_52()
    bad = changed(doctor, **{"Identifiant PP": "10526018155"})

    run = import_rpps(path=write(tmp_path / "rpps.txt", [header, bad, *others]))

    assert run.status == ImportRun.Status.REFUSED
    assert "1 lignes rejetées sur 4" in run.message
    assert run.rejected_lines[0]["line"] == 2
    assert not Professional.objects.exists()


def test_the_list_of_rejected_lines_is_capped(tmp_path, settings) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 1.0
    source = rows_52()
    rows = [source[0], source[1]] + [source[2][:10]] * 1005

    run = import_rpps(path=write(tmp_path / "rpps.txt", rows))

    assert run.counts["rejected"] == 1005
    assert len(run.rejected_lines) == 1000


def test_a_failure_midway_changes_nothing_and_is_recorded(tmp_path, monkeypatch) -> None:
    import_rpps(path=LAYOUT_52)
    before = directory()
    header, *rows = rows_52()
    rows = [changed(row, **{"Prénom d'exercice": "CHANGÉ"}) for row in rows]
    rows.append(changed(rows[0], **{"Identifiant PP": luhn_key("1234567890")}))
    rows[-1] = changed(rows[-1], **{"Identification nationale PP": "8" + rows[-1][1]})
    monkeypatch.setattr(rpps_importer, "BATCH_PERSONS", 2)
    merge_batch = rpps_importer._merge_batch
    calls = []

    def failing_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disque plein")
        return merge_batch(*args, **kwargs)

    monkeypatch.setattr(rpps_importer, "_merge_batch", failing_second_batch)

    run = import_rpps(path=write(tmp_path / "rpps.txt", [header, *rows]))

    assert run.status == ImportRun.Status.FAILED
    assert "disque plein" in run.message
    assert run.finished_at is not None
    assert ImportRun.objects.get(pk=run.pk).status == ImportRun.Status.FAILED
    assert directory() == before


def test_a_dry_run_reports_and_writes_nothing(tmp_path) -> None:
    run = import_rpps(path=LAYOUT_52, dry_run=True)

    assert run.status == ImportRun.Status.DRY_RUN
    assert run.counts["created"] == 4
    assert not Professional.objects.exists()
    assert "Simulation" in run.message


def test_a_file_that_is_no_rpps_extract_is_refused(tmp_path) -> None:
    path = tmp_path / "finess.csv"
    path.write_text("finess;etalab;111;2026-05-12\nstructureet;010000024;\n", encoding="utf-8")

    run = import_rpps(path=path)

    assert run.status == ImportRun.Status.REFUSED
    assert "colonnes obligatoires absentes" in run.message


def test_the_extract_date_is_read_from_the_file_name(tmp_path) -> None:
    path = excerpt(tmp_path, "PS_LibreAcces_Personne_activite_202611290307.txt")

    run = import_rpps(path=path)

    assert run.extract_date.isoformat() == "2026-11-29"


def test_a_run_prepared_by_the_admin_is_the_one_completed() -> None:
    prepared = ImportRun.objects.create(
        source=ImportRun.Source.RPPS,
        file_name="PS_LibreAcces_Personne_activite_202611290307.txt",
        checksum="",
    )

    run = import_rpps(path=LAYOUT_52, import_run=prepared)

    assert run.pk == prepared.pk
    assert ImportRun.objects.count() == 1
    prepared.refresh_from_db()
    assert prepared.status == ImportRun.Status.SUCCEEDED
    assert prepared.extract_date.isoformat() == "2026-11-29"
    assert prepared.counts["created"] == 4


def test_progress_is_reported_for_reading_then_merging() -> None:
    calls = []

    import_rpps(path=LAYOUT_52, progress=lambda *call: calls.append(call))

    size = LAYOUT_52.stat().st_size
    assert calls[0] == ("lecture", size, size)
    assert calls[-1] == ("fusion", 4, 4)


@pytest.mark.parametrize(
    ("commune", "postcode", "department", "territory"),
    [
        ("25462", "25304", "", "25"),
        ("", "97150", "971", "978"),  # Saint-Martin's postcode, filed under Guadeloupe
        ("", "97133", "", "977"),  # Saint-Barthélemy's postcode
        ("97133", "97141", "", "971"),  # INSEE commune 97133 is Vieux-Fort, Guadeloupe
        ("97801", "97150", "", "978"),
        ("", "20000", "", "2A"),
        ("", "20600", "", "2B"),
        ("", "98714", "", "987"),
        ("", "GL", "", ""),  # abroad
        ("", "", "9F", "976"),
    ],
)
def test_an_activity_lands_in_its_territory(commune, postcode, department, territory) -> None:
    assert (
        activity_territory(commune_code=commune, postcode=postcode, department_code=department)
        == territory
    )


def test_the_command_prints_a_json_summary(tmp_path, capsys) -> None:
    call_command("import_rpps", str(LAYOUT_52), "--json")

    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "succeeded"
    assert summary["counts"]["created"] == 4
    assert summary["rejected_lines"] == []


def test_the_command_prints_a_french_summary_and_fails_when_refused(tmp_path, capsys) -> None:
    call_command("import_rpps", str(LAYOUT_52), "--dry-run")
    assert "Simulation" in capsys.readouterr().out
    header, doctor, *others = rows_52()
    bad = changed(doctor, **{"Identifiant PP": "10526018155"})

    with pytest.raises(CommandError, match="refusé"):
        call_command("import_rpps", str(write(tmp_path / "r.txt", [header, bad, *others])))

    out = capsys.readouterr().out
    assert "ligne 2, champ « Identifiant PP »" in out
