"""A survey version turned into what a form template shows: sections of fields, each with its
input kind, value, bounds, choices, messages, provenance and previous value.

Shared by the builder's preview (no campaign, no store: only the schema) and the respondent's
form (``collection.views_form``), so that both show the same thing. Pure functions over a
``VersionSchema``: no query, no request; the caller gives the answers, the engine's issues and
what the store knows.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from referentials.validation import (
    DefinitionSpec,
    Issue,
    ParseError,
    Severity,
    ValueType,
    format_value,
    parse_value,
)
from surveys.schema import QuestionSpec, VersionSchema

# Form control names that are not answers start with "_": question codes start with a letter.
COMMENT_PREFIX = "_comment_"
REVISION_FIELD = "_revision"
ACTION_FIELD = "_action"

# Single choices with at most this many options are radio buttons, more make a select.
RADIO_LIMIT = 5

NUMBER_TYPES = (ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE)


def comment_name(code: str) -> str:
    """The form control holding the justification of a warning on ``code``."""
    return f"{COMMENT_PREFIX}{code}"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    checked: bool
    id: str


@dataclass(frozen=True)
class Warning:
    """A warning and the comment that justifies it (required to submit)."""

    code: str  # the question's or the rule's code: the key of the comment
    message: str
    comment_name: str
    comment_id: str
    comment: str


@dataclass
class FieldContext:
    id: str
    name: str
    label: str
    help_lines: list[str]
    kind: str  # number | text | date | radio | checkbox | select | yes-no
    type: str
    unit: str
    minimum: str
    maximum: str
    hint: str
    required: bool
    value: str
    choices: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    provenance: str = ""
    history_url: str = ""
    # A question served from the store instead of asked: where to correct the shared value.
    served_url: str = ""
    previous: str = ""
    condition: str = ""
    hidden: bool = False
    read_only: bool = False
    checked: bool = False  # the engine looked at these answers (live check, refused submission)

    @property
    def state(self) -> str:
        """One of error, warning, valid (checked, answered, nothing to say) or blank."""
        if self.errors:
            return "error"
        if self.warnings:
            return "warning"
        return "valid" if self.checked and self.value and not self.read_only else ""

    @property
    def anchor(self) -> str:
        """The id a link to this field points at (its first option for a group of choices)."""
        if self.kind in ("radio", "checkbox", "yes-no") and self.choices:
            return self.choices[0].id
        return self.id

    @property
    def messages_id(self) -> str:
        return f"{self.id}-messages"

    @property
    def describedby(self) -> str:
        ids = [f"{self.id}-hint"] if self.hint else []
        return " ".join([*ids, self.messages_id])


@dataclass
class SectionContext:
    id: str
    title: str
    description: str
    fields: list[FieldContext]

    @property
    def hidden(self) -> bool:
        return all(f.hidden for f in self.fields) and bool(self.fields)


@dataclass
class FormContext:
    sections: list[SectionContext]

    @property
    def fields(self) -> list[FieldContext]:
        return [f for s in self.sections for f in s.fields]

    @property
    def errors(self) -> list[tuple[FieldContext, str]]:
        """(field, message) of every error of a shown field, in the form's order."""
        return [(f, m) for f in self.fields if not f.hidden for m in f.errors]

    @property
    def unjustified(self) -> list[tuple[FieldContext, Warning]]:
        return [
            (f, w) for f in self.fields if not f.hidden for w in f.warnings if not w.comment.strip()
        ]


# --- Helpers ----------------------------------------------------------------------------------


def input_kind(spec: DefinitionSpec) -> str:
    match spec.type:
        case ValueType.INTEGER | ValueType.DECIMAL | ValueType.PERCENTAGE:
            return "number"
        case ValueType.DATE:
            return "date"
        case ValueType.BOOLEAN:
            return "yes-no"
        case ValueType.SINGLE_CHOICE:
            return "radio" if len(spec.choices) <= RADIO_LIMIT else "select"
        case ValueType.MULTIPLE_CHOICE:
            return "checkbox"
    return "text"


def _plain(number: Decimal | None) -> str:
    if number is None:
        return ""
    number = Decimal(number)
    number = number.normalize() if number != 0 else Decimal(0)
    return format_value(DefinitionSpec(code="", label="", type=ValueType.DECIMAL), number)


