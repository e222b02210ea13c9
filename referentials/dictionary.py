"""Writes of the dictionary of shared definitions, and the engine specs built from it.

Every change goes through one of these functions: they check what the models cannot (a
published definition keeps its meaning, rules and indicators compile against the definitions
they name, indicators do not loop), write the history and the audit, and save nothing when they
refuse. Errors are ``DictionaryError`` (a ``ValidationError``) with French messages, so that the
admin, the import and the command line show them as they are.
"""

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Organisation, User
from accounts.services import audit_record
from referentials import expressions
from referentials.expressions import ExpressionError, compile_expression, referenced_codes
from referentials.models import (
    CHOICE_TYPES,
    NUMERIC_TYPES,
    CodeList,
    CodeListItem,
    Definition,
    DefinitionRevision,
    DictionaryStatus,
    Indicator,
    Rule,
    Theme,
)
from referentials.search import normalise
from referentials.validation import (
    EXPRESSION_TYPES,
    DefinitionSpec,
    RuleSpec,
    Severity,
    ValueType,
)

SEED_PATH = Path(__file__).resolve().parent / "data" / "dictionary_seed.json"

FIELD_LABELS = {
    "value_type": "type de valeur",
    "unit": "unité",
    "minimum": "minimum",
    "maximum": "maximum",
    "decimals": "décimales",
    "code_list": "liste de codes",
    "time_aggregation": "agrégation dans le temps",
    "establishment_aggregation": "agrégation entre établissements",
}


class DictionaryError(ValidationError):
    """A change the dictionary refuses; nothing was saved."""


def _refuse(messages: str | list[str]) -> DictionaryError:
    return DictionaryError(messages)


def _validation_messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{field} : {message}" if field != "__all__" else message
            for field, errors in error.message_dict.items()
            for message in errors
        ]
    return list(error.messages)


