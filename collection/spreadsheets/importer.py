"""From an uploaded spreadsheet to the value store: map rows, check in a batch, preview, apply.

The upload is kept as received (``Upload.file``) before anything reads it. ``analyse`` reads it
and says, row by row, what applying would do, without writing a value; ``upload_apply`` reads
it again and submits every row through ``collection.values.submit`` in ONE transaction: a row
refused at that moment rolls everything back.

Checking 10,000 rows through ``values.check`` would cost three queries a row; ``check_rows``
loads the stored values, the previous period's values and the directory facts once and calls
the schema's ``check`` per row, mirroring ``values.check`` line for line (a test compares their
verdicts on the same answers).

Comments that justify a warning come from ``commentaire_<code>`` columns (the template has one
for each answer that may warn); a blank cell keeps the stored value (clearing a value is done
in the online form).
"""

import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from collection import reuse, values
from collection.models import Channel, Upload, Value
from collection.spreadsheets import reader, template
from collection.spreadsheets.reader import Sheet, UnreadableFile, column_letter
from referentials.models import ReportingUnit
from referentials.validation import Context, parse_value, validate
from surveys.models import Assignment, Campaign
from surveys.periods import parse_period
from surveys.schema import VersionSchema, version_schema

NEW, CHANGED, UNCHANGED, ERROR, EMPTY = "new", "changed", "unchanged", "error", "empty"
STATUS_LABELS = {
    NEW: "nouvelle",
    CHANGED: "modifiée",
    UNCHANGED: "inchangée",
    ERROR: "en erreur",
    EMPTY: "vide, ignorée",
}
PERIOD_HEADERS = {"periode", "période", "period"}


class AnnotationUnavailable(Exception):
    """The uploaded file cannot be copied with its errors marked; the message says why."""


class ApplyRefused(Exception):
    """Applying stopped: nothing was written. The French message says which row and why."""


@dataclass
class RowPlan:
    sheet: str
    row: int  # 1-based, as the spreadsheet shows it
    identifier: str
    period_key: str
    label: str = ""
    assignment: Assignment | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    status: str = ""
    outcome: values.Outcome | None = None


@dataclass
class Analysis:
    file_errors: list[str] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)  # errors and notes, by cell
    rows: list[RowPlan] = field(default_factory=list)
    template_version: int | None = None

    @property
    def blocking(self) -> bool:
        return bool(self.file_errors) or any(i["severity"] == "error" for i in self.issues)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys((NEW, CHANGED, UNCHANGED, ERROR, EMPTY), 0)
        for row in self.rows:
            if row.status in counts:  # a file refused midway leaves rows unchecked
                counts[row.status] += 1
        return counts

    def issue(
        self,
        *,
        sheet: str,
        row: int | None,
        column: int | None,
        code: str,
        message: str,
        severity: str = "error",
    ) -> None:
        self.issues.append(
            {
                "sheet": sheet,
                "row": row,
                "column": column_letter(column) if column is not None else "",
                "code": code,
                "message": message,
                "severity": severity,
            }
        )

    def as_report(self) -> dict[str, Any]:
        return {
            "file_errors": self.file_errors,
            "counts": self.counts(),
            "issues": self.issues,
            "template_version": self.template_version,
            "rows": [
                {
                    "sheet": r.sheet,
                    "row": r.row,
                    "identifier": r.identifier,
                    "label": r.label,
                    "period": r.period_key,
                    "status": r.status or ERROR,
                    "assignment": r.assignment.pk if r.assignment else None,
                    "created": r.outcome.created if r.outcome else [],
                    "changed": r.outcome.changed if r.outcome else [],
                }
                for r in self.rows
            ],
        }


# --- Batch check ------------------------------------------------------------------------------


@dataclass
class Preloaded:
    """What ``values.check`` would query per row, loaded once for many (unit, period) pairs."""

    stored: dict[tuple[int, str], dict[str, Value]]
    contexts: dict[tuple[int, str], Context]


