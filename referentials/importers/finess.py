"""Import of FINESS files (etalab 501/502/507, FiNESS+ JSON) into the directory: fast and safe.

One run reads one or several files (the 501 and the 502/507 of one extract date), then:

1. refuses at once a file identical to the last one imported from the same source (checksum),
   saying so, and writes nothing;
2. reads the files as streams into flat rows (``rows``): an unchanged row is later recognised by
   its hash alone; a spreadsheet-damaged file is repaired where one answer only is possible
   (``excel``); lines that cannot be imported are listed with their number and reason, and
   too many of them refuse the whole file;
3. in one transaction, stages the rows (``COPY`` on PostgreSQL) and merges them set-based
   (``merge``), after counting what would change: a file that would close too large a share of
   the directory is refused unless forced. Then puts back the curators' corrections and lists
   where the source now disagrees with them.

All or nothing: a refusal, a dry run or a failure rolls the transaction back; the ``ImportRun``
itself is written outside it, so that the refusal or the failure stays on record.
"""

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from referentials.finess import (
    EstablishmentRecord,
    FinessExtract,
    FinessFormatError,
    GeolocationRecord,
    LegalEntityRecord,
    read_extract,
)
from referentials.finess_plus import FinessPlusFormatError, read_finess_plus
from referentials.importers import excel
from referentials.importers.merge import Merge, Plan
from referentials.importers.rows import (
    Collected,
    Geolocation,
    Rejection,
    RowRejected,
    establishment_row,
    finish_establishments,
    legal_entity_row,
    plus_rows,
)
from referentials.models import Category, Establishment, ImportRun
from referentials.search import establishment_search_text
from referentials.units import refresh_units

logger = logging.getLogger(__name__)

MAX_LISTED_LINES = 1_000
PROGRESS_EVERY = 5_000
Progress = Callable[[int], object]


class ImportRefused(Exception):
    """The file is refused whole: nothing is changed, the reason is for the user (French)."""


class _DryRunDone(Exception):
    pass


def source_of(paths: Sequence[Path]) -> str:
    """``finess_plus`` for JSON files (plain or gzip), ``finess_etalab`` for the CSV extracts."""
    kinds = set()
    for path in paths:
        with open(path, "rb") as handle:
            start = handle.read(64).lstrip()
        is_plus = start.startswith((b"\x1f\x8b", b"{")) or path.suffix.lower() in {".json", ".gz"}
        kinds.add(ImportRun.Source.FINESS_PLUS if is_plus else ImportRun.Source.FINESS_ETALAB)
    if len(kinds) > 1:
        raise ImportRefused(
            "Un même import ne peut pas mêler un fichier FiNESS+ (JSON) et des extractions "
            "etalab (CSV) : importez-les séparément."
        )
    return kinds.pop()


def file_checksum(paths: Sequence[Path]) -> str:
    """The SHA-256 of the file (of the files' digests, in name order, for several files)."""
    digests = []
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
        digests.append((path.name, digest.hexdigest()))
    if len(digests) == 1:
        return digests[0][1]
    combined = "\n".join(f"{name} {hexdigest}" for name, hexdigest in sorted(digests))
    return hashlib.sha256(combined.encode()).hexdigest()


def import_finess(
    *,
    path: Path | str | Sequence[Path | str],
    started_by: User | None = None,
    dry_run: bool = False,
    force: bool = False,
    import_run: ImportRun | None = None,
    progress: Progress | None = None,
) -> ImportRun:
    """Import FINESS files into the directory; the run says what happened (never raises)."""
    paths = [Path(path)] if isinstance(path, str | os.PathLike) else [Path(p) for p in path]
    run = import_run or ImportRun(started_by=started_by, dry_run=dry_run, forced=force)
    # An uploaded file keeps the name it was uploaded under (stored under another one).
    run.file_name = run.file_name or ", ".join(p.name for p in paths)[:255]
    run.dry_run, run.forced = dry_run, force
    run.status = ImportRun.Status.RUNNING
    try:
        run.source = source_of(paths)
        run.checksum = file_checksum(paths)
    except ImportRefused as refusal:
        run.source = run.source or ImportRun.Source.FINESS_ETALAB
        return _finish(run, ImportRun.Status.REFUSED, str(refusal))
    except OSError as error:
        run.source = run.source or ImportRun.Source.FINESS_ETALAB
        return _finish(run, ImportRun.Status.FAILED, _failure_message(error))
    run.save()
    try:
        if _identical(run):
            return run
        collected, extract_date = _read(run, paths, progress)
        run.extract_date = extract_date
        _check_rejected(run, collected)
        _check_older(run)
        _merge(run, collected)
    except _DryRunDone:
        return _finish(run, ImportRun.Status.DRY_RUN, _summary(run, simulated=True))
    except ImportRefused as refusal:
        return _finish(run, ImportRun.Status.REFUSED, str(refusal))
    except Exception as error:
        logger.exception("FINESS import %s failed", run.pk)
        return _finish(run, ImportRun.Status.FAILED, _failure_message(error))
    return _finish(run, ImportRun.Status.SUCCEEDED, _summary(run))


