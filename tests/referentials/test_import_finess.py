"""The FINESS import on the real excerpts: exact rows, incremental and safe sync, curation kept."""

import gzip
import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from referentials.importers import merge as merge_module
from referentials.importers.finess import import_finess
from referentials.models import (
    Category,
    Correction,
    DirectoryChange,
    Establishment,
    ImportRun,
    LegalEntity,
)
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

SHIPPED = Path(__file__).resolve().parents[2] / "referentials" / "data"
TEST_DATA = Path(__file__).resolve().parent / "data"
MAY_2026 = SHIPPED / "etalab-cs1100502-excerpt-20260512.csv"
JANUARY_2026 = SHIPPED / "finess-light-20260107-repaired.csv"
DAMAGED = TEST_DATA / "finess-light-20260107-excel-damaged.csv"
GEOLOCATION = TEST_DATA / "etalab-cs1100507-geolocalisation-excerpt.csv"
FINESS_PLUS = TEST_DATA / "finess-plus-structures-excerpt-20260309.json"

AIN_HOSPITAL = "010000024"
AIN_LINE_START = "structureet;010000024;"


def may_rows() -> list[str]:
    """The 14 ``structureet`` lines of the May 2026 excerpt, verbatim."""
    return MAY_2026.read_text(encoding="utf-8").splitlines()[1:]


def extract(
    tmp_path: Path, name: str, extract_date: str, rows: list[str], encoding: str = "utf-8"
) -> Path:
    path = tmp_path / name
    text = f"finess;etalab;{len(rows)};{extract_date}\r\n" + "".join(f"{r}\r\n" for r in rows)
    path.write_bytes(text.encode(encoding))
    return path


def with_ain_changed(old: str, new: str) -> list[str]:
    rows = may_rows()
    index = next(i for i, row in enumerate(rows) if row.startswith(AIN_LINE_START))
    assert old in rows[index]
    rows[index] = rows[index].replace(old, new)
    return rows


def run_command(*args: object) -> dict:
    out = StringIO()
    call_command("import_finess", *map(str, args), "--json", stdout=out)
    return json.loads(out.getvalue())


def directory_snapshot() -> list[dict]:
    return list(
        Establishment.objects.order_by("finess").values(
            "finess", "name", "phone", "status", "closed_at", "row_hash", "updated_at"
        )
    )


def comparable(establishment: Establishment) -> dict:
    skipped = {"id", "legal_entity_id", "created_at", "updated_at", "last_import_id"}
    return {
        f.attname: getattr(establishment, f.attname)
        for f in Establishment._meta.concrete_fields
        if f.attname not in skipped
    }


# --- The real excerpts import exactly -------------------------------------------------------


def test_saint_martin_and_saint_barthelemy_land_in_978_and_977_not_in_guadeloupe() -> None:
    run = import_finess(path=MAY_2026)

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.counts["created"] == 14
    saint_barthelemy = Establishment.objects.get(finess="970102018")
    assert (saint_barthelemy.finess_department, saint_barthelemy.territory_code) == ("9A", "977")
    assert saint_barthelemy.commune_code == "97701"
    saint_martin = Establishment.objects.filter(finess__in=["970100400", "970102059"])
    assert {e.territory_code for e in saint_martin} == {"978"}
    assert Establishment.objects.get(finess="970300026").territory_code == "973"
    assert Establishment.objects.get(finess="980600027").territory_code == "986"
    assert Establishment.objects.get(finess="980501506").territory_code == "976"


def test_corsica_keeps_2a_and_2b_with_its_own_region() -> None:
    run = import_finess(path=JANUARY_2026)

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    south = Establishment.objects.get(finess="2A0000030")
    north = Establishment.objects.get(finess="2B0000038")
    assert (south.territory_code, south.region_code, south.commune_code) == ("2A", "94", "2A004")
    assert (north.territory_code, north.region_code) == ("2B", "94")
    assert north.legal_entity.finess == "2B0004246"