def preload(schema: VersionSchema, pairs: Iterable[tuple[int, str]]) -> Preloaded:
    pairs = set(pairs)
    units = {u for u, _ in pairs}
    periods = {p: parse_period(p) for _, p in pairs}
    previous_keys = {p: period.previous().key for p, period in periods.items()}
    codes_by_definition: dict[int | None, str] = {
        q.definition_id: q.code for q in schema.questions if q.definition_id
    }
    found: dict[tuple[int, str], dict[str, Value]] = defaultdict(dict)
    wanted_keys = set(periods) | set(previous_keys.values())
    query = Value.objects.filter(
        values._key_q(schema, schema.questions),
        unit_id__in=sorted(units),
        period_key__in=sorted(wanted_keys),
    ).select_related("campaign__owner", "changed_by")
    for value in query:
        code = codes_by_definition.get(value.definition_id, value.code)
        found[(value.unit_id, value.period_key)][code] = value
    by_code = schema.by_code
    has_facts = any(q.spec.directory_maximum for q in schema.questions)
    contexts = {}
    for unit_id, key in pairs:
        previous = found.get((unit_id, previous_keys[key]), {})
        contexts[(unit_id, key)] = Context(
            facts=(
                values.directory_facts(unit_id=unit_id, schema=schema, period=periods[key])
                if has_facts
                else {}
            ),
            previous={c: values.from_data(by_code[c].spec, v.data) for c, v in previous.items()},
        )
    return Preloaded(stored={pair: found.get(pair, {}) for pair in pairs}, contexts=contexts)


def check_row(
    schema: VersionSchema,
    answers: Mapping[str, Any],
    *,
    stored: Mapping[str, Value],
    context: Context,
    comments: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
    served: Mapping[str, "reuse.Served"] | None = None,
    assignment_id: int = 0,
) -> values.Outcome:
    """``values.check`` with the store's rows given instead of queried (same verdicts)."""
    served = served or {}
    merged = values.served_answers(values.merged_answers(answers, stored, schema), served, schema)
    asked = values.asked_schema(schema, served)
    if served or any(q.condition is not None for q in schema.questions):
        verdict = asked.check(merged, context=context, sources=sources)
        verdict = values.served_verdict(verdict, assignment_id, schema, answers, served, sources)
    else:
        # ``VersionSchema.check`` without display conditions: every question is visible, so
        # its first pass (which only finds the visible ones) and its filtering change nothing.
        verdict = validate(
            answers=merged,
            definitions=[q.spec for q in schema.questions],
            rules=schema.rules,
            context=context,
            sources=sources,
        )
    comments = comments or {}
    unjustified = [
        issue
        for issue in verdict.warnings
        if not (comments.get(issue.code) or "").strip()
        and not (issue.code in stored and stored[issue.code].comment.strip())
    ]
    outcome = values.Outcome(verdict=verdict, unjustified=unjustified)
    for code, value in verdict.values.items():
        if code in served:
            continue  # served values are read from the store, never written by this answer
        old = stored.get(code)
        new = values.to_data(value)
        if old is None:
            if new is not None:
                outcome.created.append(code)
        elif old.data != new or ((comments.get(code) or "").strip() not in ("", old.comment)):
            outcome.changed.append(code)
        else:
            outcome.unchanged.append(code)
    return outcome


def unchanged_served_dropped(
    schema: VersionSchema, answers: Mapping[str, Any], served: Mapping[str, "reuse.Served"]
) -> dict[str, Any]:
    """A served column left as the template filled it is ignored; a changed one stays, and
    ``values.check`` refuses it at its row and column."""
    kept = dict(answers)
    by_code = schema.by_code
    for code, item in served.items():
        if code not in kept or not item.available:
            continue
        try:
            same = values.to_data(parse_value(by_code[code].spec, kept[code])) == item.data
        except ValueError:
            same = False
        if same:
            del kept[code]
    return kept


