"""A survey version as the engine and every channel see it: questions with their specs, display
conditions, the dictionary's rules in play, and one ``check()`` that every channel calls.

The web form, the spreadsheet upload and the API all go through ``VersionSchema.check``: the
same answers give the same verdict whatever the channel.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from referentials import expressions
from referentials.dictionary import dictionary_specs
from referentials.validation import (
    EXPRESSION_TYPES,
    Context,
    DefinitionSpec,
    RuleSpec,
    ValueType,
    Verdict,
    validate,
)
from surveys.models import Question, SurveyVersion


@dataclass(frozen=True)
class QuestionSpec:
    code: str
    label: str
    help_text: str
    section_id: int
    required: bool
    spec: DefinitionSpec
    definition_id: int | None
    condition_source: str = ""
    condition: expressions.Compiled | None = None

    @property
    def is_ad_hoc(self) -> bool:
        return self.definition_id is None

    @property
    def choices(self) -> list[tuple[str, str]]:
        """(code, label) pairs, in order, for choice questions."""
        labels: dict[str, str] = {}
        for label, code in self.spec.choice_labels.items():
            labels.setdefault(code, label)  # the label as written comes before its lower case
        return [(code, labels.get(code, code)) for code in self.spec.choices]


@dataclass(frozen=True)
class SectionSpec:
    id: int
    title: str
    description: str
    codes: tuple[str, ...]


@dataclass
class VersionSchema:
    version_id: int
    survey_id: int
    title: str
    sections: list[SectionSpec]
    questions: list[QuestionSpec]
    rules: list[RuleSpec] = field(default_factory=list)

    @property
    def by_code(self) -> dict[str, QuestionSpec]:
        return {q.code: q for q in self.questions}

    @property
    def codes(self) -> list[str]:
        return [q.code for q in self.questions]

    def visible_codes(self, values: Mapping[str, Any]) -> set[str]:
        """Questions whose display condition holds for these typed values.

        A condition over a question left empty is false: the question waits for its trigger.
        """
        visible = set()
        for question in self.questions:
            if question.condition is None:
                visible.add(question.code)
                continue
            try:
                if question.condition.evaluate(dict(values)):
                    visible.add(question.code)
            except (expressions.MissingValue, expressions.EvaluationError):
                continue
        return visible

    def check(
        self,
        answers: Mapping[str, Any],
        *,
        context: Context | None = None,
        sources: Mapping[str, str] | None = None,
    ) -> Verdict:
        """The verdict on raw ``answers`` (code -> raw value) for this version.

        Answers to questions hidden by their condition are dropped, and their required flag
        does not apply; codes that are not questions of the version are reported.
        """
        optional = [_optional(q.spec) for q in self.questions]
        first = validate(answers=answers, definitions=optional, rules=(), context=None)
        visible = self.visible_codes({k: v for k, v in first.values.items() if v is not None})
        known = set(self.codes)
        kept = {k: v for k, v in answers.items() if k in visible or k not in known}
        return validate(
            answers=kept,
            definitions=[q.spec for q in self.questions if q.code in visible],
            rules=self.rules,
            context=context,
            sources=sources,
        )


def _optional(spec: DefinitionSpec) -> DefinitionSpec:
    return replace(spec, required=False)


def _decimal(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def ad_hoc_spec(question: Question) -> DefinitionSpec:
    labels: dict[str, str] = {}
    for choice in question.choices or []:
        labels[str(choice.get("label", ""))] = str(choice["code"])
        labels[str(choice.get("label", "")).lower()] = str(choice["code"])
    return DefinitionSpec(
        code=question.code,
        label=question.label or question.code,
        type=ValueType(question.value_type),
        unit=question.unit,
        minimum=_decimal(question.minimum),
        maximum=_decimal(question.maximum),
        decimals=question.decimals,
        choices=tuple(str(c["code"]) for c in question.choices or []),
        choice_labels=labels,
        required=question.required,
    )


def version_schema(version: SurveyVersion) -> VersionSchema:
    """Build the schema of ``version`` (a few queries; nothing cached: drafts change)."""
    questions = list(
        version.questions.select_related("definition", "section").order_by(
            "section__order", "section_id", "order", "pk"
        )
    )
    bound_codes = [q.definition.code for q in questions if q.definition is not None]
    definition_specs, rules = dictionary_specs(codes=bound_codes)
    by_code = {spec.code: spec for spec in definition_specs}
    types: dict[str, str] = {}
    specs: list[tuple[Question, DefinitionSpec]] = []
    for question in questions:
        if question.definition is not None:
            base = by_code[question.definition.code]
            spec = replace(base, required=question.required)
        else:
            spec = ad_hoc_spec(question)
        types[question.code] = EXPRESSION_TYPES[spec.type]
        specs.append((question, spec))
    result = []
    for question, spec in specs:
        condition = (
            expressions.compile_expression(question.condition, types=types)
            if question.condition.strip()
            else None
        )
        doctrine = question.definition.doctrine if question.definition is not None else ""
        result.append(
            QuestionSpec(
                code=question.code,
                label=question.label or spec.label,
                help_text=question.help_text or doctrine,
                section_id=question.section_id,
                required=question.required,
                spec=spec,
                definition_id=question.definition_id,
                condition_source=question.condition,
                condition=condition,
            )
        )
    sections = [
        SectionSpec(
            id=section.pk,
            title=section.title,
            description=section.description,
            codes=tuple(q.code for q in result if q.section_id == section.pk),
        )
        for section in version.sections.order_by("order", "pk")
    ]
    return VersionSchema(
        version_id=version.pk,
        survey_id=version.survey_id,
        title=version.title,
        sections=sections,
        questions=result,
        rules=rules,
    )