def test_identifiers_categories_and_legal_entities_come_from_the_rows() -> None:
    import_finess(path=MAY_2026)

    ain = Establishment.objects.get(finess=AIN_HOSPITAL)
    assert ain.siret == "26010004500012"
    assert ain.phone == "0474454647"
    assert ain.address == "900 RTE DE PARIS"
    assert (ain.postcode, ain.city, ain.commune_code) == ("01440", "VIRIAT", "01451")
    assert (
        ain.search_text
        == "CH DE FLEYRIAT CENTRE HOSPITALIER DE BOURG EN BRESSE FLEYRIAT VIRIAT 010000024"
    )
    ehpad = Category.objects.get(code="500")
    assert ehpad.aggregate_code == "4401"
    assert ehpad.label == "Etablissement d'hébergement pour personnes âgées dépendantes"
    # File 502 does not name legal entities: they are created from their number.
    assert ain.legal_entity.finess == "010780054"
    assert ain.legal_entity.name == "Entité juridique FINESS 010780054"


def test_placeholder_dates_are_stored_as_unknown() -> None:
    import_finess(path=[JANUARY_2026, MAY_2026])

    bugey = Establishment.objects.get(finess="010000032")  # 1901-01-01 in both fields
    assert bugey.opened_on is None and bugey.authorised_on is None
    cayenne = Establishment.objects.get(finess="970300026")  # opened 1904-04-04
    assert cayenne.opened_on is None
    assert cayenne.authorised_on == date(1998, 4, 29)
    assert Establishment.objects.get(finess=AIN_HOSPITAL).opened_on == date(1979, 2, 13)


def test_doubled_quotes_are_read_as_one_quote() -> None:
    import_finess(path=MAY_2026)

    mavouna = Establishment.objects.get(finess="980501506")
    assert mavouna.name == 'LIEU DE VIE "MAVOUNA MEMA 1"'
    assert mavouna.long_name == 'LIEU DE VIE ET D\'ACCUEIL "MAVOUNA MEMA 1"'


def test_a_cp1252_file_gives_the_same_rows_as_its_utf8_original(tmp_path: Path) -> None:
    cp1252 = extract(tmp_path, "stock-cp1252.csv", "2026-05-12", may_rows(), encoding="cp1252")

    first = import_finess(path=cp1252)
    assert first.status == ImportRun.Status.SUCCEEDED, first.message
    assert Establishment.objects.get(finess="980502199").address == "ZI VALLÉE 3 BP 208"
    history = DirectoryChange.objects.count()

    again = import_finess(path=MAY_2026)  # other bytes, same rows: recognised by their hash

    assert again.checksum != first.checksum
    assert again.counts["unchanged"] == 14
    assert again.counts["updated"] == again.counts["created"] == 0
    assert DirectoryChange.objects.count() == history


def test_geolocation_lines_before_or_after_their_rows_are_joined_and_converted_to_wgs84(
    tmp_path: Path,
) -> None:
    geolocations = GEOLOCATION.read_text(encoding="utf-8").splitlines()
    # The excerpt's second line locates a site absent from the May excerpt: it is moved onto
    # Saint-Martin's hospital, also in the Antilles' UTM zone 20N.
    geolocations[1] = geolocations[1].replace("970100012", "970100400")
    rows = may_rows()
    path = extract(tmp_path, "etalab-cs1100507.csv", "2026-05-12", [geolocations[0], *rows])
    path.write_bytes(path.read_bytes() + f"{geolocations[1]}\r\n".encode())

    run = import_finess(path=path)

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    ain = Establishment.objects.get(finess=AIN_HOSPITAL)
    assert (ain.source_x, ain.source_y, ain.source_crs) == (870262.2, 6571540.8, "EPSG:2154")
    assert ain.latitude == pytest.approx(46.2223, abs=1e-3)
    assert ain.longitude == pytest.approx(5.2092, abs=1e-3)
    saint_martin = Establishment.objects.get(finess="970100400")
    assert saint_martin.source_crs == "EPSG:5490"
    assert saint_martin.latitude == pytest.approx(16.234, abs=1e-3)
    assert saint_martin.longitude == pytest.approx(-61.529, abs=1e-3)

    # A later file 502 (no geolocation lines) leaves the coordinates alone.
    later = import_finess(path=extract(tmp_path, "502.csv", "2026-05-13", rows))
    assert later.counts["updated"] == 0
    ain.refresh_from_db()
    assert ain.latitude == pytest.approx(46.2223, abs=1e-3)