def _hint(spec: DefinitionSpec) -> str:
    unit = f" {spec.unit}" if spec.unit else ""
    low, high = _plain(spec.minimum), _plain(spec.maximum)
    if spec.type in NUMBER_TYPES:
        whole = "Nombre entier" if spec.type == ValueType.INTEGER else "Nombre"
        if low and high:
            return f"{whole} entre {low} et {high}{unit}"
        if low:
            return f"{whole}, au moins {low}{unit}"
        if high:
            return f"{whole}, au plus {high}{unit}"
        return f"{whole}{f', en {spec.unit}' if spec.unit else ''}"
    if spec.type == ValueType.DATE:
        return "Date au format JJ/MM/AAAA"
    if spec.type == ValueType.MULTIPLE_CHOICE:
        return "Plusieurs réponses possibles"
    if spec.type == ValueType.FINESS:
        return "Numéro FINESS à 9 caractères"
    if spec.type == ValueType.RPPS:
        return "Numéro RPPS à 11 chiffres"
    return ""


def _as_text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list | tuple | set | frozenset):
        return ";".join(str(item) for item in raw)
    return str(raw)


def _date_value(spec: DefinitionSpec, raw: str) -> str:
    """A date input wants ISO; what was typed elsewhere stays as is when unreadable."""
    try:
        value = parse_value(spec, raw)
    except ParseError:
        return raw
    return value.isoformat() if isinstance(value, date) else raw


def _selected(spec: DefinitionSpec, raw: str) -> set[str]:
    """The choice codes a raw answer names (labels are accepted too, as by the engine)."""
    picked = set()
    for part in raw.replace(",", ";").split(";"):
        text = part.strip()
        if not text:
            continue
        picked.add(spec.choice_labels.get(text) or spec.choice_labels.get(text.lower()) or text)
    return picked


def _choices(question: QuestionSpec, field_id: str, raw: str) -> list[Choice]:
    spec = question.spec
    if spec.type == ValueType.BOOLEAN:
        try:
            current = parse_value(spec, raw)
        except ParseError:
            current = None
        pairs = [("oui", "Oui", current is True), ("non", "Non", current is False)]
        return [Choice(v, label, on, f"{field_id}-{v}") for v, label, on in pairs]
    picked = _selected(spec, raw)
    return [
        Choice(code, label, code in picked, f"{field_id}-{index}")
        for index, (code, label) in enumerate(question.choices)
    ]


def _issue_targets(schema: VersionSchema) -> dict[str, str]:
    """Which field shows the issues of each rule: the last of its questions in the form."""
    order = {code: index for index, code in enumerate(schema.codes)}
    targets: dict[str, str] = {}
    for rule in schema.rules:
        named = [code for code in rule.expression.names if code in order]
        if named:
            targets[rule.code] = max(named, key=order.__getitem__)
    return targets


def visible_codes(schema: VersionSchema, answers: Mapping[str, Any]) -> set[str]:
    """Questions shown for these raw answers (unreadable answers count as not given)."""
    typed: dict[str, Any] = {}
    for question in schema.questions:
        try:
            value = parse_value(question.spec, answers.get(question.code))
        except ParseError:
            continue
        if value is not None:
            typed[question.code] = value
    return schema.visible_codes(typed)


# --- The form ---------------------------------------------------------------------------------


