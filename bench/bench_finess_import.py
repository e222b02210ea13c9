"""The FINESS import on a national-size file, against a plain COPY and django-import-export.

Run from the repository root: ``.venv/bin/python bench/bench_finess_import.py [rows]``
(PostgreSQL at ``BENCH_POSTGRES``, default ``postgres://postgres@127.0.0.1:5432``).

Creates its own database (``recueil_bench``), migrates it, synthesises in a temporary directory a
national-size etalab file 507 (100,000 ``structureet`` rows by default and one
``geolocalisation`` line each) from the real rows shipped in ``referentials/data`` with rewritten,
Luhn-valid FINESS numbers (quirks kept: doubled quotes, Saint-Barthélemy and Saint-Martin under
9A with 97133/97150, Corsica 2A/2B, placeholder dates, cp1252, CRLF), then measures in one run:

a. baseline: the file read with ``csv.reader`` and its rows ``COPY``-ed into bare text tables;
b. the full import into an empty directory (``referentials.importers.finess.import_finess``);
c. a re-sync of the unchanged file (same bytes: checksum shortcut), and of the same rows in
   other bytes (LF line ends: every row read, hashed and found unchanged);
d. a re-sync of a newer file with 1 % of the rows changed;
e. django-import-export's ``ModelResource.import_data`` on a slice of the same rows (the
   baseline a Django team would reach for), extrapolated to the full size.

The database is dropped at the end.
"""

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
DATABASE = "recueil_bench"
os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
os.environ.pop("REDIS_URL", None)

import psycopg  # noqa: E402

ROWS = 100_000
IMPORT_EXPORT_ROWS = 10_000
SOURCES = [
    ROOT / "referentials" / "data" / "etalab-cs1100502-excerpt-20260512.csv",
    ROOT / "referentials" / "data" / "finess-light-20260107-repaired.csv",
]
# One real position per CRS (the excerpt of file 507), jittered per row.
LAMBERT_93 = (870262.2, 6571540.8, "1,ATLASANTE,96,BAN,EPSG:2154 RGF93 / Lambert-93 (Métropole)")
UTM_20N = (657242.9, 1795384.4, "2,ATLASANTE,96,BAN,EPSG:5490 RGAF09/UTM Zone 20N (Antilles)")


def server_execute(sql: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


def real_rows() -> list[list[str]]:
    rows = []
    for path in SOURCES:
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [row for row in csv.reader(handle, delimiter=";") if row[0] == "structureet"]
    return rows


def with_check_digit(stem: str) -> str:
    from referentials.identifiers import finess_is_valid

    for key in "0123456789":
        if finess_is_valid(stem + key):
            return stem + key
    raise AssertionError(stem)


def synthesise(
    path: Path, rows: int, extract_date: str, changed_every: int = 0, newline: str = "\r\n"
) -> None:
    """A 507 file: structureet rows, then one geolocalisation line per establishment."""
    templates = real_rows()
    geolocations = []
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write(f"finess;etalab;{rows * 2};{extract_date}{newline}")
        writer = csv.writer(handle, delimiter=";", lineterminator=newline)
        for index in range(rows):
            row = list(templates[index % len(templates)])
            row[1] = with_check_digit(row[1][:2] + f"{index:06d}")
            # About two sites per legal entity, as in the national file.
            row[2] = with_check_digit(row[2][:2] + f"{500_000 + index // 2:06d}")
            if changed_every and index % changed_every == 0:
                row[16] = f"05{index:08d}"  # a new phone number
            writer.writerow(row)
            x, y, source = UTM_20N if row[13] in {"9A", "9B"} else LAMBERT_93
            jitter = (index % 1000) * 10.0
            geolocations.append(
                [
                    "geolocalisation",
                    row[1],
                    f"{x + jitter:.1f}",
                    f"{y - jitter:.1f}",
                    source,
                    "2026-05-04",
                ]
            )
        writer.writerows(geolocations)


def copy_baseline(path: Path) -> int:
    """The least a loader can do: read the file and COPY its rows, unchecked, as text."""
    from django.db import connection

    count = 0
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_structureet, bench_geolocalisation")
        et_columns = ", ".join(f"c{i} text" for i in range(31))
        cursor.execute(f"CREATE TABLE bench_structureet ({et_columns})")
        cursor.execute(
            "CREATE TABLE bench_geolocalisation (c0 text, c1 text, c2 text, c3 text, c4 text)"
        )
        with path.open(encoding="cp1252", newline="") as handle:
            reader = csv.reader(handle, delimiter=";")
            next(reader)
            with cursor.copy("COPY bench_structureet FROM STDIN") as et_copy:
                geolocations = []
                for row in reader:
                    if row[0] == "structureet":
                        et_copy.write_row(row[1:32])
                        count += 1
                    else:
                        geolocations.append(row[1:6])
            with cursor.copy("COPY bench_geolocalisation FROM STDIN") as geo_copy:
                for row in geolocations:
                    geo_copy.write_row(row)
        cursor.execute("CREATE UNIQUE INDEX ON bench_structureet (c0)")
    return count


def import_export_baseline(path: Path, rows: int) -> float:
    """``ModelResource.import_data`` on ``rows`` establishments (their legal entities exist)."""
    import tablib
    from django.db import connection
    from import_export import fields, resources, widgets

    from referentials.finess import EstablishmentRecord, read_extract
    from referentials.importers.rows import ET_COLUMNS, establishment_row
    from referentials.models import Establishment, LegalEntity

    class EstablishmentResource(resources.ModelResource):
        legal_entity = fields.Field(
            attribute="legal_entity",
            column_name="legal_entity_finess",
            widget=widgets.ForeignKeyWidget(LegalEntity, field="finess"),
        )

        class Meta:
            model = Establishment
            import_id_fields = ("finess",)
            skip_unchanged = True

    headers = [c for c in ET_COLUMNS if c not in {"has_geo", "closed_at", "row_hash"}]
    dataset = tablib.Dataset(headers=headers)
    with read_extract(path) as extract:
        for record in extract:
            if isinstance(record, EstablishmentRecord):
                row = establishment_row(record)
                values = dict(zip(ET_COLUMNS, row, strict=True))
                dataset.append([values[h] if values[h] is not None else "" for h in headers])
                if len(dataset) == rows:
                    break
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE referentials_directorychange, referentials_correction, "
            "referentials_functionalcontact, referentials_changeproposal, "
            "referentials_establishment CASCADE"
        )
    start = time.perf_counter()
    result = EstablishmentResource().import_data(dataset, dry_run=False, use_transactions=True)
    elapsed = time.perf_counter() - start
    assert not result.has_errors() and not result.has_validation_errors(), result.totals
    assert Establishment.objects.count() == rows
    return elapsed