# --- Incremental, safe sync -----------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_says_so() -> None:
    first = run_command(MAY_2026)
    before = directory_snapshot()
    history = DirectoryChange.objects.count()

    second = run_command(MAY_2026)

    assert second["status"] == "succeeded"
    assert second["message"].startswith("Fichier déjà importé le ")
    assert second["message"].endswith(" : aucune modification.")
    assert second["checksum"] == first["checksum"]
    assert second["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 14,
        "closed": 0,
        "reopened": 0,
        "rejected": 0,
    }
    assert directory_snapshot() == before
    assert DirectoryChange.objects.count() == history


def test_a_newer_file_updates_the_changed_field_and_keeps_its_history(tmp_path: Path) -> None:
    import_finess(path=MAY_2026)
    june = extract(tmp_path, "june.csv", "2026-06-02", with_ain_changed("0474454647", "0474454600"))

    result = run_command(june)

    assert result["counts"]["updated"] == 1
    assert result["counts"]["unchanged"] == 13
    ain = Establishment.objects.get(finess=AIN_HOSPITAL)
    assert ain.phone == "0474454600"
    assert ain.last_import_id == result["id"]
    change = DirectoryChange.objects.get(establishment=ain)
    assert (change.field, change.old_value, change.new_value) == (
        "phone",
        "0474454647",
        "0474454600",
    )
    assert change.source == DirectoryChange.Source.IMPORT
    assert change.import_run_id == result["id"]
    assert ImportRun.objects.get(pk=result["id"]).extract_date == date(2026, 6, 2)


def test_a_vanished_establishment_is_closed_on_the_extract_date_and_reopens_when_back(
    tmp_path: Path, settings
) -> None:
    settings.DIRECTORY_MAX_CLOSURE_SHARE = 0.1  # one site of 14 is more than 5 %
    import_finess(path=MAY_2026)
    rows = may_rows()
    without_marigot = [r for r in rows if not r.startswith("structureet;970102059;")]

    closing = import_finess(path=extract(tmp_path, "june.csv", "2026-06-01", without_marigot))

    assert closing.counts["closed"] == 1
    marigot = Establishment.objects.get(finess="970102059")
    assert marigot.status == Establishment.Status.CLOSED
    assert marigot.closed_at == date(2026, 6, 1)
    assert Establishment.objects.count() == 14  # nothing is ever deleted

    reopening = import_finess(path=extract(tmp_path, "july.csv", "2026-07-01", rows))

    assert reopening.counts["reopened"] == 1
    assert reopening.counts["unchanged"] == 13
    marigot.refresh_from_db()
    assert (marigot.status, marigot.closed_at) == (Establishment.Status.OPEN, None)
    statuses = DirectoryChange.objects.filter(establishment=marigot, field="status")
    assert sorted((c.old_value, c.new_value) for c in statuses) == [
        ("closed", "open"),
        ("open", "closed"),
    ]


