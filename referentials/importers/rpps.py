"""The RPPS extract (``PS_LibreAcces_Personne_activite``) into professionals and activities.

The file has one line per activity (and per savoir-faire): a person spans several lines. The
public extract lists a person's lines together, but nothing guarantees it, and 2 million lines
must not be held in memory. So the import goes in three steps, memory bounded whatever the size:

1. **Reading** (no transaction): the file is streamed through ``referentials.rpps``; consecutive
   lines of one person become one group, written to a staging table in a temporary SQLite file
   on disk. Rejected lines are counted and listed (capped). A file with too many rejected lines,
   or that would close too large a share of the directory, is refused here, nothing written.
2. **Merging** (one transaction, all or nothing): the staging table is read back ordered by
   person, so a person whose lines were scattered comes out whole. Persons are compared by
   batches with the directory through ``row_hash`` (a hash of what the service keeps of the
   person and of their activities): an unchanged person costs one hash, nothing is written;
   a new or changed person is written in bulk and only their activities are rebuilt.
3. **Closing**: persons of the directory absent from the file are closed (never deleted).

The ``ImportRun`` is written outside the transaction, so a refusal or a failure is recorded
while the directory stays as it was. An identical file (same SHA-256 as the last successful
import) is recognised at once and nothing is read or written.
"""

import hashlib
import logging
import marshal
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from referentials import territories
from referentials.models import ImportRun, Professional, ProfessionalActivity, Status
from referentials.rpps import RppsExtract, RppsFormatError, RppsLine, read_rpps
from referentials.units import refresh_units

logger = logging.getLogger(__name__)

BATCH_PERSONS = 5000
STAGING_BATCH = 10_000
PROGRESS_EVERY = 50_000
MAX_LISTED_LINES = 1000
MAX_LISTED_WARNINGS = 100
SPECIALTY_TYPE = "S"  # "Spécialité ordinale": preferred as the professional's specialty

# progress(phase, done, total): phase "lecture" counts bytes of the file, "fusion" persons.
Progress = Callable[[str, int, int], None]


