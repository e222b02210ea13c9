"""The template a respondent downloads: one row per reporting unit and period they owe.

Layout (sheet « Réponses »): row 1 holds the machine codes (``finess``/``rpps``, ``nom``,
``periode``, then one question code per column, then ``commentaire_<code>`` columns for the
answers that may raise a warning), row 2 the labels people read; answers start on row 3. The
first three columns and both header rows are locked (sheet protection, no password: it prevents
slips, not malice); answer cells are unlocked. Each question column carries its validation
(drop-down list, whole or decimal bounds, date) and its doctrine as the input message.

The hidden sheet « _recueil » names the campaign, the survey version, the periods and units,
the generation time, and a signature (``django.core.signing``, keyed by ``SECRET_KEY``) over
all of these: a template whose identification was edited is refused on upload.
"""

import io
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.models import Role, User
from accounts.scoping import scope_for
from collection import reuse, values
from referentials.models import ReportingUnit
from referentials.validation import ValueType
from surveys.models import Assignment, Campaign
from surveys.schema import QuestionSpec, VersionSchema, version_schema

DATA_SHEET = "Réponses"
META_SHEET = "_recueil"
LISTS_SHEET = "_listes"
SIGNING_SALT = "collection.spreadsheets.template"
FIRST_DATA_ROW = 3
COMMENT_PREFIX = "commentaire_"
PERIOD_COLUMN = "periode"
NAME_COLUMN = "nom"
GREY = PatternFill("solid", fgColor="DDDDDD")
HEADER = PatternFill("solid", fgColor="E3E3FD")
MAX_PROMPT = 255
MAX_PROMPT_TITLE = 32


def identifier_column(campaign: Campaign) -> str:
    return "rpps" if campaign.unit_kind == ReportingUnit.Kind.PROFESSIONAL else "finess"


def respondent_assignments(*, user: User, campaign: Campaign) -> QuerySet[Assignment]:
    """Assignments of ``campaign`` for the units ``user`` answers for (any status)."""
    scope = scope_for(user, roles=[Role.RESPONDENT])
    return (
        Assignment.objects.filter(scope.units_q("unit__"), campaign=campaign)
        .select_related("unit", "period", "version", "campaign__owner")
        .order_by("unit__label", "unit_id", "period__start")
    )


def template_assignments(
    *, user: User, campaign: Campaign, assignment_id: int | None = None
) -> list[Assignment]:
    """The rows of a template: one assignment, or every OPEN one (to do, in progress, late)
    the user owes in the campaign, for the version most of them ask (the campaign's current
    version when it has rows)."""
    mine = respondent_assignments(user=user, campaign=campaign)
    if assignment_id is not None:
        return list(mine.filter(pk=assignment_id))
    now = timezone.now()
    owed = list(mine.filter(status__in=Assignment.OPEN_STATUSES, period__locks_at__gt=now))
    if not owed:
        return []
    versions = {a.version_id for a in owed}
    version_id = (
        campaign.version_id
        if campaign.version_id in versions
        else max(owed, key=lambda a: a.version.number).version_id
    )
    return [a for a in owed if a.version_id == version_id]


def warning_codes(schema: VersionSchema) -> list[str]:
    """Codes whose answers may raise a warning (and so need a comment column)."""
    codes = [q.code for q in schema.questions if q.spec.max_jump_ratio or q.spec.directory_maximum]
    codes += [r.code for r in schema.rules if r.severity == "warning"]
    return list(dict.fromkeys(codes))


def signed_payload(meta: dict[str, Any]) -> str:
    return signing.dumps(meta, salt=SIGNING_SALT, compress=True)


def unsign_payload(token: str) -> dict[str, Any]:
    """The signed identification of a template; ``signing.BadSignature`` if tampered."""
    loaded: dict[str, Any] = signing.loads(token, salt=SIGNING_SALT)
    return loaded