def test_a_file_that_would_close_too_much_is_refused_with_nothing_changed_unless_forced() -> None:
    import_finess(path=[JANUARY_2026, MAY_2026])
    before = directory_snapshot()
    history = DirectoryChange.objects.count()

    with pytest.raises(CommandError) as refused:
        call_command("import_finess", str(MAY_2026), stdout=StringIO())

    assert refused.value.returncode != 0
    assert "fermerait 44 des 58 établissements ouverts" in str(refused.value)
    assert directory_snapshot() == before
    assert DirectoryChange.objects.count() == history
    assert ImportRun.objects.latest("pk").status == ImportRun.Status.REFUSED

    forced = run_command(MAY_2026, "--force")

    assert forced["status"] == "succeeded"
    assert forced["counts"]["closed"] == 44
    assert Establishment.objects.filter(status="closed").count() == 44
    assert Establishment.objects.count() == 58


def test_the_excel_damaged_file_is_repaired_line_by_line_and_never_imported_wrong(
    tmp_path: Path, settings
) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 0.05
    damaged = DAMAGED.read_text(encoding="utf-8")
    # A line no repair can save: 8 digits whose zero-padding gives no valid check digit.
    broken = next(line for line in damaged.splitlines() if line.startswith("structureet;10000032;"))
    unsaveable = broken.replace("structureet;10000032;", "structureet;10000033;")
    path = tmp_path / "finess-excel.csv"
    path.write_text(damaged + unsaveable + "\n", encoding="utf-8")

    run = import_finess(path=path)

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.counts["created"] == 48
    assert run.counts["rejected"] == 1
    rejected = [line for line in run.rejected_lines if line["rejected"]]
    assert [(r["line"], r["field"]) for r in rejected] == [(50, "nofinesset")]
    assert "10000033" in rejected[0]["reason"]
    assert not Establishment.objects.filter(finess__in=["010000033", "10000033"]).exists()
    repairs = {(r["line"], r["field"]) for r in run.rejected_lines if not r["rejected"]}
    assert {(2, "nofinesset"), (2, "siret"), (2, "dateouv"), (3, "commune")} <= repairs
    imported = {e.finess: comparable(e) for e in Establishment.objects.all()}

    # The same rows repaired by hand (zero-padding, ISO dates, destroyed SIRETs blanked):
    # every row is found identical, by its hash and field by field.
    again = import_finess(path=JANUARY_2026)

    assert again.counts["unchanged"] == 48, again.counts
    assert again.counts["updated"] == again.counts["created"] == 0
    assert {e.finess: comparable(e) for e in Establishment.objects.all()} == imported
    bugey = Establishment.objects.get(finess="010000032")
    assert (bugey.finess_department, bugey.commune_code, bugey.phone) == (
        "01",
        "01034",
        "0479425959",
    )
    assert bugey.siret == "" and bugey.opened_on is None


def test_the_excel_damaged_file_with_too_many_rejected_lines_is_refused_whole(
    tmp_path: Path,
) -> None:
    lines = DAMAGED.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("structureet;10000024;", "structureet;10000025;")
    path = tmp_path / "finess-excel.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = import_finess(path=path)

    assert run.status == ImportRun.Status.REFUSED
    assert run.message.startswith("Fichier refusé en entier : 1 ligne(s) rejetée(s) sur 48")
    assert Establishment.objects.count() == 0


def test_a_bad_check_digit_is_rejected_with_its_line_number(tmp_path: Path, settings) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 0.1
    rows = may_rows()
    rows[3] = rows[3].replace("structureet;970102059;", "structureet;970102058;")

    run = import_finess(path=extract(tmp_path, "stock.csv", "2026-05-12", rows))

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.counts["created"] == 13
    assert run.counts["rejected"] == 1
    [line] = run.rejected_lines
    assert (line["file"], line["line"], line["field"]) == ("stock.csv", 5, "nofinesset")
    assert "970102058" in line["reason"] and "clé de contrôle" in line["reason"]
    assert not Establishment.objects.filter(finess="970102058").exists()