def _failure_message(error: BaseException) -> str:
    if isinstance(error, FinessFormatError | FinessPlusFormatError):
        return f"Fichier illisible, rien n'a été modifié : {error}"
    if isinstance(error, OSError):
        return f"Fichier inaccessible, rien n'a été modifié : {error}"
    return f"Échec de l'import, rien n'a été modifié (erreur : {error})."


def _finish(run: ImportRun, status: str, message: str) -> ImportRun:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    run.save()
    return run


def _identical(run: ImportRun) -> bool:
    previous = (
        ImportRun.objects.filter(
            source=run.source, status=ImportRun.Status.SUCCEEDED, dry_run=False
        )
        .exclude(pk=run.pk)
        .order_by("-started_at", "-pk")
        .first()
    )
    if previous is None or previous.checksum != run.checksum or run.forced:
        return False
    counts = previous.counts or {}
    total = sum(int(counts.get(k, 0)) for k in ("created", "updated", "unchanged", "reopened"))
    run.extract_date = previous.extract_date
    run.counts = {
        "created": 0,
        "updated": 0,
        "unchanged": total,
        "closed": 0,
        "reopened": 0,
        "rejected": int(counts.get("rejected", 0)),
    }
    when = timezone.localtime(previous.started_at).strftime("%d/%m/%Y à %H:%M")
    _finish(
        run,
        ImportRun.Status.DRY_RUN if run.dry_run else ImportRun.Status.SUCCEEDED,
        f"Fichier déjà importé le {when} : aucune modification.",
    )
    return True


# --- Reading ---------------------------------------------------------------------------------


class _Progress:
    def __init__(self, run: ImportRun, callback: Progress | None) -> None:
        self.run, self.callback, self.done, self.pending = run, callback, 0, 0

    def step(self) -> None:
        self.done += 1
        self.pending += 1
        if self.pending >= PROGRESS_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.callback is not None and self.pending:
            self.callback(self.pending)
        self.pending = 0
        # Outside the import's transaction: the admin page sees the run advance.
        self.run.progress = self.done
        ImportRun.objects.filter(pk=self.run.pk).update(progress=self.done)


def _read(
    run: ImportRun, paths: Sequence[Path], callback: Progress | None
) -> tuple[Collected, date | None]:
    collected = Collected()
    progress = _Progress(run, callback)
    if run.source == ImportRun.Source.FINESS_PLUS:
        extract_date = _read_plus(paths, collected, progress)
    else:
        with excel.temporary_directory() as scratch:
            extract_date = _read_etalab(paths, Path(scratch), collected, progress)
    progress.flush()
    return collected, extract_date


def _read_etalab(
    paths: Sequence[Path], scratch: Path, collected: Collected, progress: _Progress
) -> date | None:
    extracts: list[tuple[FinessExtract, str]] = []
    try:
        for path in paths:
            readable = path
            if excel.is_damaged(path):
                readable, repairs = excel.repaired_copy(path, scratch)
                collected.rejections += [
                    Rejection(path.name, r.line, r.field, r.reason, rejected=False) for r in repairs
                ]
            extracts.append((read_extract(readable), path.name))
        # Later extracts win over earlier ones for the same establishment.
        extracts.sort(key=lambda item: item[0].extract_date)
        for extract, name in extracts:
            _read_extract(extract, name, collected, progress)
    finally:
        for extract, _name in extracts:
            extract.close()
    return max((e.extract_date for e, _ in extracts), default=None)