class RunStop(Exception):
    """Ends a run early with a status (refused) and a French message; nothing is written."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _DryRunRollback(Exception):
    pass


# --- Territory of an activity -----------------------------------------------------------------


def activity_territory(*, commune_code: str, postcode: str, department_code: str) -> str:
    """The INSEE territory of an activity site ("" when abroad or unknown).

    The INSEE commune code decides when there is one; then Saint-Barthélemy's and Saint-Martin's
    postcodes (97133, 97150: they would otherwise read as Guadeloupe); then the department the
    file states; then the postcode's prefix. A postcode is never read as a commune code.
    """
    known = territories.departments()
    territory = territories.territory_of_commune(commune_code)
    if territory in known:
        return territory
    postcode = postcode.strip()[:5]
    if postcode in territories.GUADELOUPE_POSTCODE_TERRITORY:
        return territories.GUADELOUPE_POSTCODE_TERRITORY[postcode]
    department = department_code.strip().upper()
    department = territories.FINESS_OVERSEAS_TO_INSEE.get(department, department)
    if department in known:
        return department
    if len(postcode) != 5 or not postcode.isdigit():
        return ""
    if postcode.startswith(("97", "98")):
        prefix = postcode[:3]
    elif postcode.startswith("20"):  # Corsica: 200xx-201xx Corse-du-Sud, the rest Haute-Corse
        prefix = "2A" if postcode < "20200" else "2B"
    else:
        prefix = postcode[:2]
    return prefix if prefix in known else ""


# --- What is kept of a person -----------------------------------------------------------------

# Staged per line: the person part (first line wins) and the activity part.
PERSON_FIELDS = (
    "national_id",
    "rpps",
    "title",
    "last_name",
    "first_name",
    "profession_code",
    "profession_label",
)
ACTIVITY_FIELDS = (
    "mode_code",
    "mode_label",
    "siret",
    "finess_site",
    "finess_legal_entity",
    "postcode",
    "commune_code",
    "territory_code",
)
PROFESSIONAL_UPDATE_FIELDS = [
    "rpps",
    "title",
    "last_name",
    "first_name",
    "profession_code",
    "profession_label",
    "specialty_code",
    "specialty_label",
    "status",
    "row_hash",
    "last_import",
]


def _max_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length  # type: ignore[union-attr, return-value]


# Values cut to their column's size (PostgreSQL refuses longer ones).
P, A = Professional, ProfessionalActivity
TITLE, LAST, FIRST = (
    _max_length(P, "title"),
    _max_length(P, "last_name"),
    _max_length(P, "first_name"),
)
PROFESSION, PROFESSION_LABEL = _max_length(P, "profession_code"), _max_length(P, "profession_label")
SKILL, SKILL_LABEL = _max_length(P, "specialty_code"), _max_length(P, "specialty_label")
MODE, MODE_LABEL = _max_length(A, "mode_code"), _max_length(A, "mode_label")
POSTCODE, COMMUNE = _max_length(A, "postcode"), _max_length(A, "commune_code")


def _person_part(line: RppsLine) -> tuple[str, ...]:
    p = line.practitioner
    return (
        p.national_id,
        p.rpps,
        (p.title_label or p.title_code)[:TITLE],
        p.last_name[:LAST],
        p.first_name[:FIRST],
        p.profession_code[:PROFESSION],
        p.profession_label[:PROFESSION_LABEL],
    )


def _activity_part(line: RppsLine) -> tuple[str, ...]:
    a = line.activity
    return (
        a.skill_type_code,
        a.skill_code[:SKILL],
        a.skill_label[:SKILL_LABEL],
        a.practice_mode_code[:MODE],
        a.practice_mode_label[:MODE_LABEL],
        a.siret,
        a.finess_site,
        a.finess_legal_entity,
        a.postcode[:POSTCODE],
        a.commune_code[:COMMUNE],
        _territory(a.commune_code, a.postcode, a.department_code),
    )


@lru_cache(maxsize=65_536)  # bounded: sites repeat (communes, postcodes)
def _territory(commune_code: str, postcode: str, department_code: str) -> str:
    return activity_territory(
        commune_code=commune_code, postcode=postcode, department_code=department_code
    )


@dataclass(slots=True)
class PersonRecord:
    """One person as the directory keeps it, built from all of their lines."""

    person: tuple[str, ...]
    specialty: tuple[str, str]
    activities: list[tuple[str, ...]]
    row_hash: str

    @classmethod
    def build(cls, person: tuple[str, ...], lines: list[tuple[str, ...]]) -> "PersonRecord":
        specialty = next(
            ((line[1], line[2]) for line in lines if line[0] == SPECIALTY_TYPE and line[1]),
            next(((line[1], line[2]) for line in lines if line[1]), ("", "")),
        )
        # One activity per site and mode: lines that differ only by savoir-faire are one.
        activities = sorted({line[3:] for line in lines})
        text = "\x1e".join(
            ["\x1f".join(person), "\x1f".join(specialty)] + ["\x1f".join(a) for a in activities]
        )
        row_hash = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        return cls(person, specialty, activities, row_hash)

    def professional(self, professional: Professional, run: ImportRun) -> Professional:
        for name, value in zip(PERSON_FIELDS, self.person, strict=True):
            setattr(professional, name, value)
        professional.specialty_code, professional.specialty_label = self.specialty
        professional.status = Status.OPEN
        professional.row_hash = self.row_hash
        professional.last_import = run
        return professional

    def activity_objects(self, professional_id: int) -> Iterator[ProfessionalActivity]:
        for values in self.activities:
            yield ProfessionalActivity(
                professional_id=professional_id,
                **dict(zip(ACTIVITY_FIELDS, values, strict=True)),
            )


# --- Step 1: reading into the staging table ---------------------------------------------------


@dataclass
class Tally:
    lines: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: int = 0
    groups: int = 0
    rejected_lines: list[dict] = field(default_factory=list)
    warning_examples: list[dict] = field(default_factory=list)

    def reject(self, line: int, column: str, reason: str) -> None:
        self.rejected += 1
        if len(self.rejected_lines) < MAX_LISTED_LINES:
            self.rejected_lines.append({"line": line, "field": column, "reason": reason})

    def collect(self, extract: RppsExtract, kept_line: int | None) -> None:
        """Parser errors so far: on the kept line, warnings; on any other line, rejections."""
        for error in extract.errors:
            if error.line == kept_line:
                self.warnings += 1
                if len(self.warning_examples) < MAX_LISTED_WARNINGS:
                    entry = {"line": error.line, "field": error.field, "reason": error.message}
                    self.warning_examples.append(entry)
            else:
                self.reject(error.line, error.field, error.message)
        extract.errors.clear()  # bounded: the parser would otherwise keep them all


def _accepted_lines(extract: RppsExtract, tally: Tally) -> Iterator[RppsLine]:
    name_column = extract.header[extract.positions["last_name"]]
    for line in extract:
        if extract.errors:
            tally.collect(extract, kept_line=line.line)
        if not line.practitioner.last_name:
            tally.reject(line.line, name_column, "nom d'exercice absent : ligne ignorée.")
            continue
        tally.accepted += 1
        yield line
    tally.collect(extract, kept_line=None)


class Staging:
    """Groups of consecutive lines of one person, on disk, read back ordered by person."""

    def __init__(self, directory: str) -> None:
        self.db = sqlite3.connect(Path(directory) / "rpps-staging.sqlite3")
        self.db.executescript(
            """
            PRAGMA journal_mode = OFF;
            PRAGMA synchronous = OFF;
            PRAGMA cache_size = -16000;
            PRAGMA temp_store = FILE;
            CREATE TABLE groups (national_id TEXT NOT NULL, line INTEGER NOT NULL, data BLOB);
            """
        )
        self.pending: list[tuple[str, int, bytes]] = []

    def add(self, national_id: str, line: int, person: tuple, activities: list[tuple]) -> None:
        self.pending.append((national_id, line, marshal.dumps((person, activities))))
        if len(self.pending) >= STAGING_BATCH:
            self.flush()

    def flush(self) -> None:
        self.db.executemany("INSERT INTO groups VALUES (?, ?, ?)", self.pending)
        self.pending.clear()

    def finish(self) -> tuple[int, int]:
        """Indexes the table; (groups, distinct persons)."""
        self.flush()
        self.db.execute("CREATE INDEX groups_person ON groups (national_id, line)")
        groups, persons = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT national_id) FROM groups"
        ).fetchone()
        return groups, persons

    def persons(self) -> Iterator[PersonRecord]:
        """Each person once, all of their lines together, in file order within the person."""
        cursor = self.db.execute("SELECT national_id, data FROM groups ORDER BY national_id, line")
        current: str | None = None
        person: tuple[str, ...] = ()
        lines: list[tuple[str, ...]] = []
        for national_id, data in cursor:
            # Our own staging rows, written above in this run: not outside data.
            group_person, group_lines = marshal.loads(data)  # noqa: S302
            if national_id != current:
                if current is not None:
                    yield PersonRecord.build(person, lines)
                current, person, lines = national_id, group_person, []
            lines.extend(group_lines)
        if current is not None:
            yield PersonRecord.build(person, lines)

    def present(self, national_ids: list[str]) -> set[str]:
        marks = ",".join("?" * len(national_ids))
        query = f"SELECT DISTINCT national_id FROM groups WHERE national_id IN ({marks})"  # noqa: S608
        return {row[0] for row in self.db.execute(query, national_ids)}

    def close(self) -> None:
        self.db.close()


def _read_into_staging(
    path: Path, staging: Staging, tally: Tally, run: ImportRun, progress: Progress | None
) -> None:
    size = path.stat().st_size
    with path.open("rb") as handle, read_rpps(handle) as extract:
        person: tuple = ()
        lines: list[tuple] = []
        first_line = 0
        for line in _accepted_lines(extract, tally):
            national_id = line.practitioner.national_id
            if not person or national_id != person[0]:
                if person:
                    staging.add(person[0], first_line, person, lines)
                    tally.groups += 1
                person, lines, first_line = _person_part(line), [], line.line
            lines.append(_activity_part(line))
            if line.line % PROGRESS_EVERY == 0:
                ImportRun.objects.filter(pk=run.pk).update(progress=line.line - 1)
                if progress:
                    progress("lecture", handle.tell(), size)
        if person:
            staging.add(person[0], first_line, person, lines)
            tally.groups += 1
        tally.lines = tally.accepted + tally.rejected
    if progress:
        progress("lecture", size, size)


# --- Step 2 and 3: merging into the directory -------------------------------------------------


def _closing_candidates(staging: Staging) -> Iterator[list[str]]:
    """National ids of open professionals absent from the file, by batches."""
    open_ids = (
        Professional.objects.filter(status=Status.OPEN)
        .order_by("pk")
        .values_list("national_id", flat=True)
    )
    batch: list[str] = []
    for national_id in open_ids.iterator(chunk_size=BATCH_PERSONS):
        batch.append(national_id)
        if len(batch) == 900:  # under SQLite's bound on query parameters
            yield from _absent(staging, batch)
            batch = []
    if batch:
        yield from _absent(staging, batch)


def _absent(staging: Staging, batch: list[str]) -> Iterator[list[str]]:
    present = staging.present(batch)
    absent = [national_id for national_id in batch if national_id not in present]
    if absent:
        yield absent


def _merge_batch(batch: list[PersonRecord], run: ImportRun, counts: dict[str, Any]) -> None:
    existing = {
        professional.national_id: professional
        for professional in Professional.objects.filter(
            national_id__in=[record.person[0] for record in batch]
        )
        .only("id", "national_id", "row_hash", "status")
        .order_by()
    }
    # PostgreSQL takes new rows through COPY, several times faster than INSERT ... VALUES.
    use_copy = connection.vendor == "postgresql"
    to_create: list[tuple[PersonRecord, Professional]] = []
    to_update: list[tuple[PersonRecord, Professional]] = []
    to_reopen: list[int] = []
    for record in batch:
        professional = existing.get(record.person[0])
        if professional is None:
            to_create.append((record, record.professional(Professional(), run)))
        elif professional.row_hash == record.row_hash:
            if professional.status == Status.OPEN:
                counts["unchanged"] += 1
            else:
                to_reopen.append(professional.pk)
        else:
            counts["reopened" if professional.status != Status.OPEN else "updated"] += 1
            to_update.append((record, record.professional(professional, run)))
    if to_create:
        created = [professional for _, professional in to_create]
        if use_copy:
            _copy(
                Professional,
                [*PERSON_FIELDS, *COPY_EXTRA_FIELDS],
                ([getattr(p, name) for name in (*PERSON_FIELDS, *COPY_EXTRA)] for p in created),
            )
        else:
            Professional.objects.bulk_create(created, batch_size=1000)
        if any(professional.pk is None for professional in created):  # COPY: no RETURNING
            ids = dict(
                Professional.objects.filter(national_id__in=[p.national_id for p in created])
                .order_by()
                .values_list("national_id", "id")
            )
            for professional in created:
                professional.pk = ids[professional.national_id]
        counts["created"] += len(to_create)
    if to_update:
        Professional.objects.bulk_update(
            [professional for _, professional in to_update],
            PROFESSIONAL_UPDATE_FIELDS,
            batch_size=1000,
        )
        ProfessionalActivity.objects.filter(
            professional_id__in=[professional.pk for _, professional in to_update]
        ).delete()
    if to_reopen:
        Professional.objects.filter(pk__in=to_reopen).update(status=Status.OPEN, last_import=run)
        counts["reopened"] += len(to_reopen)
    written = to_create + to_update
    if use_copy:
        rows = [
            (professional.pk, *values, "")
            for record, professional in written
            for values in record.activities
        ]
        _copy(ProfessionalActivity, ["professional", *ACTIVITY_FIELDS, "structure_name"], rows)
        counts["activities_written"] += len(rows)
    else:
        activities = [
            activity
            for record, professional in written
            for activity in record.activity_objects(professional.pk)
        ]
        ProfessionalActivity.objects.bulk_create(activities, batch_size=2000)
        counts["activities_written"] += len(activities)


# Fields written by COPY besides PERSON_FIELDS (``last_import`` is read as ``last_import_id``).
COPY_EXTRA_FIELDS = ["specialty_code", "specialty_label", "status", "row_hash", "last_import"]
COPY_EXTRA = ("specialty_code", "specialty_label", "status", "row_hash", "last_import_id")


def _copy(model: type[models.Model], names: list[str], rows: Iterable[Iterable]) -> None:
    quote = connection.ops.quote_name
    model_fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(quote(f.column) for f in model_fields)  # type: ignore[union-attr,arg-type]
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _merge(
    staging: Staging,
    persons: int,
    run: ImportRun,
    closing: list[list[str]],
    counts: dict[str, Any],
    progress: Progress | None,
) -> None:
    batch: list[PersonRecord] = []
    done = 0
    for record in staging.persons():
        batch.append(record)
        if len(batch) == BATCH_PERSONS:
            _merge_batch(batch, run, counts)
            done += len(batch)
            batch = []
            if progress:
                progress("fusion", done, persons)
    if batch:
        _merge_batch(batch, run, counts)
        done += len(batch)
    if progress:
        progress("fusion", done, persons)
    for national_ids in closing:
        counts["closed"] += Professional.objects.filter(
            national_id__in=national_ids, status=Status.OPEN
        ).update(status=Status.CLOSED, last_import=run)


# --- The run ----------------------------------------------------------------------------------


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def extract_date_from_name(name: str) -> date | None:
    """``PS_LibreAcces_Personne_activite_202611290000.txt`` -> 2026-11-29 (None when absent)."""
    match = re.search(r"(20\d{2})(\d{2})(\d{2})", name)
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def _new_counts() -> dict[str, Any]:
    return dict.fromkeys(
        ("created", "updated", "unchanged", "closed", "reopened", "rejected"), 0
    ) | {"activities_written": 0}


def import_rpps(
    *,
    path: Path,
    started_by: User | None = None,
    dry_run: bool = False,
    force: bool = False,
    import_run: ImportRun | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Import an RPPS ``Personne_activite`` extract; the run says what was done or refused.

    Never raises for a bad file: a refused or failed run is returned with its French message
    (status ``refused`` or ``failed``), the directory untouched.
    """
    path = Path(path)
    run = import_run or ImportRun(source=ImportRun.Source.RPPS, started_by=started_by)
    run.source = ImportRun.Source.RPPS
    run.file_name = run.file_name or path.name
    run.dry_run = dry_run = dry_run or run.dry_run
    run.forced = force = force or run.forced
    run.extract_date = extract_date_from_name(run.file_name)  # the uploaded name, if any
    run.status = ImportRun.Status.RUNNING
    run.checksum = file_checksum(path)
    run.save()
    counts = _new_counts()
    tally = Tally()
    try:
        previous = (
            ImportRun.objects.filter(
                source=ImportRun.Source.RPPS, status=ImportRun.Status.SUCCEEDED, dry_run=False
            )
            .exclude(pk=run.pk)
            .order_by("-started_at", "-pk")
            .first()
        )
        if previous is not None and previous.checksum == run.checksum:
            counts["unchanged"] = previous.counts.get("persons", 0)
            run.counts = counts | {"persons": counts["unchanged"], "identical_to": previous.pk}
            return _finish(
                run,
                ImportRun.Status.DRY_RUN if dry_run else ImportRun.Status.SUCCEEDED,
                f"Fichier identique à celui de l'import n° {previous.pk} "
                f"({previous.file_name}) : rien n'a été modifié.",
            )
        with tempfile.TemporaryDirectory(prefix="rpps-import-") as directory:
            staging = Staging(directory)
            try:
                _run_steps(path, run, staging, tally, counts, force, dry_run, progress)
            finally:
                staging.close()
    except RunStop as stop:
        _record_tally(run, tally, counts)
        return _finish(run, stop.status, stop.message)
    except Exception as error:
        logger.exception("RPPS import %s failed", run.pk)
        _record_tally(run, tally, counts)
        run.counts = _new_counts() | {"rejected": tally.rejected}
        return _finish(
            run,
            ImportRun.Status.FAILED,
            f"Échec de l'import, rien n'a été modifié : {type(error).__name__}: {error}",
        )
    _record_tally(run, tally, counts)
    changed = counts["created"] + counts["updated"] + counts["closed"] + counts["reopened"]
    summary = (
        f"{counts['persons']} professionnels lus ({tally.accepted} lignes) : "
        f"{counts['created']} créés, {counts['updated']} mis à jour, "
        f"{counts['unchanged']} inchangés, {counts['closed']} fermés, "
        f"{counts['reopened']} rouverts ; {tally.rejected} lignes rejetées."
    )
    if dry_run:
        return _finish(
            run, ImportRun.Status.DRY_RUN, f"Simulation, rien n'a été modifié. {summary}"
        )
    if not changed:
        summary += " Aucune modification."
    return _finish(run, ImportRun.Status.SUCCEEDED, summary)