def test_an_unknown_category_or_a_line_with_missing_fields_is_rejected(
    tmp_path: Path, settings
) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 0.5
    rows = may_rows()
    rows[0] = rows[0].replace(";355;Centre Hospitalier (C.H.);", ";35X;Centre Hospitalier (C.H.);")
    rows[1] = ";".join(rows[1].split(";")[:20])

    run = import_finess(path=extract(tmp_path, "stock.csv", "2026-05-12", rows))

    rejected = {(r["line"], r["field"]) for r in run.rejected_lines if r["rejected"]}
    assert rejected == {(2, "categetab"), (3, "")}
    assert run.counts["created"] == 12


def test_the_import_is_atomic_a_failure_midway_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    import_finess(path=MAY_2026)
    before = directory_snapshot()
    history = DirectoryChange.objects.count()
    legal_entities = LegalEntity.objects.count()
    merge_establishments = merge_module.Merge.establishments_merge

    def fail_after_writing(self, *args, **kwargs):
        merge_establishments(self, *args, **kwargs)  # rows and history written, then failure
        raise RuntimeError("disque plein")

    monkeypatch.setattr(merge_module.Merge, "establishments_merge", fail_after_writing)
    rows = with_ain_changed("0474454647", "0474454600")
    rows.append(
        rows[0].replace("structureet;010000024;010780054;", "structureet;010000032;010780062;")
    )

    run = import_finess(path=extract(tmp_path, "june.csv", "2026-06-02", rows))

    assert run.status == ImportRun.Status.FAILED
    assert "rien n'a été modifié" in run.message and "disque plein" in run.message
    assert run.finished_at is not None
    assert directory_snapshot() == before
    assert DirectoryChange.objects.count() == history
    assert LegalEntity.objects.count() == legal_entities


def test_a_dry_run_reports_what_would_change_and_writes_nothing(tmp_path: Path) -> None:
    import_finess(path=MAY_2026)
    before = directory_snapshot()
    history = DirectoryChange.objects.count()
    june = extract(tmp_path, "june.csv", "2026-06-02", with_ain_changed("0474454647", "0474454600"))

    result = run_command(june, "--dry-run")

    assert result["status"] == "dry_run"
    assert result["dry_run"] is True
    assert result["counts"]["updated"] == 1
    assert "Rien n'a été modifié" in result["message"]
    assert directory_snapshot() == before
    assert DirectoryChange.objects.count() == history
    # A dry run is no import: the real one afterwards is not "already imported".
    assert run_command(june)["counts"]["updated"] == 1


def test_the_command_prints_a_french_summary(capsys) -> None:
    out = StringIO()
    call_command("import_finess", str(MAY_2026), stdout=out)
    text = out.getvalue()
    assert "Terminé — Import terminé : 14 établissement(s) créé(s)" in text
    assert "Extraction du 12/05/2026" in text


# --- Curation survives imports --------------------------------------------------------------


def test_a_curators_correction_survives_a_reimport_and_a_source_change_is_listed(
    tmp_path: Path,
) -> None:
    import_finess(path=MAY_2026)
    ain = Establishment.objects.get(finess=AIN_HOSPITAL)
    correction = Correction.objects.create(
        establishment=ain,
        field="phone",
        value="0474000000",
        source_value=ain.phone,
        created_by=UserFactory(),
    )
    Establishment.objects.filter(pk=ain.pk).update(phone=correction.value)
    # The source changes the corrected phone and, on the same row, the fax.
    rows = with_ain_changed("0474454647;0474454114", "0474454600;0474454199")

    run = import_finess(path=extract(tmp_path, "june.csv", "2026-06-02", rows))

    ain.refresh_from_db()
    assert ain.phone == "0474000000"  # the correction is kept
    assert ain.fax == "0474454199"  # the rest of the row is updated
    assert run.disagreements == [
        {
            "correction": correction.pk,
            "finess": AIN_HOSPITAL,
            "field": "phone",
            "corrected_value": "0474000000",
            "source_value_at_correction": "0474454647",
            "new_source_value": "0474454600",
        }
    ]
    fields = set(DirectoryChange.objects.filter(import_run=run).values_list("field", flat=True))
    assert fields == {"fax"}
    correction.refresh_from_db()
    assert correction.source_value == "0474454647"  # visible until a curator acts

    # The next import still lists it, even though the row itself is unchanged.
    later = import_finess(path=extract(tmp_path, "july.csv", "2026-07-01", rows))
    assert later.counts["unchanged"] == 14
    assert [d["finess"] for d in later.disagreements] == [AIN_HOSPITAL]
    ain.refresh_from_db()
    assert ain.phone == "0474000000"