def _read_extract(
    extract: FinessExtract, name: str, collected: Collected, progress: _Progress
) -> None:
    seen_lines: set[int] = set()
    seen_finess: set[str] = set()  # duplicates within this file (later files simply win)
    establishments, legal_entities = collected.establishments, collected.legal_entities
    for record in extract:
        progress.step()
        collected.lines += 1
        seen_lines.add(record.line)
        try:
            if isinstance(record, EstablishmentRecord):
                collected.has_structureet = True
                if record.finess in establishments and record.finess in seen_finess:
                    collected.rejections.append(
                        Rejection(
                            name,
                            record.line,
                            "nofinesset",
                            f"établissement {record.finess} déjà lu plus haut : la dernière "
                            "ligne l'emporte.",
                            rejected=False,
                        )
                    )
                seen_finess.add(record.finess)
                establishments[record.finess] = establishment_row(record)
            elif isinstance(record, LegalEntityRecord):
                collected.has_structureej = True
                legal_entities[record.finess] = legal_entity_row(record)
            elif isinstance(record, GeolocationRecord):
                collected.has_geolocation = True
                collected.geolocations[record.finess] = Geolocation(record.x, record.y, record.crs)
        except RowRejected as error:
            collected.reject(name, record.line, error)
    # The reader notes a problem and goes on: a line it gave no record for is rejected; on a
    # line it gave, the problem is a field left empty.
    for problem in extract.errors:
        rejected = problem.line not in seen_lines
        collected.rejections.append(
            Rejection(name, problem.line, problem.field, problem.message, rejected)
        )
        collected.lines += rejected


def _read_plus(paths: Sequence[Path], collected: Collected, progress: _Progress) -> date | None:
    categories = {
        c.code: (c.label, c.aggregate_code, c.aggregate_label) for c in Category.objects.all()
    }
    extract_date = None
    for path in paths:
        with read_finess_plus(path) as plus:
            for entity in plus:
                progress.step()
                collected.lines += 1 + len(entity.establishments)
                collected.has_structureet = True
                plus_rows(entity, categories, collected)
            for error in plus.errors:
                rejected = "ignoré" in error.message
                collected.rejections.append(
                    Rejection(path.name, error.line, error.field, error.message, rejected)
                )
                collected.lines += rejected
            try:
                generated = date.fromisoformat(plus.generated_at[:10])
            except ValueError:
                generated = None
            if generated and (extract_date is None or generated > extract_date):
                extract_date = generated
    return extract_date


# --- Checks ----------------------------------------------------------------------------------


def _percent(share: float) -> str:
    return f"{share * 100:.1f}".rstrip("0").rstrip(".").replace(".", ",")


def _record_rejections(run: ImportRun, collected: Collected) -> int:
    rejected = [r for r in collected.rejections if r.rejected]
    kept = [r for r in collected.rejections if not r.rejected]
    listed = (rejected + kept)[:MAX_LISTED_LINES]
    run.rejected_lines = [r.as_dict() for r in listed]
    run.counts = {
        "rejected": len(rejected),
        "repaired_or_emptied": len(kept),
        "not_listed": len(collected.rejections) - len(listed),
        "lines": collected.lines,
    }
    return len(rejected)


def _check_rejected(run: ImportRun, collected: Collected) -> None:
    rejected = _record_rejections(run, collected)
    share = settings.DIRECTORY_MAX_REJECTED_SHARE
    total = max(collected.lines, 1)
    if rejected > share * total:
        raise ImportRefused(
            f"Fichier refusé en entier : {rejected} ligne(s) rejetée(s) sur {collected.lines} "
            f"({_percent(rejected / total)} %), au-delà du seuil de {_percent(share)} %. Rien "
            "n'a été modifié. Le détail des lignes rejetées (numéro et motif) est joint à "
            "l'import ; corrigez le fichier ou téléchargez-le à nouveau."
        )


def _check_older(run: ImportRun) -> None:
    latest = (
        ImportRun.objects.filter(source=run.source, status=ImportRun.Status.SUCCEEDED)
        .exclude(pk=run.pk)
        .exclude(extract_date=None)
        .order_by("-extract_date")
        .values_list("extract_date", flat=True)
        .first()
    )
    if run.forced or latest is None or run.extract_date is None or run.extract_date >= latest:
        return
    raise ImportRefused(
        f"Fichier refusé : extraction du {run.extract_date:%d/%m/%Y}, plus ancienne que celle "
        f"du {latest:%d/%m/%Y} déjà importée ; l'importer ramènerait l'annuaire en arrière. "
        "Rien n'a été modifié ; relancez avec --force si c'est voulu."
    )