def check_rows(schema: VersionSchema, rows: list[RowPlan]) -> None:
    """Check every row of one version at once; sets each row's outcome and status."""
    pairs = [(r.assignment.unit_id, r.period_key) for r in rows if r.assignment is not None]
    loaded = preload(schema, pairs)
    campaign = next((r.assignment.campaign for r in rows if r.assignment is not None), None)
    served_by_pair = (
        template.served_in(campaign, schema, [r.assignment for r in rows if r.assignment])
        if campaign is not None
        else {}
    )
    for row in rows:
        if row.assignment is None:
            continue
        pair = (row.assignment.unit_id, row.period_key)
        stored = loaded.stored[pair]
        served = served_by_pair.get(pair, {})
        row.answers = unchanged_served_dropped(schema, row.answers, served)
        if served and not row.answers and not row.comments:
            row.status = EMPTY  # only the served copies the template filled in
            continue
        row.outcome = check_row(
            schema,
            row.answers,
            stored=stored,
            context=loaded.contexts[pair],
            comments=row.comments,
            sources=row.sources,
            served=served,
            assignment_id=row.assignment.pk,
        )
        if row.outcome.blocking:
            row.status = ERROR
        elif row.outcome.created and not stored:
            row.status = NEW
        elif row.outcome.created or row.outcome.changed:
            row.status = CHANGED
        else:
            row.status = UNCHANGED


# --- Reading rows -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


@dataclass
class _Layout:
    sheet: Sheet
    header_row: int  # 0-based index of the codes row
    first_data_row: int  # 0-based
    signed: dict[str, Any] | None


def _layout(book: reader.Workbook, analysis: Analysis, name: str) -> _Layout | None:
    if template.META_SHEET in book.sheets:
        signed = _verify_template(book.sheets[template.META_SHEET], analysis, name)
        if signed is None:
            return None
        if template.DATA_SHEET not in book.sheets:
            analysis.file_errors.append(
                f"La feuille « {template.DATA_SHEET} » manque dans « {name} » : déposez le modèle "
                "tel que téléchargé, sans renommer ses feuilles."
            )
            return None
        return _Layout(book.sheets[template.DATA_SHEET], 0, template.FIRST_DATA_ROW - 1, signed)
    visible = [s for s in book.sheets.values() if not s.name.startswith("_")]
    if not visible:
        analysis.file_errors.append(f"« {name} » ne contient aucune feuille lisible.")
        return None
    sheet = visible[0]
    first = 1
    if len(sheet.rows) > 1 and _text(sheet.rows[1][0] if sheet.rows[1] else "") in (
        "FINESS",
        "RPPS",
    ):
        first = 2  # our two header rows, without the hidden sheet
    return _Layout(sheet, 0, first, None)


def _verify_template(meta_sheet: Sheet, analysis: Analysis, name: str) -> dict[str, Any] | None:
    fields = {_text(row[0]): row[1] for row in meta_sheet.rows if len(row) >= 2 and row[0]}
    refused = (
        f"Le modèle « {name} » a été modifié (feuille cachée « {template.META_SHEET} » altérée) : "
        "téléchargez un nouveau modèle et reportez-y vos réponses."
    )
    try:
        signed = template.unsign_payload(_text(fields.get("signature")))
    except signing.BadSignature:
        analysis.file_errors.append(refused)
        return None
    readable = {
        "campaign": _text(fields.get("campagne")),
        "version_id": _text(fields.get("version_id")),
        "version": _text(fields.get("version")),
        "periods": _text(fields.get("periodes")),
        "units": _text(fields.get("unites")),
    }
    expected = {
        "campaign": str(signed["campaign"]),
        "version_id": str(signed["version_id"]),
        "version": str(signed["version"]),
        "periods": ", ".join(signed["periods"]),
        "units": ", ".join(str(u) for u in signed["units"]),
    }
    if readable != expected:
        analysis.file_errors.append(refused)
        return None
    return signed