def form_context(
    schema: VersionSchema,
    *,
    answers: Mapping[str, Any] | None = None,
    issues: Sequence[Issue] = (),
    comments: Mapping[str, str] | None = None,
    provenance: Mapping[str, str] | None = None,
    history_urls: Mapping[str, str] | None = None,
    previous: Mapping[str, str] | None = None,
    read_only: bool | Collection[str] = False,
    checked: bool = False,
    served_urls: Mapping[str, str] | None = None,
) -> FormContext:
    """Sections of field contexts for ``schema``.

    ``answers`` are raw (as typed, or as the store displays them), ``issues`` the engine's
    verdict on them, ``comments`` the justifications typed so far (by question or rule code),
    ``provenance`` and ``history_urls`` where each known value came from, ``previous`` the
    previous period's values as displayed, ``read_only`` True for the whole form or the codes
    that cannot change; ``checked`` says the issues are a verdict on these answers (fields
    without issues are then marked valid).
    """
    answers = answers or {}
    comments = comments or {}
    provenance = provenance or {}
    history_urls = history_urls or {}
    previous = previous or {}
    targets = _issue_targets(schema)
    shown = visible_codes(schema, answers)
    errors: dict[str, list[str]] = {}
    warnings: dict[str, list[Issue]] = {}
    for issue in issues:
        target = issue.code if issue.code in schema.by_code else targets.get(issue.code)
        if target is None:
            continue
        if issue.severity is Severity.ERROR:
            errors.setdefault(target, []).append(issue.message)
        else:
            warnings.setdefault(target, []).append(issue)
    fields: dict[str, FieldContext] = {}
    for question in schema.questions:
        fields[question.code] = _field(
            question,
            raw=_as_text(answers.get(question.code)),
            errors=errors.get(question.code, []),
            warnings=warnings.get(question.code, []),
            comments=comments,
            provenance=provenance.get(question.code, ""),
            history_url=history_urls.get(question.code, ""),
            previous=previous.get(question.code, ""),
            hidden=question.code not in shown,
            read_only=read_only if isinstance(read_only, bool) else question.code in read_only,
            checked=checked,
        )
        fields[question.code].served_url = (served_urls or {}).get(question.code, "")
    return FormContext(
        sections=[
            SectionContext(
                id=f"section-{section.id}",
                title=section.title,
                description=section.description,
                fields=[fields[code] for code in section.codes if code in fields],
            )
            for section in schema.sections
        ]
    )


def _field(
    question: QuestionSpec,
    *,
    raw: str,
    errors: list[str],
    warnings: list[Issue],
    comments: Mapping[str, str],
    provenance: str,
    history_url: str,
    previous: str,
    hidden: bool,
    read_only: bool,
    checked: bool,
) -> FieldContext:
    spec = question.spec
    field_id = f"q-{question.code}"
    kind = input_kind(spec)
    value = _date_value(spec, raw) if kind == "date" else raw
    return FieldContext(
        id=field_id,
        name=question.code,
        label=question.label,
        help_lines=[line for line in question.help_text.splitlines()],
        kind=kind,
        type=spec.type.value,
        unit=spec.unit,
        minimum=_plain(spec.minimum),
        maximum=_plain(spec.maximum),
        hint=_hint(spec),
        required=question.required,
        value=value,
        choices=_choices(question, field_id, raw)
        if kind in ("radio", "select", "checkbox", "yes-no")
        else [],
        errors=errors,
        warnings=[
            Warning(
                code=issue.code,
                message=issue.message,
                comment_name=comment_name(issue.code),
                comment_id=f"{field_id}-comment-{issue.code}",
                comment=comments.get(issue.code, ""),
            )
            for issue in warnings
        ],
        provenance=provenance,
        history_url=history_url,
        previous=previous,
        condition=question.condition_source,
        hidden=hidden,
        read_only=read_only,
        checked=checked,
    )


def comments_from(data: Mapping[str, Any]) -> dict[str, str]:
    """The justifications posted with a form (``_comment_<code>`` controls)."""
    return {
        key[len(COMMENT_PREFIX) :]: str(value)
        for key, value in data.items()
        if key.startswith(COMMENT_PREFIX) and str(value).strip()
    }


def answers_from(schema: VersionSchema, data: Any) -> dict[str, str]:
    """Raw answers from posted form data (a ``QueryDict``): one text per question shown in
    the form; checkboxes joined with « ; ». A question the form did not post (radio buttons
    or checkboxes left unticked) is blank: the form shows every question, so no answer is
    one."""
    answers: dict[str, str] = {}
    for question in schema.questions:
        if question.spec.type == ValueType.MULTIPLE_CHOICE:
            picked = data.getlist(question.code) if hasattr(data, "getlist") else None
            if picked is None:
                raw = data.get(question.code)
                picked = [] if raw is None else [raw]
            answers[question.code] = ";".join(str(p) for p in picked if str(p).strip())
        elif question.code in data:
            answers[question.code] = str(data.get(question.code) or "")
        else:
            answers[question.code] = ""
    return answers


def preview_context(schema: VersionSchema, data: Any | None = None) -> FormContext:
    """The form as a respondent would see it, checked by the schema alone (no store, no
    previous period): what the builder's preview shows, live."""
    if data is None:
        return form_context(schema)
    answers = answers_from(schema, data)
    verdict = schema.check(answers)
    return form_context(
        schema, answers=answers, issues=verdict.issues, comments=comments_from(data), checked=True
    )