def _check_closures(run: ImportRun, plan: Plan) -> None:
    if run.forced:
        return
    share = settings.DIRECTORY_MAX_CLOSURE_SHARE
    for closed, open_before, what in (
        (plan.closed, plan.open_before, "établissements"),
        (plan.legal_entities_closed, plan.legal_entities_open_before, "entités juridiques"),
    ):
        if closed and closed > share * open_before:
            raise ImportRefused(
                f"Fichier refusé : il fermerait {closed} des {open_before} {what} ouverts "
                f"({_percent(closed / open_before)} %), au-delà du seuil de {_percent(share)} %. "
                "Un fichier tronqué ou limité à un département ressemble à cela. Rien n'a été "
                "modifié ; relancez avec --force si ces fermetures sont voulues."
            )


# --- Writing ---------------------------------------------------------------------------------


def _merge(run: ImportRun, collected: Collected) -> None:
    legal_entities = list(collected.legal_entities.values())
    etalab = run.source == ImportRun.Source.FINESS_ETALAB
    # Stock files list every open establishment: one that is missing has closed. FiNESS+
    # states its closures; a run without structureet lines (a lone 501) closes no site.
    close_establishments = etalab and collected.has_structureet
    close_entities = etalab and collected.has_structureej
    with transaction.atomic():
        merge = Merge(run_id=run.pk, extract_date=run.extract_date, now=timezone.now())
        try:
            known = dict(Establishment.objects.values_list("finess", "row_hash").iterator(10_000))
            establishments = finish_establishments(collected, known)
            del known
            merge.stage(establishments, legal_entities)
            plan = merge.plan(
                close_absent_establishments=close_establishments,
                close_absent_entities=close_entities,
            )
            run.counts = {
                "created": plan.created,
                "updated": plan.updated,
                "unchanged": plan.unchanged,
                "closed": plan.closed,
                "reopened": plan.reopened,
                **run.counts,
                "legal_entities": {
                    "created": plan.legal_entities_created,
                    "updated": plan.legal_entities_updated,
                    "closed": plan.legal_entities_closed,
                },
            }
            _check_closures(run, plan)
            if etalab:
                merge.categories_upsert()
            merge.legal_entities_merge(close_absent=close_entities)
            merge.establishments_merge(plan)
            touched = merge.corrections_reapply()
            _search_text_refresh(touched)
            # A disagreement stays listed on every import until a curator acts: the
            # correction's ``source_value`` is deliberately NOT updated to the new source value.
            run.disagreements = merge.disagreements()
            merge.drop_staging()
            refresh_units()
        finally:
            merge.cursor.close()
        if run.dry_run:
            raise _DryRunDone


def _search_text_refresh(ids: Sequence[int]) -> None:
    """Search text of the rows a correction was put back on (name, long name or city)."""
    rows = list(
        Establishment.objects.filter(pk__in=ids).only("pk", "finess", "name", "long_name", "city")
    )
    for row in rows:
        row.search_text = establishment_search_text(
            name=row.name, long_name=row.long_name, city=row.city, finess=row.finess
        )
    Establishment.objects.bulk_update(rows, ["search_text"], batch_size=1000)


def _summary(run: ImportRun, simulated: bool = False) -> str:
    c = run.counts
    verb = "Simulation : l'import aurait donné" if simulated else "Import terminé"
    text = (
        f"{verb} : {c.get('created', 0)} établissement(s) créé(s), {c.get('updated', 0)} mis à "
        f"jour, {c.get('unchanged', 0)} inchangé(s), {c.get('closed', 0)} fermé(s), "
        f"{c.get('reopened', 0)} rouvert(s), {c.get('rejected', 0)} ligne(s) rejetée(s)."
    )
    if c.get("repaired_or_emptied"):
        text += f" {c['repaired_or_emptied']} champ(s) réparé(s) ou laissé(s) vide(s)."
    if run.disagreements:
        text += (
            f" {len(run.disagreements)} correction(s) de gestionnaire en désaccord avec la "
            "source (corrections maintenues)."
        )
    if simulated:
        text += " Rien n'a été modifié."
    return text