def analyse(*, user: User, campaign: Campaign, name: str, data: bytes) -> Analysis:
    """What applying this file would do, row by row; nothing is written."""
    analysis = Analysis()
    try:
        book = reader.read(name, data)
    except UnreadableFile as error:
        analysis.file_errors.append(str(error))
        return analysis
    layout = _layout(book, analysis, name)
    if layout is None:
        return analysis
    signed = layout.signed
    sheet = layout.sheet
    if signed is not None:
        analysis.template_version = signed["version"]
        if signed["campaign"] != campaign.pk:
            analysis.file_errors.append(
                f"Le modèle « {name} » est celui d'une autre campagne : déposez-le depuis la page "
                "de sa campagne, ou téléchargez le modèle de celle-ci."
            )
            return analysis
    if sheet.merged:
        analysis.file_errors.append(
            f"La feuille « {sheet.name} » de « {name} » contient des cellules fusionnées "
            f"({', '.join(sheet.merged)}) : annulez la fusion et déposez à nouveau le fichier."
        )
        return analysis
    if len(sheet.rows) <= layout.header_row:
        analysis.file_errors.append(f"La feuille « {sheet.name} » de « {name} » est vide.")
        return analysis

    mine = _assignments_for_rows(user=user, campaign=campaign)
    schemas: dict[int, VersionSchema] = {}
    schema_codes: dict[int, set[str]] = {}
    # Any version's codes may head a column; each row is checked against its own version.
    known_codes: set[str] = set()
    for assignment in mine:
        if assignment.version_id not in schemas:
            schemas[assignment.version_id] = version_schema(assignment.version)
            schema_codes[assignment.version_id] = set(schemas[assignment.version_id].codes)
            known_codes |= schema_codes[assignment.version_id]
    if not mine:
        known_codes = set(version_schema(campaign.version).codes)

    columns = _columns(sheet, layout, campaign, known_codes, analysis, name)
    if columns is None:
        return analysis
    id_index, period_index, answer_columns, comment_columns = columns

    # Formulas: their cached result is used (and said); without one the cell is refused.
    formula_values: dict[tuple[int, int], Any] = {}
    for ref, cached in sheet.formulas.items():
        row_number, col_index = _split_ref(ref)
        if row_number <= layout.first_data_row:
            continue
        if cached is None or cached == "":
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=col_index,
                code=answer_columns.get(col_index, ""),
                message=f"cellule {ref} : formule sans valeur calculée ; ouvrez le fichier dans "
                "votre tableur, enregistrez-le (ou remplacez la formule par sa valeur).",
            )
            formula_values[(row_number, col_index)] = None
        else:
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=col_index,
                code=answer_columns.get(col_index, ""),
                message=f"cellule {ref} : formule, sa valeur calculée {cached} est utilisée",
                severity="note",
            )

    by_identifier: dict[str, ReportingUnit] = {}
    for owed in mine:
        unit = owed.unit
        by_identifier[unit.identifier] = unit
        if unit.national_id.startswith("8"):
            by_identifier[unit.national_id[1:]] = unit
    by_pair = {(a.unit_id, a.period.key): a for a in mine}
    seen: dict[tuple[int, str], int] = {}
    letters = {code: column_letter(i) for i, code in answer_columns.items()}
    now = timezone.now()
    id_column_name = template.identifier_column(campaign).upper()

    for index in range(layout.first_data_row, len(sheet.rows)):
        cells = sheet.rows[index]
        row_number = index + 1

        def cell(i: int, cells: list[Any] = cells) -> Any:
            return cells[i] if i < len(cells) else None

        answers = {code: cell(i) for i, code in answer_columns.items() if cell(i) not in (None, "")}
        for r, c in formula_values:
            if r == row_number and c in answer_columns:
                answers.pop(answer_columns[c], None)
        comments = {code: _text(cell(i)) for i, code in comment_columns.items() if _text(cell(i))}
        identifier = _text(cell(id_index))
        if id_column_name == "FINESS" and identifier.isdigit() and len(identifier) == 8:
            identifier = "0" + identifier  # a FINESS typed as a number lost its leading zero
        period_key = _text(cell(period_index))
        if not identifier and not period_key and not answers and not comments:
            continue  # an empty line
        plan = RowPlan(
            sheet=sheet.name, row=row_number, identifier=identifier, period_key=period_key
        )
        analysis.rows.append(plan)
        if not answers and not comments:
            plan.status = EMPTY
            continue
        found_unit = by_identifier.get(identifier)
        if found_unit is None:
            plan.status = ERROR
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=id_index,
                code=id_column_name.lower(),
                message=f"{id_column_name} « {identifier} » : vous ne répondez pas pour cette "
                "unité dans cette campagne (hors de votre périmètre ou non destinataire).",
            )
            continue
        unit = found_unit
        plan.label = unit.label
        found_assignment = by_pair.get((unit.pk, period_key))
        if found_assignment is None:
            plan.status = ERROR
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=period_index,
                code="periode",
                message=f"période « {period_key} » : cette campagne n'attend pas de réponse de "
                f"{unit.label} pour cette période.",
            )
            continue
        assignment = found_assignment
        plan.assignment = assignment
        pair = (unit.pk, period_key)
        if pair in seen:
            plan.status = ERROR
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=id_index,
                code=id_column_name.lower(),
                message=f"{unit.label}, période {period_key} : figure deux fois, aux lignes "
                f"{seen[pair]} et {row_number} ; gardez une seule ligne.",
            )
            for other in analysis.rows:
                if other.row == seen[pair]:
                    other.status = ERROR
            continue
        seen[pair] = row_number
        if signed is not None and assignment.version_id != signed["version_id"]:
            analysis.file_errors.append(
                f"Ce modèle correspond à la version {signed['version']} ; la version en vigueur "
                f"est la {assignment.version.number} : téléchargez un nouveau modèle."
            )
            return analysis
        try:
            values.assignment_open_for_answers(assignment, now=now)
        except values.SubmissionRefused as error:
            plan.status = ERROR
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=period_index,
                code="periode",
                message=f"{unit.label}, période {period_key} : {error}",
            )
            continue
        asked = schema_codes[assignment.version_id]
        plan.answers = {c: v for c, v in answers.items() if c in asked}
        for code in answers.keys() - plan.answers.keys():
            plan.status = ERROR
            analysis.issue(
                sheet=sheet.name,
                row=row_number,
                column=_index_of(answer_columns, code),
                code=code,
                message=f"« {code} » n'est pas une question de la version "
                f"{assignment.version.number} de cette enquête.",
            )
        plan.comments = comments
        plan.sources = {
            code: f"Feuille « {sheet.name} », ligne {row_number}, colonne {letters[code]} ({code})"
            for code in answer_columns.values()
        }

    # Rows already in error stay so; the others are checked version by version.
    pending: dict[int, list[RowPlan]] = defaultdict(list)
    for plan in analysis.rows:
        if not plan.status and plan.assignment is not None:
            pending[plan.assignment.version_id].append(plan)
    for version_id, plans in pending.items():
        check_rows(schemas[version_id], plans)
        for plan in plans:
            if plan.outcome is None:
                continue
            for issue in plan.outcome.blocking:
                code = issue.code if issue.code in answer_columns.values() else ""
                if not code:
                    code = next(
                        (c for c, s in plan.sources.items() if s and s == issue.source), issue.code
                    )
                message = issue.message
                if issue in plan.outcome.unjustified:
                    message += (
                        f" Justifiez-la dans la colonne « {template.COMMENT_PREFIX}{issue.code} »."
                    )
                analysis.issue(
                    sheet=sheet.name,
                    row=plan.row,
                    column=_index_of(answer_columns, code),
                    code=code,
                    message=message,
                )
    return analysis


