"""Throughput of the FINESS extract reader against a bare ``csv.reader`` on the same file.

Run from the repository root: ``.venv/bin/python bench/bench_finess_parse.py [rows]``.

Synthesises a national-sized 502 extract (100,000 rows by default) in a temporary directory by
repeating the real rows of ``referentials/data`` with rewritten, Luhn-valid FINESS numbers,
encodes it in cp1252 like the national file, then times, in the same run and on the same file:

- baseline: ``csv.reader`` over the decoded file, rows counted, nothing else;
- reader: ``referentials.finess.read_extract``, every typed record built (dates, territories,
  check digits, SIRET keys).

Each is run several times and the best time kept. The reader's peak Python memory is measured
in a separate pass with ``tracemalloc``. Nothing is written into the repository.
"""

import csv
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in the repository by this run
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from referentials.finess import read_extract  # noqa: E402
from referentials.identifiers import finess_is_valid  # noqa: E402

SOURCES = [
    ROOT / "referentials" / "data" / "etalab-cs1100502-excerpt-20260512.csv",
    ROOT / "referentials" / "data" / "finess-light-20260107-repaired.csv",
]
ROWS = 100_000
REPEATS = 5


def real_rows() -> list[list[str]]:
    rows = []
    for path in SOURCES:
        with path.open(encoding="utf-8", newline="") as handle:
            rows += [row for row in csv.reader(handle, delimiter=";") if row[0] == "structureet"]
    return rows


def with_check_digit(stem: str) -> str:
    """The 9-character FINESS number made of an 8-character stem and its Luhn key."""
    for key in "0123456789":
        if finess_is_valid(stem + key):
            return stem + key
    raise AssertionError(stem)


def synthesise(path: Path, rows: int) -> None:
    templates = real_rows()
    with path.open("w", encoding="cp1252", newline="") as handle:
        handle.write(f"finess;etalab;{rows};2026-05-12\r\n")
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        for index in range(rows):
            row = list(templates[index % len(templates)])
            row[1] = with_check_digit(row[1][:2] + f"{index:06d}")
            writer.writerow(row)


def baseline(path: Path) -> int:
    with path.open(encoding="cp1252", newline="") as handle:
        return sum(1 for _ in csv.reader(handle, delimiter=";")) - 1


def reader(path: Path) -> int:
    with read_extract(path) as extract:
        count = sum(1 for _ in extract)
    assert not extract.errors, extract.errors[:3]
    return count


def best_time(function: Callable[[Path], int], path: Path, rows: int) -> tuple[float, float]:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        count = function(path)
        times.append(time.perf_counter() - start)
        assert count == rows, (function.__name__, count)
    return min(times), statistics.median(times)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
    with tempfile.TemporaryDirectory(prefix="bench-finess-") as directory:
        path = Path(directory) / "etalab-cs1100502-synthetic.csv"
        synthesise(path, rows)
        size = path.stat().st_size
        base_best, base_median = best_time(baseline, path, rows)
        ours_best, ours_median = best_time(reader, path, rows)
        tracemalloc.start()
        reader(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"file: {rows:,} structureet rows, {size / 1e6:.1f} MB, cp1252 (temporary)")
    print(f"best of {REPEATS} runs (median in brackets)")
    for name, best, median in [
        ("csv.reader baseline", base_best, base_median),
        ("read_extract", ours_best, ours_median),
    ]:
        print(f"  {name:<20} {best:6.3f} s  {rows / best:>10,.0f} rows/s  ({median:.3f} s)")
    print(f"ratio read_extract / baseline: {ours_best / base_best:.2f}x the time")
    print(f"read_extract peak traced memory: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