def timed(label: str, function, *args):
    start = time.perf_counter()
    value = function(*args)
    elapsed = time.perf_counter() - start
    print(f"  {label:<58} {elapsed:8.2f} s", flush=True)
    return elapsed, value


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    server_execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    server_execute(f"CREATE DATABASE {DATABASE}")
    try:
        run(rows)
    finally:
        from django.db import connections

        connections.close_all()
        server_execute(f"DROP DATABASE IF EXISTS {DATABASE}")


def run(rows: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from referentials.importers.finess import import_finess
    from referentials.models import ImportRun

    def imported(path: Path) -> ImportRun:
        result = import_finess(path=path)
        assert result.status == ImportRun.Status.SUCCEEDED, result.message
        return result

    with tempfile.TemporaryDirectory(prefix="bench-finess-import-") as directory:
        may = Path(directory) / "etalab-cs1100507-may.csv"
        may_lf = Path(directory) / "etalab-cs1100507-may-lf.csv"
        june = Path(directory) / "etalab-cs1100507-june.csv"
        synthesise(may, rows, "2026-05-12")
        synthesise(may_lf, rows, "2026-05-12", newline="\n")
        synthesise(june, rows, "2026-06-01", changed_every=100)
        size = may.stat().st_size
        print(
            f"file 507: {rows:,} establishments + {rows:,} geolocation lines, {size / 1e6:.1f} MB"
        )
        copy_time, copied = timed("a. csv.reader + COPY into bare tables", copy_baseline, may)
        assert copied == rows
        full_time, full = timed("b. full import (empty directory)", imported, may)
        assert full.counts["created"] == rows, full.counts
        same_time, same = timed("c1. re-sync, identical file (checksum)", imported, may)
        assert same.counts["unchanged"] == rows
        resync_time, resync = timed("c2. re-sync, same rows in other bytes", imported, may_lf)
        assert resync.counts["unchanged"] == rows, resync.counts
        changed_time, changed = timed("d. re-sync, 1 % of the rows changed", imported, june)
        assert changed.counts["updated"] == rows // 100, changed.counts
        slice_rows = min(IMPORT_EXPORT_ROWS, rows)
        export_time = import_export_baseline(may, slice_rows)
        extrapolated = export_time * rows / slice_rows
        print(
            f"  {'e. django-import-export, ' + f'{slice_rows:,} rows':<58} {export_time:8.2f} s"
            f"  (x{rows / slice_rows:g} = {extrapolated:.0f} s for {rows:,})"
        )
    print()
    print("| step | time | rows/s |")
    print("| --- | --- | --- |")
    for label, seconds in [
        ("a. csv.reader + COPY into bare tables", copy_time),
        ("b. full import, empty directory", full_time),
        ("c1. re-sync, identical file", same_time),
        ("c2. re-sync, same rows, other bytes", resync_time),
        ("d. re-sync, 1 % changed", changed_time),
        ("e. django-import-export (extrapolated)", extrapolated),
    ]:
        print(f"| {label} | {seconds:.2f} s | {rows / seconds:,.0f} |")
    print()
    print(f"full import / COPY: {full_time / copy_time:.2f}x")
    print(f"re-sync unchanged (other bytes) / COPY: {resync_time / copy_time:.2f}x")
    print(f"django-import-export / full import: {extrapolated / full_time:.0f}x")


if __name__ == "__main__":
    main()