def _assignments_for_rows(*, user: User, campaign: Campaign) -> list[Assignment]:
    """The user's assignments of the campaign, with just what mapping and checking rows need
    (10,000 of them load in a fraction of a second); ``submit`` reloads each one it writes."""
    rows = list(
        template.respondent_assignments(user=user, campaign=campaign)
        .select_related(None)
        .select_related("unit", "period", "version")
        .only(
            "id",
            "campaign_id",
            "status",
            "version_id",
            "unit_id",
            "period_id",
            "revision",
            "unit__id",
            "unit__label",
            "unit__finess",
            "unit__national_id",
            "period__id",
            "period__key",
            "period__locks_at",
            "version__id",
            "version__number",
            "version__survey_id",
        )
    )
    for assignment in rows:
        assignment.campaign = campaign  # one object for all: the checks read its status
    return rows


def _index_of(columns: Mapping[int, str], code: str) -> int | None:
    return next((i for i, c in columns.items() if c == code), None)


def _split_ref(ref: str) -> tuple[int, int]:
    """ "D12" -> (12, 3)."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    number = int("".join(ch for ch in ref if ch.isdigit()) or 0)
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ord(ch) - 64)
    return number, index - 1


def _columns(
    sheet: Sheet,
    layout: _Layout,
    campaign: Campaign,
    known_codes: set[str],
    analysis: Analysis,
    name: str,
) -> tuple[int, int, dict[int, str], dict[int, str]] | None:
    header = [_text(v) for v in sheet.rows[layout.header_row]]
    id_name = template.identifier_column(campaign)
    id_index = period_index = None
    answer_columns: dict[int, str] = {}
    comment_columns: dict[int, str] = {}
    for index, raw in enumerate(header):
        code = raw.strip()
        lowered = code.lower()
        if not code:
            continue
        if lowered == id_name:
            id_index = index
        elif lowered in PERIOD_HEADERS:
            period_index = index
        elif lowered == template.NAME_COLUMN:
            continue
        elif code in known_codes:
            answer_columns[index] = code
        elif lowered.startswith(template.COMMENT_PREFIX):
            comment_columns[index] = code[len(template.COMMENT_PREFIX) :]
        else:
            analysis.issue(
                sheet=sheet.name,
                row=layout.header_row + 1,
                column=index,
                code=code,
                message=f"colonne « {code} » : ce n'est pas une question de cette enquête ; "
                "retirez la colonne ou corrigez son code (ligne 1).",
            )
    missing = []
    if id_index is None:
        missing.append(f"« {id_name} »")
    if period_index is None:
        missing.append("« periode »")
    if missing:
        analysis.file_errors.append(
            f"La feuille « {sheet.name} » de « {name} » n'a pas de colonne {' ni '.join(missing)} "
            "en ligne 1 : chaque ligne doit dire pour quelle unité et quelle période elle répond."
        )
        return None
    if id_index is None or period_index is None:  # for the type checker: reported above
        return None
    return id_index, period_index, answer_columns, comment_columns


# --- Services ---------------------------------------------------------------------------------


def upload_receive(*, user: User, campaign: Campaign, name: str, data: bytes) -> Upload:
    """Keep the file as received, then check it and record the preview in ``Upload.report``."""
    now = timezone.now()
    upload = Upload(
        original_name=name[:255],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=user,
        campaign=campaign,
        created_at=now,
    )
    safe_name = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[-120:]
    upload.file.save(safe_name or "fichier", ContentFile(data), save=True)
    analysis = analyse(user=user, campaign=campaign, name=name, data=data)
    upload.report = analysis.as_report()
    upload.status = Upload.Status.REJECTED if analysis.blocking else Upload.Status.CHECKED
    upload.save(update_fields=["report", "status"])
    audit_record(
        actor=user,
        action="upload.check",
        target=upload,
        details={"status": upload.status, "counts": upload.report["counts"]},
    )
    return upload


def upload_apply(*, upload: Upload, user: User) -> dict[str, int]:
    """Submit every row of a checked upload in one transaction; ``ApplyRefused`` otherwise.

    The file is read and checked again (the store may have moved since the preview). Rows
    unchanged for an assignment already transmitted are left alone; other rows are submitted.
    """
    if upload.status != Upload.Status.CHECKED:
        raise ApplyRefused(
            f"Le dépôt « {upload.original_name} » est {upload.get_status_display().lower()} : "
            "il ne peut pas être appliqué."
        )
    if upload.campaign is None:
        raise ApplyRefused("La campagne de ce dépôt n'existe plus : rien n'a été enregistré.")
    with upload.file.open("rb") as handle:
        data = handle.read()
    analysis = analyse(user=user, campaign=upload.campaign, name=upload.original_name, data=data)
    if analysis.blocking:
        upload.report = analysis.as_report()
        upload.status = Upload.Status.REJECTED
        upload.save(update_fields=["report", "status"])
        raise ApplyRefused(
            "Le fichier ne passe plus les contrôles (les valeurs enregistrées ont changé depuis "
            "l'aperçu) : rien n'a été enregistré. Consultez l'aperçu mis à jour."
        )
    applied = 0
    try:
        with transaction.atomic():
            # Two clicks on « Appliquer » apply once: the second finds the upload applied.
            locked = Upload.objects.select_for_update().get(pk=upload.pk)
            if locked.status != Upload.Status.CHECKED:
                raise ApplyRefused(
                    f"Le dépôt « {upload.original_name} » est "
                    f"{locked.get_status_display().lower()} : il ne peut pas être appliqué."
                )
            for plan in analysis.rows:
                if plan.status in (EMPTY, ERROR) or plan.assignment is None:
                    continue
                if (
                    plan.status == UNCHANGED
                    and plan.assignment.status == Assignment.Status.SUBMITTED
                ):
                    continue
                outcome = values.submit(
                    plan.assignment,
                    plan.answers,
                    channel=Channel.SPREADSHEET,
                    user=user,
                    comments=plan.comments,
                    sources=plan.sources,
                )
                if not outcome.applied:
                    first = outcome.blocking[0].message if outcome.blocking else "conflit"
                    raise ApplyRefused(
                        f"Ligne {plan.row} ({plan.label}, période {plan.period_key}) refusée à "
                        f"l'enregistrement : {first}. Rien n'a été enregistré."
                    )
                applied += 1
            upload.report = {**analysis.as_report(), "applied_rows": applied}
            upload.status = Upload.Status.APPLIED
            upload.applied_at = timezone.now()
            upload.save(update_fields=["report", "status", "applied_at"])
            audit_record(
                actor=user,
                action="upload.apply",
                target=upload,
                details={"rows": applied, "counts": upload.report["counts"]},
            )
    except values.SubmissionRefused as error:
        raise ApplyRefused(f"{error} Rien n'a été enregistré.") from None
    return {"applied": applied, **analysis.counts()}


# --- Annotated copy ---------------------------------------------------------------------------


def annotated_copy(upload: Upload) -> bytes:
    """The uploaded file with every cell in error filled red and commented (xlsx)."""
    from openpyxl import Workbook, load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    red = PatternFill("solid", fgColor="FFC7CE")
    with upload.file.open("rb") as handle:
        data = handle.read()
    kind = reader.kind_of(upload.original_name)
    if kind == "xlsx":
        try:
            book = load_workbook(io.BytesIO(data))
        except Exception as error:  # openpyxl raises many kinds on a file it cannot read
            raise AnnotationUnavailable(
                f"« {upload.original_name} » ne peut pas être annoté ({error}) : "
                "corrigez-le d'après la liste des erreurs de l'aperçu."
            ) from error
    else:
        parsed = reader.read(upload.original_name, data)
        book = Workbook()
        book.remove(book.active)
        for sheet in parsed.sheets.values():
            target = book.create_sheet(sheet.name[:31])
            for row in sheet.rows:
                target.append(list(row))
    for issue in upload.report.get("issues", []):
        if issue["severity"] != "error" or not issue.get("row"):
            continue
        sheet_name = issue["sheet"] if issue["sheet"] in book.sheetnames else book.sheetnames[0]
        sheet = book[sheet_name]
        sheet.protection.sheet = False
        ref = f"{issue['column'] or 'A'}{issue['row']}"
        cell = sheet[ref]
        cell.fill = red
        previous = cell.comment.text + "\n" if cell.comment else ""
        cell.comment = Comment(previous + issue["message"], "Recueil", width=300, height=120)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