def _full_clean(instance: Any, *, exclude: Sequence[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise _refuse(_validation_messages(error)) from None


# --- Definitions ------------------------------------------------------------------------------


def _field_value(definition: Definition, name: str) -> Any:
    if name == "code_list":
        return definition.code_list_id
    value = getattr(definition, name)
    if isinstance(value, float | int) and not isinstance(value, bool) and name != "decimals":
        return Decimal(str(value))
    if isinstance(value, str) and name in {"minimum", "maximum", "max_jump_ratio"}:
        return Decimal(value) if value.strip() else None
    return value


def definition_search_text(definition: Definition) -> str:
    synonyms = " ".join(str(s) for s in definition.synonyms or [])
    return normalise(f"{definition.code} {definition.label} {synonyms} {definition.doctrine}")


def definition_snapshot(definition: Definition, themes: Iterable[Theme] | None = None) -> dict:
    """What a revision keeps: every field a reader of the glossary sees, as JSON."""

    def text(value: Any) -> str | None:
        # 500, "500" and Decimal("500.0000") are one value: compare them as one text.
        if value is None or value == "":
            return None
        number = Decimal(str(value))
        return format(number.normalize(), "f") if number else "0"

    return {
        "code": definition.code,
        "label": definition.label,
        "doctrine": definition.doctrine,
        "value_type": definition.value_type,
        "unit": definition.unit,
        "minimum": text(definition.minimum),
        "maximum": text(definition.maximum),
        "decimals": definition.decimals,
        "code_list": definition.code_list.code if definition.code_list else None,
        "time_aggregation": definition.time_aggregation,
        "establishment_aggregation": definition.establishment_aggregation,
        "synonyms": list(definition.synonyms or []),
        "themes": sorted(t.code for t in themes) if themes is not None else None,
        "status": definition.status,
        "replaced_by": definition.replaced_by.code if definition.replaced_by else None,
        "max_jump_ratio": text(definition.max_jump_ratio),
        "directory_maximum": definition.directory_maximum,
    }


def _check_definition(definition: Definition) -> None:
    if definition.synonyms is None:
        definition.synonyms = []
    if isinstance(definition.synonyms, str):
        definition.synonyms = definition.synonyms.split(";")
    if not isinstance(definition.synonyms, list) or not all(
        isinstance(s, str) for s in definition.synonyms
    ):
        raise _refuse("Les synonymes sont une liste de textes.")
    definition.synonyms = [s.strip() for s in definition.synonyms if s.strip()]
    if any(";" in s for s in definition.synonyms):
        raise _refuse("Un synonyme ne contient pas de « ; » (il sépare les synonymes).")
    _full_clean(definition, exclude=["themes", "search_text"])
    problems = []
    value_type = definition.value_type
    if value_type in CHOICE_TYPES and definition.code_list_id is None:
        problems.append("Une définition à choix (unique ou multiple) demande une liste de codes.")
    if value_type not in CHOICE_TYPES and definition.code_list_id is not None:
        problems.append("Seule une définition à choix peut avoir une liste de codes.")
    if value_type not in NUMERIC_TYPES and (
        definition.minimum is not None or definition.maximum is not None
    ):
        problems.append("Seule une définition numérique peut avoir un minimum ou un maximum.")
    if (
        definition.minimum is not None
        and definition.maximum is not None
        and definition.minimum > definition.maximum
    ):
        problems.append("Le minimum dépasse le maximum.")
    if value_type == ValueType.INTEGER and definition.decimals:
        problems.append("Un nombre entier n'a pas de décimales.")
    if definition.status == DictionaryStatus.DEPRECATED and definition.replaced_by_id is None:
        problems.append(
            "Une définition obsolète indique la définition qui la remplace (« remplacée par »)."
        )
    if definition.replaced_by_id is not None and definition.replaced_by_id == definition.pk:
        problems.append("Une définition ne peut pas se remplacer elle-même.")
    if problems:
        raise _refuse(problems)


def _meaning_changes(stored: Definition, definition: Definition) -> list[str]:
    return [
        name
        for name in Definition.MEANING_FIELDS
        if _field_value(stored, name) != _field_value(definition, name)
    ]


def definition_check(*, definition: Definition, stored: Definition | None = None) -> None:
    """Raise ``DictionaryError`` if ``definition`` (new or changed) may not be saved as it is.

    Used by ``definition_save`` and, before anything is written, by the admin form and the
    spreadsheet import so that their preview shows the refusal.
    """
    if stored is None and definition.pk:
        stored = Definition.objects.select_related("code_list").filter(pk=definition.pk).first()
    _check_definition(definition)
    if stored is None:
        return
    if stored.code != definition.code:
        raise _refuse(
            f"Le code d'une définition ne change jamais (« {stored.code} ») : créez une "
            "nouvelle définition."
        )
    if stored.status == DictionaryStatus.DRAFT:
        return
    if changed := _meaning_changes(stored, definition):
        names = ", ".join(FIELD_LABELS[name] for name in changed)
        raise _refuse(
            f"La définition publiée « {stored.code} » ne peut pas changer de sens ({names}) : "
            "les valeurs déjà recueillies perdraient leur sens. Créez une nouvelle définition "
            "et déclarez-la comme remplaçante de celle-ci (elle devient obsolète)."
        )
    if definition.status == DictionaryStatus.DRAFT:
        raise _refuse(
            f"La définition « {stored.code} » est publiée : elle ne redevient pas un brouillon."
        )
    if stored.status == DictionaryStatus.DEPRECATED and (
        definition.status != DictionaryStatus.DEPRECATED
        or definition.replaced_by_id != stored.replaced_by_id
    ):
        raise _refuse(
            f"La définition « {stored.code} » est obsolète : elle le reste, remplacée par la "
            "même définition."
        )


@transaction.atomic
def definition_save(
    *,
    definition: Definition,
    acting_user: User | None,
    themes: Iterable[Theme] | None = None,
    comment: str = "",
) -> Definition:
    """Create or change a definition; a no-op when nothing changed.

    A published (or deprecated) definition keeps its meaning: changing its type, unit, bounds,
    decimals, code list or aggregation is refused. Other changes bump its version. Every change
    leaves a revision (the history) and an audit event.
    """
    stored = (
        Definition.objects.select_for_update(of=("self",))
        .select_related("code_list", "replaced_by")
        .filter(pk=definition.pk)
        .first()
        if definition.pk
        else None
    )
    definition_check(definition=definition, stored=stored)
    new_themes = sorted({t.pk: t for t in themes}.values(), key=lambda t: t.pk) if themes else []
    if themes is None:
        new_themes = list(stored.themes.all()) if stored else []
    if stored is not None:
        before = definition_snapshot(stored, stored.themes.all())
        after = definition_snapshot(definition, new_themes)
        if before == after:
            return stored
        if stored.status != DictionaryStatus.DRAFT:
            definition.version = stored.version + 1
        else:
            definition.version = stored.version
        action = "definition.update"
    else:
        definition.version = 1
        action = "definition.create"
    definition.search_text = definition_search_text(definition)
    definition.save()
    definition.themes.set(new_themes)
    snapshot = definition_snapshot(definition, new_themes)
    DefinitionRevision.objects.create(
        definition=definition,
        version=definition.version,
        snapshot=snapshot,
        changed_by=acting_user,
        comment=comment or ("Création" if action == "definition.create" else ""),
    )
    audit_record(
        actor=acting_user,
        action=action,
        target=definition,
        details={"code": definition.code, "version": definition.version},
    )
    return definition


@transaction.atomic
def definition_deprecate(
    *, old: Definition, new: Definition, acting_user: User | None, comment: str = ""
) -> Definition:
    """``old`` is replaced by ``new``, which carries the new meaning; ``old`` stays readable."""
    if old.pk == new.pk:
        raise _refuse("Une définition ne peut pas se remplacer elle-même.")
    if new.status == DictionaryStatus.DEPRECATED:
        raise _refuse(
            f"« {new.code} » est elle-même obsolète : choisissez une définition en vigueur."
        )
    if old.status == DictionaryStatus.DEPRECATED:
        raise _refuse(f"« {old.code} » est déjà obsolète (remplacée par « {old.replaced_by}  »).")
    old.status = DictionaryStatus.DEPRECATED
    old.replaced_by = new
    return definition_save(
        definition=old,
        acting_user=acting_user,
        comment=comment or f"Remplacée par « {new.code} ».",
    )


# --- Code lists -------------------------------------------------------------------------------


def _duplicates(codes: Iterable[str]) -> list[str]:
    return sorted(code for code, count in Counter(codes).items() if count > 1)


def _published_users(code_list: CodeList) -> list[str]:
    return list(
        code_list.definitions.exclude(status=DictionaryStatus.DRAFT).values_list("code", flat=True)
    )


@transaction.atomic
def code_list_save(
    *,
    code: str,
    label: str,
    items: Sequence[tuple[str, str]],
    acting_user: User | None,
) -> CodeList:
    """Create or update a code list and its items (code, label), in the order given.

    Codes are unique in their list. A list used by a published definition may gain codes and
    have its labels fixed, but never lose or rename a code: answers already given use them.
    """
    codes = [str(item_code).strip() for item_code, _ in items]
    if duplicates := _duplicates(codes):
        raise _refuse(
            f"La liste « {code} » contient des codes en double : {', '.join(duplicates)}. "
            "Chaque code est unique dans sa liste."
        )
    if not codes:
        raise _refuse(f"La liste « {code} » est vide.")
    code_list = CodeList.objects.select_for_update().filter(code=code).first()
    created = code_list is None
    if code_list is None:
        code_list = CodeList(code=code, label=label)
    changed = created or code_list.label != label
    code_list.label = label
    _full_clean(code_list, exclude=["code"] if not created else [])
    if changed:
        code_list.save()
    existing = {item.code: item for item in code_list.items.all()}
    removed = sorted(set(existing) - set(codes))
    if removed and (users := _published_users(code_list)):
        raise _refuse(
            f"La liste « {code} » sert aux définitions publiées {', '.join(users)} : ses codes "
            f"{', '.join(removed)} ne peuvent pas être retirés. Créez une nouvelle liste et une "
            "nouvelle définition."
        )
    if removed:
        CodeListItem.objects.filter(code_list=code_list, code__in=removed).delete()
        changed = True
    for order, (item_code, item_label) in enumerate(items, start=1):
        item = existing.get(str(item_code).strip()) or CodeListItem(
            code_list=code_list, code=str(item_code).strip()
        )
        if (item.label, item.order) != (item_label, order) or item.pk is None:
            item.label, item.order = item_label, order
            _full_clean(item)
            item.save()
            changed = True
    if not changed:
        return code_list
    audit_record(
        actor=acting_user,
        action="code_list.create" if created else "code_list.update",
        target=code_list,
        details={"codes": codes},
    )
    return code_list


@transaction.atomic
def code_list_item_save(*, item: CodeListItem, acting_user: User | None) -> CodeListItem:
    """One item (the spreadsheet import works row by row); same rules as ``code_list_save``."""
    item.code = str(item.code or "").strip()
    stored = CodeListItem.objects.filter(pk=item.pk).first() if item.pk else None
    moved = stored is not None and stored.code != item.code
    users = _published_users(stored.code_list) if moved and stored is not None else []
    if users and stored is not None:
        raise _refuse(
            f"Le code « {stored.code} » de la liste « {stored.code_list.code} » sert aux "
            f"définitions publiées {', '.join(users)} : il ne peut pas changer."
        )
    clash = CodeListItem.objects.filter(code_list_id=item.code_list_id, code=item.code)
    if item.pk:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise _refuse(
            f"Le code « {item.code} » figure déjà dans la liste « {item.code_list.code} » : "
            "chaque code est unique dans sa liste."
        )
    _full_clean(item)
    item.save()
    audit_record(
        actor=acting_user,
        action="code_list_item.save",
        target=item,
        details={"list": item.code_list.code, "code": item.code},
    )
    return item


# --- Rules and indicators ---------------------------------------------------------------------


def definition_types(definitions: Iterable[Definition] | None = None) -> dict[str, str]:
    """Code -> expression type of every definition (or of those given)."""
    if definitions is None:
        definitions = Definition.objects.only("code", "value_type")
    return {d.code: EXPRESSION_TYPES[ValueType(d.value_type)] for d in definitions}


def _compile(source: str, *, types: Mapping[str, str], what: str, wanted: str) -> None:
    try:
        compiled = compile_expression(source, types=types)
    except ExpressionError as error:
        raise _refuse(f"{what} : {error}") from None
    if compiled.result_type != wanted:
        raise _refuse(
            f"{what} doit donner {expressions.TYPE_LABELS[wanted]}, pas "
            f"{expressions.TYPE_LABELS[compiled.result_type]}."
        )


def rule_check(*, rule: Rule) -> None:
    """Raise ``DictionaryError`` unless the rule compiles against the dictionary (codes, types)."""
    _full_clean(rule)
    types = definition_types()
    _compile(
        rule.expression,
        types=types,
        what=f"Expression de la règle « {rule.code} »",
        wanted=expressions.BOOLEAN,
    )
    if rule.condition.strip():
        _compile(
            rule.condition,
            types=types,
            what=f"Condition de la règle « {rule.code} »",
            wanted=expressions.BOOLEAN,
        )


@transaction.atomic
def rule_save(*, rule: Rule, acting_user: User | None) -> Rule:
    """Check the rule compiles against the dictionary (codes and types), then save it."""
    rule_check(rule=rule)
    created = rule.pk is None
    rule.save()
    audit_record(
        actor=acting_user,
        action="rule.create" if created else "rule.update",
        target=rule,
        details={"expression": rule.expression, "condition": rule.condition},
    )
    return rule


def _find_cycle(start: str, graph: Mapping[str, set[str]]) -> list[str] | None:
    """A path start -> ... -> start through the indicator graph, or None."""
    path: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(code: str) -> list[str] | None:
        if code in on_path:
            return [*path[path.index(code) :], code]
        if code in done or code not in graph:
            return None
        path.append(code)
        on_path.add(code)
        for following in sorted(graph[code]):
            if cycle := visit(following):
                return cycle
        path.pop()
        on_path.discard(code)
        done.add(code)
        return None

    return visit(start)


def indicator_graph(*, replacing: Indicator | None = None) -> dict[str, set[str]]:
    """Indicator code -> the indicator codes its expression names."""
    sources = dict(Indicator.objects.values_list("code", "expression"))
    if replacing is not None:
        sources[replacing.code] = replacing.expression
    return {code: referenced_codes(source) & set(sources) for code, source in sources.items()}


def indicator_check(*, indicator: Indicator) -> None:
    """Raise ``DictionaryError`` unless the indicator is a number from known codes, no cycle."""
    _full_clean(indicator)
    graph = indicator_graph(replacing=indicator)
    if cycle := _find_cycle(indicator.code, graph):
        raise _refuse(
            f"L'indicateur « {indicator.code} » forme un cycle : {' → '.join(cycle)}. Un "
            "indicateur ne peut pas dépendre de lui-même, même par un autre indicateur."
        )
    types = {**definition_types(), **dict.fromkeys(graph, expressions.NUMBER)}
    _compile(
        indicator.expression,
        types=types,
        what=f"Expression de l'indicateur « {indicator.code} »",
        wanted=expressions.NUMBER,
    )


@transaction.atomic
def indicator_save(*, indicator: Indicator, acting_user: User | None) -> Indicator:
    """Check the indicator is a number computed from known codes, with no cycle; save it."""
    indicator_check(indicator=indicator)
    created = indicator.pk is None
    indicator.save()
    audit_record(
        actor=acting_user,
        action="indicator.create" if created else "indicator.update",
        target=indicator,
        details={"expression": indicator.expression},
    )
    return indicator


# --- Engine specs and indicator values --------------------------------------------------------


def definition_spec(definition: Definition) -> DefinitionSpec:
    items = list(definition.code_list.items.all()) if definition.code_list else []
    labels: dict[str, str] = {}
    for item in items:
        labels[item.label] = item.code
        labels[item.label.lower()] = item.code
    return DefinitionSpec(
        code=definition.code,
        label=definition.label,
        type=ValueType(definition.value_type),
        unit=definition.unit,
        minimum=definition.minimum,
        maximum=definition.maximum,
        decimals=definition.decimals,
        choices=tuple(item.code for item in items),
        choice_labels=labels,
        max_jump_ratio=definition.max_jump_ratio,
        directory_maximum=definition.directory_maximum,
    )


def dictionary_specs(*, codes: Sequence[str]) -> tuple[list[DefinitionSpec], list[RuleSpec]]:
    """The engine's specs for the definitions in play, and the published rules over them only.

    A rule is in play when every code it names (expression and condition) is in ``codes``.
    """
    wanted = list(dict.fromkeys(codes))
    found = {
        d.code: d
        for d in Definition.objects.filter(code__in=wanted)
        .select_related("code_list")
        .prefetch_related("code_list__items")
    }
    definitions = [found[code] for code in wanted if code in found]
    types = definition_types(definitions)
    in_play = set(types)
    rules = []
    for rule in Rule.objects.filter(status=DictionaryStatus.PUBLISHED).order_by("code"):
        names = referenced_codes(rule.expression) | referenced_codes(rule.condition)
        if not names or not names <= in_play:
            continue
        condition = (
            compile_expression(rule.condition, types=types) if rule.condition.strip() else None
        )
        rules.append(
            RuleSpec(
                code=rule.code,
                expression=compile_expression(rule.expression, types=types),
                message=rule.message,
                severity=Severity(rule.severity),
                condition=condition,
            )
        )
    return [definition_spec(d) for d in definitions], rules


@dataclass(frozen=True)
class IndicatorValue:
    value: Decimal | None
    reason: str = ""  # why there is no value (French), empty when there is one
    establishments: int = 0  # rows that had every input


def _indicator_plan(indicator: Indicator) -> tuple[list[Indicator], set[str]]:
    """The indicators to compute first (dependencies before dependants) and the base codes."""
    by_code = {i.code: i for i in Indicator.objects.all()}
    by_code[indicator.code] = indicator
    order: list[Indicator] = []
    base: set[str] = set()
    seen: set[str] = set()

    def visit(current: Indicator) -> None:
        if current.code in seen:
            return
        seen.add(current.code)
        for code in sorted(referenced_codes(current.expression)):
            if code in by_code and code != current.code:
                visit(by_code[code])
            else:
                base.add(code)
        order.append(current)

    visit(indicator)
    return order, base


def indicator_aggregate(
    *, indicator: Indicator, rows: Sequence[Mapping[str, Any]]
) -> IndicatorValue:
    """The indicator over several establishments: its expression on the SUMS of its inputs.

    Two establishments with 1 of 10 and 9 of 10 beds occupied give 10/20 = 50 %, not the mean
    of 10 % and 90 % weighted as if both were the same size. An establishment that lacks one of
    the inputs is left out (its other figures would bias the ratio). Inputs whose definition
    aggregates by mean are averaged; those that do not aggregate make the indicator
    unavailable.
    """
    order, base = _indicator_plan(indicator)
    definitions = {d.code: d for d in Definition.objects.filter(code__in=base)}
    if unknown := sorted(base - set(definitions)):
        return IndicatorValue(None, f"codes inconnus dans l'indicateur : {', '.join(unknown)}")
    for code in sorted(base):
        if definitions[code].establishment_aggregation == Definition.EstablishmentAggregation.NONE:
            return IndicatorValue(
                None, f"« {code} » ne s'agrège pas entre établissements : pas de valeur d'ensemble"
            )
    complete = [row for row in rows if all(row.get(code) not in (None, "") for code in base)]
    if not complete:
        return IndicatorValue(None, "aucun établissement n'a donné toutes les valeurs nécessaires")
    env: dict[str, Any] = {}
    for code in base:
        total = sum((Decimal(str(row[code])) for row in complete), Decimal(0))
        if definitions[code].establishment_aggregation == Definition.EstablishmentAggregation.MEAN:
            total = total / len(complete)
        env[code] = total
    types = {
        **definition_types(definitions.values()),
        **{i.code: expressions.NUMBER for i in order},
    }
    try:
        for current in order:
            env[current.code] = compile_expression(current.expression, types=types).evaluate(env)
    except (ExpressionError, expressions.EvaluationError, expressions.MissingValue) as error:
        return IndicatorValue(None, str(error), len(complete))
    return IndicatorValue(Decimal(env[indicator.code]), "", len(complete))


# --- Seed -------------------------------------------------------------------------------------


def _owner(short_name: str | None) -> Organisation | None:
    if not short_name:
        return None
    return Organisation.objects.filter(
        kind=Organisation.Kind.NATIONAL, short_name=short_name
    ).first()


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@transaction.atomic
def dictionary_load(*, data: Mapping[str, Any], acting_user: User | None) -> dict[str, int]:
    """Load a dictionary file (see data/dictionary_seed.json) through the services.

    Idempotent: what is already there unchanged stays untouched (no new version). A changed
    meaning on a published definition is refused like any other change, and nothing is saved.
    """
    counts = dict.fromkeys(("themes", "code_lists", "definitions", "rules", "indicators"), 0)
    for row in data.get("themes", []):
        Theme.objects.update_or_create(code=row["code"], defaults={"label": row["label"]})
        counts["themes"] += 1
    for row in data.get("code_lists", []):
        code_list_save(
            code=row["code"],
            label=row["label"],
            items=[(code, label) for code, label in row["items"]],
            acting_user=acting_user,
        )
        counts["code_lists"] += 1
    themes = {t.code: t for t in Theme.objects.all()}
    replacements = []
    for row in data.get("definitions", []):
        definition = Definition.objects.filter(code=row["code"]).first() or Definition(
            code=row["code"]
        )
        definition.label = row["label"]
        definition.doctrine = row.get("doctrine", "")
        definition.value_type = row["value_type"]
        definition.unit = row.get("unit", "")
        definition.minimum = _decimal(row.get("minimum"))
        definition.maximum = _decimal(row.get("maximum"))
        definition.decimals = row.get("decimals")
        definition.code_list = (
            CodeList.objects.get(code=row["code_list"]) if row.get("code_list") else None
        )
        definition.time_aggregation = row.get("time_aggregation", "stock")
        definition.establishment_aggregation = row.get("establishment_aggregation", "sum")
        definition.synonyms = row.get("synonyms", [])
        definition.owner = _owner(row.get("owner"))
        definition.max_jump_ratio = _decimal(row.get("max_jump_ratio"))
        definition.directory_maximum = row.get("directory_maximum", "")
        if row.get("replaced_by"):
            replacements.append((row["code"], row["replaced_by"]))
        else:
            definition.status = row.get("status", DictionaryStatus.PUBLISHED)
        definition_save(
            definition=definition,
            acting_user=acting_user,
            themes=[themes[code] for code in row.get("themes", [])],
            comment="Dictionnaire de référence",
        )
        counts["definitions"] += 1
    for old_code, new_code in replacements:
        old = Definition.objects.get(code=old_code)
        if old.replaced_by is None or old.replaced_by.code != new_code:
            definition_deprecate(
                old=old, new=Definition.objects.get(code=new_code), acting_user=acting_user
            )
    for row in data.get("rules", []):
        rule = Rule.objects.filter(code=row["code"]).first() or Rule(code=row["code"])
        fields = {
            "expression": row["expression"],
            "condition": row.get("condition", ""),
            "severity": row.get("severity", Rule.Severity.ERROR),
            "message": row["message"],
            "status": row.get("status", DictionaryStatus.PUBLISHED),
            "owner": _owner(row.get("owner")),
        }
        if rule.pk is None or any(getattr(rule, k) != v for k, v in fields.items()):
            for name, value in fields.items():
                setattr(rule, name, value)
            rule_save(rule=rule, acting_user=acting_user)
        counts["rules"] += 1
    for row in data.get("indicators", []):
        indicator = Indicator.objects.filter(code=row["code"]).first() or Indicator(
            code=row["code"]
        )
        fields = {
            "label": row["label"],
            "expression": row["expression"],
            "unit": row.get("unit", ""),
            "doctrine": row.get("doctrine", ""),
            "status": row.get("status", DictionaryStatus.PUBLISHED),
            "owner": _owner(row.get("owner")),
        }
        if indicator.pk is None or any(getattr(indicator, k) != v for k, v in fields.items()):
            for name, value in fields.items():
                setattr(indicator, name, value)
            indicator_save(indicator=indicator, acting_user=acting_user)
        counts["indicators"] += 1
    return counts


def dictionary_load_seed(
    *, path: Path = SEED_PATH, acting_user: User | None = None
) -> dict[str, int]:
    with path.open(encoding="utf-8") as handle:
        return dictionary_load(data=json.load(handle), acting_user=acting_user)