def _bound(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _excel_value(question: QuestionSpec, data: Any) -> Any:
    """A stored value as the template shows it (numbers as numbers, choices by label)."""
    typed = values.from_data(question.spec, data)
    if typed is None:
        return None
    match question.spec.type:
        case ValueType.INTEGER:
            return int(typed)
        case ValueType.DECIMAL | ValueType.PERCENTAGE:
            return Decimal(typed)
        case ValueType.DATE:
            return typed if isinstance(typed, date) else None
        case ValueType.BOOLEAN:
            return "oui" if typed else "non"
        case ValueType.SINGLE_CHOICE:
            return dict(question.choices).get(typed, typed)
        case ValueType.MULTIPLE_CHOICE:
            return ";".join(sorted(typed))
    return str(typed)


def _validation(
    question: QuestionSpec, lists: Any, list_column: list[int]
) -> DataValidation | None:
    spec = question.spec
    validation: DataValidation | None = None
    match spec.type:
        case ValueType.INTEGER | ValueType.DECIMAL | ValueType.PERCENTAGE:
            kind = "whole" if spec.type == ValueType.INTEGER else "decimal"
            low, high = spec.minimum, spec.maximum
            if low is not None and high is not None:
                validation = DataValidation(
                    type=kind, operator="between", formula1=_bound(low), formula2=_bound(high)
                )
            elif low is not None:
                validation = DataValidation(
                    type=kind, operator="greaterThanOrEqual", formula1=_bound(low)
                )
            elif high is not None:
                validation = DataValidation(
                    type=kind, operator="lessThanOrEqual", formula1=_bound(high)
                )
            else:
                validation = DataValidation(
                    type=kind, operator="between", formula1="-1E+15", formula2="1E+15"
                )
        case ValueType.BOOLEAN:
            validation = DataValidation(type="list", formula1='"oui,non"')
        case ValueType.DATE:
            validation = DataValidation(type="date", operator="greaterThan", formula1="1")
        case ValueType.SINGLE_CHOICE:
            labels = [label for _code, label in question.choices]
            list_column[0] += 1
            column = list_column[0]
            for row, label in enumerate(labels, start=1):
                lists.cell(row=row, column=column, value=label)
            letter = lists.cell(row=1, column=column).column_letter
            validation = DataValidation(
                type="list", formula1=f"'{LISTS_SHEET}'!${letter}$1:${letter}${max(len(labels), 1)}"
            )
    if validation is None:
        validation = DataValidation(type="custom", formula1="TRUE")  # only the input message
        validation.showErrorMessage = False
    else:
        validation.showErrorMessage = True
        validation.errorTitle = "Valeur refusée"
        validation.error = _prompt_bounds(question)[:MAX_PROMPT]
    validation.allow_blank = True
    validation.showInputMessage = True
    validation.promptTitle = question.code[:MAX_PROMPT_TITLE]
    validation.prompt = _prompt(question)
    return validation


def _prompt_bounds(question: QuestionSpec) -> str:
    spec = question.spec
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.type == ValueType.SINGLE_CHOICE:
        return "Choisissez une valeur de la liste."
    if spec.type == ValueType.BOOLEAN:
        return "Répondez oui ou non."
    if spec.type == ValueType.DATE:
        return "Saisissez une date (JJ/MM/AAAA)."
    parts = ["Nombre entier" if spec.type == ValueType.INTEGER else "Nombre"]
    if spec.minimum is not None:
        parts.append(f"au moins {spec.minimum}{unit}")
    if spec.maximum is not None:
        parts.append(f"au plus {spec.maximum}{unit}")
    return ", ".join(parts) + "."


def _prompt(question: QuestionSpec) -> str:
    text = question.help_text.strip() or question.label
    if question.spec.type == ValueType.MULTIPLE_CHOICE:
        text = "Codes séparés par « ; » : " + ", ".join(question.spec.choices) + ". " + text
    if len(text) > MAX_PROMPT:
        text = text[: MAX_PROMPT - 1] + "…"
    return text


def served_in(
    campaign: Campaign, schema: VersionSchema, rows: list[Assignment]
) -> dict[tuple[int, str], dict[str, "reuse.Served"]]:
    """(unit, period key) -> code -> what is served, one batch per period of the rows."""
    units_by_period: dict[str, list[int]] = {}
    for assignment in rows:
        units_by_period.setdefault(assignment.period.key, []).append(assignment.unit_id)
    found: dict[tuple[int, str], dict[str, reuse.Served]] = {}
    for key, units in units_by_period.items():
        served = reuse.served_values(
            campaign=campaign, period_key=key, unit_ids=units, schema=schema
        )
        for (unit_id, code), item in served.items():
            found.setdefault((unit_id, key), {})[code] = item
    return found


def _served_cell(cell: Any, question: QuestionSpec, served: "reuse.Served") -> None:
    cell.value = _excel_value(question, served.data) if served.available else None
    cell.protection = Protection(locked=True)
    cell.fill = GREY
    cell.comment = Comment(
        f"Non demandée ici (lecture seule) : {served.provenance}. Pour corriger cette valeur, "
        "utilisez « Corriger la valeur partagée » dans le formulaire en ligne.",
        "Recueil",
        width=300,
        height=120,
    )


def build_template(
    *, campaign: Campaign, assignments: Iterable[Assignment], user: User | None = None
) -> bytes:
    """The xlsx template for these assignments (all of one survey version)."""
    rows = list(assignments)
    if not rows:
        raise ValueError("un modèle a au moins une ligne")
    version = rows[0].version
    schema = version_schema(version)
    questions = schema.questions
    comment_codes = warning_codes(schema)
    id_column = identifier_column(campaign)

    book = Workbook()
    sheet = book.active
    sheet.title = DATA_SHEET
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    meta_sheet = book.create_sheet(META_SHEET)
    meta_sheet.sheet_state = "hidden"

    headers: list[tuple[str, str]] = [
        (id_column, "RPPS" if id_column == "rpps" else "FINESS"),
        (NAME_COLUMN, "Nom"),
        (PERIOD_COLUMN, "Période"),
    ]
    headers += [(q.code, q.label + (f" ({q.spec.unit})" if q.spec.unit else "")) for q in questions]
    headers += [(f"{COMMENT_PREFIX}{code}", f"Commentaire ({code})") for code in comment_codes]
    for column, (code, label) in enumerate(headers, start=1):
        top = sheet.cell(row=1, column=column, value=code)
        top.font = Font(bold=True)
        top.fill = HEADER
        second = sheet.cell(row=2, column=column, value=label)
        second.fill = HEADER
        second.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[top.column_letter].width = 14 if column > 3 else 18
    sheet.column_dimensions["B"].width = 34
    sheet.row_dimensions[2].height = 45
    sheet.freeze_panes = "D3"

    unlocked = Protection(locked=False)
    last_row = FIRST_DATA_ROW + len(rows) - 1
    stored_by_assignment = {
        a.pk: values.stored_values(unit_id=a.unit_id, schema=schema, period_key=a.period.key)
        for a in rows
    }
    # Served questions (collection.reuse): filled with the served value, locked, noted.
    served_by_pair = served_in(campaign, schema, rows)
    for offset, assignment in enumerate(rows):
        r = FIRST_DATA_ROW + offset
        for column, value in enumerate(
            (assignment.unit.identifier, assignment.unit.label, assignment.period.key), start=1
        ):
            cell = sheet.cell(row=r, column=column, value=value)
            cell.fill = GREY
            cell.number_format = "@"
        stored = stored_by_assignment[assignment.pk]
        for index, question in enumerate(questions, start=4):
            cell = sheet.cell(row=r, column=index)
            cell.protection = unlocked
            if question.spec.type == ValueType.DATE:
                cell.number_format = "DD/MM/YYYY"
            elif question.spec.type in (ValueType.TEXT, ValueType.FINESS, ValueType.RPPS):
                cell.number_format = "@"
            if question.code in stored and stored[question.code].data is not None:
                cell.value = _excel_value(question, stored[question.code].data)
            item = served_by_pair.get((assignment.unit_id, assignment.period.key), {})
            if question.code in item:
                _served_cell(cell, question, item[question.code])
        for index, code in enumerate(comment_codes, start=4 + len(questions)):
            cell = sheet.cell(row=r, column=index)
            cell.protection = unlocked
            if code in stored and stored[code].comment:
                cell.value = stored[code].comment

    list_column = [0]
    for index, question in enumerate(questions, start=4):
        validation = _validation(question, lists, list_column)
        if validation is None:
            continue
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.add_data_validation(validation)
        validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{last_row}")
        if question.help_text:
            sheet.cell(row=2, column=index).comment = Comment(question.help_text[:2000], "Recueil")

    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    sheet.protection.autoFilter = False

    periods = sorted({a.period.key for a in rows})
    units = sorted({a.unit_id for a in rows})
    meta = {
        "campaign": campaign.pk,
        "version_id": version.pk,
        "version": version.number,
        "periods": periods,
        "units": units,
        "generated_at": timezone.now().isoformat(timespec="seconds"),
    }
    readable: list[tuple[str, Any]] = [
        ("campagne", campaign.pk),
        ("titre", campaign.title),
        ("version_id", version.pk),
        ("version", version.number),
        ("periodes", ", ".join(periods)),
        ("unites", ", ".join(str(u) for u in units)),
        ("genere_le", meta["generated_at"]),
        ("genere_par", user.email if user is not None else ""),
        ("signature", signed_payload(meta)),
    ]
    for row_index, (key, value) in enumerate(readable, start=1):
        meta_sheet.cell(row=row_index, column=1, value=key)
        meta_sheet.cell(row=row_index, column=2, value=value).number_format = "@"
    meta_sheet.protection.sheet = True
    lists.protection.sheet = True

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_filename(campaign: Campaign, assignments: list[Assignment]) -> str:
    suffix = f"-{assignments[0].unit.identifier}" if len(assignments) == 1 else ""
    return f"modele-campagne-{campaign.pk}{suffix}.xlsx"