def test_a_corrected_name_is_searchable_after_an_import(tmp_path: Path) -> None:
    import_finess(path=MAY_2026)
    ain = Establishment.objects.get(finess=AIN_HOSPITAL)
    Correction.objects.create(
        establishment=ain,
        field="name",
        value="Hôpital Fleyriat",
        source_value=ain.name,
        created_by=UserFactory(),
    )
    rows = with_ain_changed("0474454647", "0474454600")

    import_finess(path=extract(tmp_path, "june.csv", "2026-06-02", rows))

    ain.refresh_from_db()
    assert ain.name == "Hôpital Fleyriat"
    assert ain.search_text.startswith("HOPITAL FLEYRIAT ")


# --- FiNESS+ -----------------------------------------------------------------------------


def test_a_finess_plus_file_plain_or_gzip_imports_its_sites_and_stated_closures(
    tmp_path: Path,
) -> None:
    gzipped = tmp_path / "finess-plus.json.gz"
    gzipped.write_bytes(gzip.compress(FINESS_PLUS.read_bytes()))

    run = run_command(gzipped)

    assert run["source"] == "finess_plus"
    assert run["status"] == "succeeded", run["message"]
    assert run["extract_date"] == "2026-03-09"
    convert = Establishment.objects.get(finess="010780195")
    assert convert.name == "CLINIQUE CONVERT"
    assert (convert.territory_code, convert.commune_code, convert.region_code) == (
        "01",
        "01053",
        "84",
    )
    assert convert.latitude == pytest.approx(46.211257)
    assert convert.legal_entity.name == "CLINIQUE CONVERT"
    retirement_home = LegalEntity.objects.get(finess="010000016")
    assert retirement_home.status == "closed"
    assert retirement_home.closed_at == date(2019, 3, 3)

    again = run_command(FINESS_PLUS)  # the same content, not gzipped: nothing changes
    assert again["counts"]["unchanged"] == 1
    assert again["counts"]["updated"] == 0


# --- Legal entities (file 501) and the admin's entry point ---------------------------------

AIN_LEGAL_ENTITY = (
    "structureej;010780054;CH DE FLEYRIAT;CENTRE HOSPITALIER DE BOURG EN BRESSE;;900;RTE;"
    "DE PARIS;;;;451;01440 VIRIAT;01;AIN;0474454647;13;Etb.Pub.Communal Hospitalisation;"
    "355;Centre Hospitalier (C.H.);260100045;8610Z;1979-02-13;"
)


def test_a_file_501_names_the_legal_entities_a_file_502_only_numbered(tmp_path: Path) -> None:
    import_finess(path=MAY_2026)
    assert LegalEntity.objects.get(finess="010780054").name.startswith("Entité juridique FINESS")
    establishments = directory_snapshot()

    # A lone 501 closes the legal entities it does not list, never an establishment.
    run = import_finess(
        path=extract(tmp_path, "etalab-cs1100501.csv", "2026-05-12", [AIN_LEGAL_ENTITY]),
        force=True,
    )

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert run.counts["legal_entities"]["updated"] == 1
    entity = LegalEntity.objects.get(finess="010780054")
    assert (entity.name, entity.siren, entity.legal_status_code) == (
        "CH DE FLEYRIAT",
        "260100045",
        "13",
    )
    assert (entity.territory_code, entity.commune_code, entity.opened_on) == (
        "01",
        "01451",
        date(1979, 2, 13),
    )
    assert run.counts["legal_entities"]["closed"] == LegalEntity.objects.count() - 1
    assert directory_snapshot() == establishments
    # Legal entities keep their history too: the name a 501 gives, the closures it implies.
    renamed = DirectoryChange.objects.get(legal_entity=entity, field="name", import_run=run)
    assert renamed.old_value == "Entité juridique FINESS 010780054"
    assert renamed.new_value == "CH DE FLEYRIAT"
    assert renamed.source == DirectoryChange.Source.IMPORT
    closures = DirectoryChange.objects.filter(
        legal_entity__isnull=False, field="status", new_value="closed", import_run=run
    )
    assert closures.count() == run.counts["legal_entities"]["closed"]


