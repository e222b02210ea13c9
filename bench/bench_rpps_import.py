"""Speed and peak memory of the RPPS import (``referentials.importers.rpps``) on PostgreSQL.

Run from the repository root: ``.venv/bin/python bench/bench_rpps_import.py [--rows 2000000]``.

Creates its own database (``recueil_bench_rpps`` on the server of ``BENCH_DATABASE_URL``,
default ``postgres://postgres@127.0.0.1:5432/recueil_bench_rpps``), migrates it, and drops it at
the end. In a temporary directory it writes RPPS ``Personne_activite`` files in the 52-column
layout (UTF-8 with BOM, trailing ``|``, one line per activity): about 1 person per 2 lines, each
with 1 to 3 activities in real communes (Saint-Barthélemy and Saint-Martin included), Luhn-valid
RPPS and ADELI numbers, built on the shipped anonymised rows. Then, each in a fresh process so
that its peak resident memory (``ru_maxrss``) is its own:

1. a first import of a small file (``--small``, 200,000 lines) into an empty directory;
2. a first import of the large file (``--rows``) into an empty directory;
3. a re-sync of the same records (same content, one blank line more: a different checksum, so
   every person is read, hashed and compared; nothing is written);
4. the identical file again (recognised by its SHA-256: nothing read);
5. optionally (``--tracemalloc``) the small file's re-sync under ``tracemalloc``.

Nothing is written into the repository.
"""

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in the repository by this run
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TEMPLATE = ROOT / "tests" / "referentials" / "data" / "rpps-personne-activite-52cols-anonymised.txt"
COMMUNES = ROOT / "referentials" / "data" / "communes.csv"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/recueil_bench_rpps"
NAMES = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS"]
FIRST_NAMES = ["CLAIRE", "LUCAS", "NADIA", "HUGO", "EMMA", "LOUIS", "JADE", "GABRIEL"]


# --- The file -----------------------------------------------------------------------------------


def luhn(stem: str) -> str:
    """``stem`` followed by its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(stem)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the check digit will be at position 0
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return stem + str((10 - total % 10) % 10)


def real_places(rng: random.Random) -> list[tuple[str, str, str]]:
    """(postcode, INSEE commune code, department) of real communes, overseas ones included."""
    places = []
    with COMMUNES.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            code, _, kind, department, _, _, postcodes, _ = line.rstrip("\n").split(",")
            if kind == "commune-actuelle" and postcodes:
                places.append((postcodes.split("|")[0], code, department))
    return [*rng.sample(places, 5000), ("97133", "97701", "977"), ("97150", "97801", "978")]


def generate(path: Path, rows: int, seed: int = 2026) -> dict[str, int]:
    rng = random.Random(seed)
    lines = TEMPLATE.read_text(encoding="utf-8-sig").splitlines()
    header, templates = lines[0], [line.removesuffix("|").split("|") for line in lines[1:]]
    places = real_places(rng)
    written = persons = 0
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("\ufeff" + header + "\n")
        while written < rows:
            persons += 1
            template = templates[persons % len(templates)]
            row = list(template)
            stem = f"1{persons:09d}" if template[0] == "8" else f"{persons:08d}"  # RPPS, ADELI
            identifier = luhn(stem)
            row[1], row[2] = identifier, template[0] + identifier
            row[7] = NAMES[persons % len(NAMES)] + str(persons % 997)
            row[8] = FIRST_NAMES[persons % len(FIRST_NAMES)]
            for _ in range(min(rng.choice((1, 2, 3)), rows - written)):
                postcode, commune, department = rng.choice(places)
                row[35], row[36], row[44] = postcode, commune, department
                row[17] = rng.choice(("S", "L", "A"))
                handle.write("|".join(row) + "|\n")
                written += 1
    return {"lines": written, "persons": persons, "bytes": path.stat().st_size}


# --- One measured import, in its own process ----------------------------------------------------


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    os.environ["DJANGO_DEBUG"] = "0"  # DEBUG would keep every query in memory
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def peak_rss_kb() -> int:
    """This process image's peak resident memory (VmHWM), in KiB.

    ``ru_maxrss`` is printed too, but Linux carries it over from the parent at fork: VmHWM
    starts afresh with the new program, so it is the worker's own peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(database_url: str, path: Path, traced: bool) -> None:
    django_setup(database_url)
    import tracemalloc

    from referentials.importers.rpps import import_rpps

    baseline = peak_rss_kb()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    run = import_rpps(path=path)
    seconds = time.perf_counter() - started
    peak_traced = tracemalloc.get_traced_memory()[1] if traced else None
    print(
        json.dumps(
            {
                "status": run.status,
                "message": run.message,
                "counts": {k: v for k, v in run.counts.items() if not isinstance(v, list)},
                "seconds": seconds,
                "peak_rss_kb": peak_rss_kb(),
                "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "baseline_kb": baseline,
                "traced_peak": peak_traced,
            }
        )
    )


def measure(database_url: str, path: Path, traced: bool = False) -> dict:
    command = [sys.executable, __file__, "--worker", str(path), "--database-url", database_url]
    if traced:
        command.append("--tracemalloc")
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- The database -------------------------------------------------------------------------------


def recreate_database(database_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')
    if not drop_only:
        env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "0"}
        env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-used-anywhere-else")
        env.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], check=True, cwd=ROOT, env=env
        )


def report(label: str, lines: int, result: dict) -> None:
    rss = result["peak_rss_kb"] / 1024
    base = result["baseline_kb"] / 1024
    traced = (
        f", tracemalloc peak {result['traced_peak'] / 2**20:.1f} MB"
        if result["traced_peak"] is not None
        else ""
    )
    print(
        f"{label:<42} {result['seconds']:8.1f} s {lines / result['seconds']:>10,.0f} lines/s  "
        f"peak RSS {rss:6.1f} MB (Django alone {base:.1f} MB){traced}  [{result['status']}]"
    )
    print(f"{'':<42} {result['message']} Phases (s): {result['counts'].get('seconds')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--small", type=int, default=200_000)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    if args.worker:
        worker(args.database_url, args.worker, args.tracemalloc)
        return
    url = args.database_url
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPU, database {url}")
    with tempfile.TemporaryDirectory(prefix="bench-rpps-") as directory:
        small, large = Path(directory) / "small.txt", Path(directory) / "large.txt"
        started = time.perf_counter()
        small_file = generate(small, args.small)
        large_file = generate(large, args.rows)
        print(
            f"generated in {time.perf_counter() - started:.0f} s: "
            f"{small_file['lines']:,} lines / {small_file['persons']:,} persons "
            f"({small_file['bytes'] / 2**20:.0f} MB), "
            f"{large_file['lines']:,} lines / {large_file['persons']:,} persons "
            f"({large_file['bytes'] / 2**20:.0f} MB)"
        )
        try:
            recreate_database(url)
            report("small file, first import", small_file["lines"], measure(url, small))
            if args.tracemalloc:
                resync_small = Path(directory) / "small-resync.txt"
                shutil.copyfile(small, resync_small)
                with resync_small.open("ab") as handle:
                    handle.write(b"\n")
                report(
                    "small file, re-sync under tracemalloc",
                    small_file["lines"],
                    measure(url, resync_small, traced=True),
                )
            recreate_database(url)
            report("large file, first import", large_file["lines"], measure(url, large))
            with large.open("ab") as handle:  # same records, another checksum
                handle.write(b"\n")
            report("large file, re-sync (same records)", large_file["lines"], measure(url, large))
            report("large file, identical file again", large_file["lines"], measure(url, large))
        finally:
            recreate_database(url, drop_only=True)


if __name__ == "__main__":
    main()
