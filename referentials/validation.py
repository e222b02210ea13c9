"""The one validation engine, shared by the web form, the spreadsheet upload and the API.

``validate()`` is a pure function: raw answers in (strings from a form, cells from a
spreadsheet, JSON values from the API), normalised typed values and French issues out. It never
raises on its input: whatever arrives, the verdict says what is wrong and where. The same input
gives the same verdict on every channel, because every channel calls this function.

Definitions and rules reach it as plain specs (``DefinitionSpec``, ``RuleSpec``) built from the
dictionary's models, so that the engine can be tested and benchmarked without a database.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from referentials import expressions
from referentials.identifiers import finess_is_valid, rpps_is_valid


class ValueType(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENTAGE = "percentage"
    BOOLEAN = "boolean"
    DATE = "date"
    TEXT = "text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    FINESS = "finess"
    RPPS = "rpps"


# How each value type is seen by the expression language.
EXPRESSION_TYPES = {
    ValueType.INTEGER: expressions.NUMBER,
    ValueType.DECIMAL: expressions.NUMBER,
    ValueType.PERCENTAGE: expressions.NUMBER,
    ValueType.BOOLEAN: expressions.BOOLEAN,
    ValueType.DATE: expressions.DATE,
    ValueType.TEXT: expressions.TEXT,
    ValueType.SINGLE_CHOICE: expressions.TEXT,
    ValueType.MULTIPLE_CHOICE: expressions.SET,
    ValueType.FINESS: expressions.TEXT,
    ValueType.RPPS: expressions.TEXT,
}


class Severity(StrEnum):
    ERROR = "error"  # blocks
    WARNING = "warning"  # needs a comment


@dataclass(frozen=True)
class DefinitionSpec:
    code: str
    label: str
    type: ValueType
    unit: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    decimals: int | None = None
    # Choice codes, and the labels people may type instead of the codes (label -> code).
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, str] = field(default_factory=dict)
    required: bool = False
    # A jump from the previous period's value beyond this ratio (e.g. 3 = x3 or /3) warns.
    max_jump_ratio: Decimal | None = None
    # Name of a directory fact (e.g. "lits_rea_autorises") the value may not exceed.
    directory_maximum: str = ""


@dataclass(frozen=True)
class RuleSpec:
    code: str
    expression: expressions.Compiled
    message: str
    severity: Severity = Severity.ERROR
    condition: expressions.Compiled | None = None


@dataclass(frozen=True)
class Context:
    """What the engine checks answers against: the directory and the previous period."""

    facts: Mapping[str, Any] = field(default_factory=dict)
    previous: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Issue:
    code: str  # the definition's code, or the rule's
    severity: Severity
    message: str
    source: str = ""  # "B12", "ligne 4, colonne lits_rea_occupes", "champ lits_rea_occupes"

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "source": self.source,
        }


@dataclass
class Verdict:
    values: dict[str, Any]
    issues: list[Issue]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def is_valid(self) -> bool:
        return not self.errors


class ParseError(ValueError):
    """A raw value that cannot be read as its definition's type (French message)."""


# --- Parsing raw values -----------------------------------------------------------------------

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
TRUE_WORDS = frozenset({"oui", "o", "vrai", "yes", "y", "true", "1", "x"})
FALSE_WORDS = frozenset({"non", "n", "faux", "no", "false", "0"})


def _is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and raw.strip() == "")


# What the value store keeps exactly on every database (a numeric(24, 6) column).
LARGEST_NUMBER = Decimal(10) ** 18
MOST_DECIMALS = 6


def _parse_number(raw: Any) -> Decimal:
    number = _read_number(raw)
    if not number.is_finite():
        raise ParseError("un nombre fini est attendu")
    if abs(number) >= LARGEST_NUMBER:
        raise ParseError(f"« {raw} » : nombre trop grand (moins de 10^18 attendu)")
    if -number.normalize().as_tuple().exponent > MOST_DECIMALS:  # type: ignore[operator]
        raise ParseError(f"« {raw} » : au plus {MOST_DECIMALS} chiffres après la virgule")
    return number