def _run_steps(
    path: Path,
    run: ImportRun,
    staging: Staging,
    tally: Tally,
    counts: dict[str, Any],
    force: bool,
    dry_run: bool,
    progress: Progress | None,
) -> None:
    started = time.perf_counter()
    seconds = counts["seconds"] = {}
    try:
        _read_into_staging(path, staging, tally, run, progress)
    except RppsFormatError as error:
        raise RunStop(ImportRun.Status.REFUSED, f"Fichier refusé : {error}") from error
    groups, persons = staging.finish()
    seconds["read"] = round(time.perf_counter() - started, 1)
    counts["persons"], counts["groups"] = persons, groups
    counts["lines"], counts["warnings"] = tally.lines, tally.warnings
    # Whether the file lists each person's lines together (the public extract does).
    counts["grouped_by_person"] = groups == persons
    if tally.accepted == 0:
        raise RunStop(
            ImportRun.Status.REFUSED,
            "Fichier refusé : aucune ligne valide. Vérifiez qu'il s'agit bien de l'extraction "
            "RPPS « PS_LibreAcces_Personne_activite ».",
        )
    max_rejected = settings.DIRECTORY_MAX_REJECTED_SHARE
    if tally.rejected > max_rejected * tally.lines:
        raise RunStop(
            ImportRun.Status.REFUSED,
            f"Fichier refusé : {tally.rejected} lignes rejetées sur {tally.lines} "
            f"({_percent(tally.rejected / tally.lines)}), "
            f"au-delà du seuil de {_percent(max_rejected)}. "
            "Rien n'a été modifié ; voyez les lignes rejetées ci-dessous.",
        )
    started = time.perf_counter()
    closing = list(_closing_candidates(staging))
    seconds["closing_check"] = round(time.perf_counter() - started, 1)
    closing_count = sum(len(batch) for batch in closing)
    open_count = Professional.objects.filter(status=Status.OPEN).count()
    max_closed = settings.DIRECTORY_MAX_CLOSURE_SHARE
    if closing_count > max_closed * open_count and not force:
        raise RunStop(
            ImportRun.Status.REFUSED,
            f"Fichier refusé : il fermerait {closing_count} des {open_count} professionnels "
            f"en activité ({_percent(closing_count / open_count)}), au-delà du seuil de "
            f"{_percent(max_closed)} (fichier tronqué ou partiel ?). Rien n'a été modifié ; "
            "relancez avec --force si ces fermetures sont voulues.",
        )
    started = time.perf_counter()
    try:
        with transaction.atomic():
            _merge(staging, persons, run, closing, counts, progress)
            refresh_units()
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    seconds["merge"] = round(time.perf_counter() - started, 1)


def _percent(share: float) -> str:
    """25,0 % (French style)."""
    return f"{share * 100:.1f} %".replace(".", ",")


def _record_tally(run: ImportRun, tally: Tally, counts: dict) -> None:
    counts["rejected"] = tally.rejected
    if tally.warning_examples:
        counts["warning_examples"] = tally.warning_examples
    run.counts = counts
    run.rejected_lines = tally.rejected_lines
    run.progress = tally.lines


def _finish(run: ImportRun, status: str, message: str) -> ImportRun:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    run.save()
    return run