def test_run_import_reads_the_uploaded_file_of_an_admin_run(tmp_path: Path, settings) -> None:
    from django.core.files.base import ContentFile

    from referentials.importers import run_import

    settings.MEDIA_ROOT = tmp_path / "media"
    run = ImportRun(source=ImportRun.Source.FINESS_ETALAB, file_name="stock-mai.csv", dry_run=True)
    run.stored_file.save("stock-mai.csv", ContentFile(MAY_2026.read_bytes()), save=False)
    run.save()

    done = run_import(import_run=run)

    assert done.pk == run.pk
    assert done.status == ImportRun.Status.DRY_RUN
    assert done.file_name == "stock-mai.csv"
    assert done.counts["created"] == 14
    assert not Establishment.objects.exists()


def test_a_line_with_undecodable_bytes_is_rejected_never_imported_garbled(
    tmp_path: Path, settings
) -> None:
    settings.DIRECTORY_MAX_REJECTED_SHARE = 0.1
    rows = may_rows()
    path = extract(tmp_path, "stock.csv", "2026-05-12", rows, encoding="cp1252")
    # 0x81 is a byte cp1252 does not define: the name of the Ain hospital becomes unreadable.
    path.write_bytes(path.read_bytes().replace(b"CH DE FLEYRIAT;", b"CH DE FLEY\x81RIAT;", 1))

    run = import_finess(path=path)

    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    [line] = [r for r in run.rejected_lines if r["rejected"]]
    assert (line["line"], line["field"]) == (2, "name")
    assert "illisible" in line["reason"]
    assert not Establishment.objects.filter(finess=AIN_HOSPITAL).exists()
    assert Establishment.objects.count() == 13


def test_the_progress_callback_and_the_run_count_every_line_read() -> None:
    steps: list[int] = []

    run = import_finess(path=[JANUARY_2026, MAY_2026], progress=steps.append)

    assert sum(steps) == 62
    assert ImportRun.objects.get(pk=run.pk).progress == 62
    assert run.file_name == f"{JANUARY_2026.name}, {MAY_2026.name}"


def test_once_the_curator_clears_a_disputed_correction_the_next_import_brings_the_source(
    tmp_path: Path,
) -> None:
    from accounts.models import Role
    from referentials.curation import correction_clear
    from tests.accounts.factories import MembershipFactory, OrganisationFactory

    curator = UserFactory()
    MembershipFactory(user=curator, organisation=OrganisationFactory(), role=Role.CURATOR)
    import_finess(path=MAY_2026)
    ain = Establishment.objects.get(finess=AIN_HOSPITAL)
    correction = Correction.objects.create(
        establishment=ain,
        field="phone",
        value="0474000000",
        source_value=ain.phone,
        created_by=curator,
    )
    Establishment.objects.filter(pk=ain.pk).update(phone=correction.value)
    june_rows = with_ain_changed("0474454647", "0474454600")
    import_finess(path=extract(tmp_path, "june.csv", "2026-06-02", june_rows))

    correction_clear(correction=correction, acting_user=curator)
    run = import_finess(path=extract(tmp_path, "july.csv", "2026-07-01", june_rows))

    ain.refresh_from_db()
    assert ain.phone == "0474454600"
    assert run.disagreements == []
    assert run.counts["updated"] == 1