def _read_number(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ParseError("un nombre est attendu, pas oui/non")
    if isinstance(raw, int | Decimal):
        return Decimal(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise ParseError("un nombre fini est attendu")
        return Decimal(repr(raw))
    if not isinstance(raw, str):
        raise ParseError(f"un nombre est attendu, pas {type(raw).__name__}")
    text = _SPACES.sub("", raw)
    if text.endswith("%"):
        text = text[:-1]
    if "," in text:
        if "." in text:  # "1.234,5": the dot groups thousands
            text = text.replace(".", "")
        text = text.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
        raise ParseError(f"« {raw} » n'est pas un nombre (exemples : 12, 1 234,5)")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ParseError(f"« {raw} » n'est pas un nombre") from None


def _parse_date(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if not isinstance(raw, str):
        raise ParseError("une date est attendue (JJ/MM/AAAA ou AAAA-MM-JJ)")
    text = raw.strip()
    try:
        match = _FRENCH_DATE.match(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        raise ParseError(f"« {raw} » n'est pas une date qui existe") from None
    raise ParseError(f"« {raw} » n'est pas une date (JJ/MM/AAAA ou AAAA-MM-JJ)")


def _parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ParseError(f"« {raw} » : répondez oui ou non")


def _choice(spec: DefinitionSpec, raw: Any) -> str:
    text = str(raw).strip()
    if text in spec.choices:
        return text
    by_label = spec.choice_labels.get(text) or spec.choice_labels.get(text.lower())
    if by_label:
        return by_label
    allowed = ", ".join(spec.choices[:12]) + (" …" if len(spec.choices) > 12 else "")
    raise ParseError(f"« {text} » ne fait pas partie des choix possibles ({allowed})")


def parse_value(spec: DefinitionSpec, raw: Any) -> Any:
    """The typed value of one raw answer, or ParseError. Blank answers are None."""
    if _is_blank(raw):
        return None
    match spec.type:
        case ValueType.INTEGER:
            number = _parse_number(raw)
            if number != number.to_integral_value():
                raise ParseError(f"« {raw} » : un nombre entier est attendu")
            return int(number)
        case ValueType.DECIMAL | ValueType.PERCENTAGE:
            number = _parse_number(raw)
            if spec.decimals is not None and -number.as_tuple().exponent > spec.decimals:  # type: ignore[operator]
                raise ParseError(f"« {raw} » : au plus {spec.decimals} chiffre(s) après la virgule")
            return number.normalize() if number != 0 else Decimal(0)
        case ValueType.BOOLEAN:
            return _parse_boolean(raw)
        case ValueType.DATE:
            return _parse_date(raw)
        case ValueType.TEXT:
            return str(raw).strip()
        case ValueType.SINGLE_CHOICE:
            return _choice(spec, raw)
        case ValueType.MULTIPLE_CHOICE:
            items = (
                raw
                if isinstance(raw, list | tuple | set | frozenset)
                else re.split(r"[;,]", str(raw))
            )
            return frozenset(_choice(spec, item) for item in items if not _is_blank(item))
        case ValueType.FINESS:
            text = str(raw).strip().upper()
            if not finess_is_valid(text):
                raise ParseError(f"« {raw} » n'est pas un numéro FINESS valide (9 caractères, clé)")
            return text
        case ValueType.RPPS:
            text = str(raw).strip()
            if not rpps_is_valid(text):
                raise ParseError(f"« {raw} » n'est pas un numéro RPPS valide (11 chiffres, clé)")
            return text
    raise ParseError(f"type inconnu : {spec.type}")


def format_value(spec: DefinitionSpec, value: Any) -> str:
    """The French way of writing a typed value, which ``parse_value`` reads back."""
    if value is None:
        return ""
    match spec.type:
        case ValueType.INTEGER:
            return f"{value:,}".replace(",", "\u202f")
        case ValueType.DECIMAL | ValueType.PERCENTAGE:
            text = format(value, "f")
            whole, _, fraction = text.partition(".")
            sign = "-" if whole.startswith("-") else ""
            grouped = f"{int(whole.lstrip('-') or 0):,}".replace(",", "\u202f")
            return f"{sign}{grouped}" + (f",{fraction}" if fraction else "")
        case ValueType.BOOLEAN:
            return "oui" if value else "non"
        case ValueType.DATE:
            return value.strftime("%d/%m/%Y")
        case ValueType.MULTIPLE_CHOICE:
            return ";".join(sorted(value))
    return str(value)


# --- The engine -------------------------------------------------------------------------------


def _where(code: str, sources: Mapping[str, str] | None) -> str:
    return (sources or {}).get(code, "")


def _plain(number: Decimal) -> str:
    """A bound as people write it: 500, not 500.0000; 2.5, not 2.50."""
    return format(Decimal(number).normalize(), "f")


def _check_bounds(spec: DefinitionSpec, value: Any) -> str | None:
    if spec.type not in (ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE):
        return None
    unit = f" {spec.unit}" if spec.unit else ""
    if spec.minimum is not None and value < spec.minimum:
        return (
            f"{spec.label} : {value}{unit} est inférieur au minimum ({_plain(spec.minimum)}{unit})"
        )
    if spec.maximum is not None and value > spec.maximum:
        return f"{spec.label} : {value}{unit} dépasse le maximum ({_plain(spec.maximum)}{unit})"
    return None


def _jump(spec: DefinitionSpec, value: Any, previous: Any) -> str | None:
    if spec.max_jump_ratio is None or previous is None or isinstance(previous, bool):
        return None
    if not isinstance(value, int | Decimal) or not isinstance(previous, int | Decimal):
        return None
    low, high = sorted((abs(Decimal(value)), abs(Decimal(previous))))
    if high == 0 or (low > 0 and high / low <= spec.max_jump_ratio):
        return None
    if low == 0 and high <= 1:
        return None  # 0 -> 1 is not a jump worth a comment
    return (
        f"{spec.label} : {value} contre {previous} à la période précédente, un écart de plus de "
        f"x{_plain(spec.max_jump_ratio)}. Vérifiez la valeur ou expliquez l'écart en commentaire."
    )


def validate(
    *,
    answers: Mapping[str, Any],
    definitions: Sequence[DefinitionSpec],
    rules: Sequence[RuleSpec] = (),
    context: Context | None = None,
    sources: Mapping[str, str] | None = None,
) -> Verdict:
    """Check raw answers against their definitions, the rules, the directory and the past.

    ``answers`` maps definition codes to raw values; codes with no definition are reported, not
    ignored; ``sources`` names where each answer came from (a cell, a field) for the messages.
    """
    context = context or Context()
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    known = {spec.code for spec in definitions}
    for code in answers:
        if code not in known:
            issues.append(
                Issue(
                    str(code),
                    Severity.ERROR,
                    f"« {code} » n'est pas une question de cette enquête : retirez-la ou "
                    "vérifiez l'intitulé de la colonne.",
                    _where(str(code), sources),
                )
            )
    for spec in definitions:
        raw = answers.get(spec.code)
        where = _where(spec.code, sources)
        try:
            value = parse_value(spec, raw)
        except ParseError as error:
            issues.append(Issue(spec.code, Severity.ERROR, f"{spec.label} : {error}", where))
            continue
        except Exception as error:  # the engine never raises on its input
            issues.append(
                Issue(
                    spec.code, Severity.ERROR, f"{spec.label} : valeur illisible ({error})", where
                )
            )
            continue
        values[spec.code] = value
        if value is None or value == frozenset():
            if spec.required:
                issues.append(
                    Issue(spec.code, Severity.ERROR, f"{spec.label} : réponse obligatoire.", where)
                )
            continue
        if message := _check_bounds(spec, value):
            issues.append(Issue(spec.code, Severity.ERROR, message, where))
        if spec.directory_maximum:
            ceiling = context.facts.get(spec.directory_maximum)
            if (
                isinstance(ceiling, int | Decimal)
                and not isinstance(value, bool)
                and value > ceiling
            ):
                issues.append(
                    Issue(
                        spec.code,
                        Severity.WARNING,
                        f"{spec.label} : {value} dépasse la capacité connue de l'établissement "
                        f"({ceiling}). Vérifiez la valeur ou expliquez-la en commentaire.",
                        where,
                    )
                )
        if message := _jump(spec, value, context.previous.get(spec.code)):
            issues.append(Issue(spec.code, Severity.WARNING, message, where))

    failed = {issue.code for issue in issues if issue.severity is Severity.ERROR}
    for rule in rules:
        if rule.expression.names & failed or (rule.condition and rule.condition.names & failed):
            continue  # a rule over an unreadable value would only repeat that error
        try:
            if rule.condition is not None and not rule.condition.evaluate(values):
                continue
            holds = rule.expression.evaluate(values)
        except expressions.MissingValue:
            continue  # not applicable until its values are given
        except expressions.EvaluationError as error:
            issues.append(Issue(rule.code, Severity.WARNING, f"{rule.message} ({error})"))
            continue
        if not holds:
            first = sorted(rule.expression.names)[0] if rule.expression.names else rule.code
            issues.append(Issue(rule.code, rule.severity, rule.message, _where(first, sources)))
    return Verdict(values=values, issues=issues)
