"""The value store's one way in and out, shared by the web form, the spreadsheet and the API.

``submit()`` checks raw answers for an assignment with the survey's schema (the dictionary's
engine), then writes every changed value and appends its revision, in one transaction. Each
channel only turns its input into ``{code: raw}`` and names where each answer came from.

Absent codes keep what the store holds for the period (an API call may send only what changed);
a code present but blank clears the value (a revision records it).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import audit_record
from collection import reuse
from collection.models import Channel, Draft, Value, ValueRevision
from referentials.dictionary import definition_spec
from referentials.validation import (
    Context,
    DefinitionSpec,
    Issue,
    Severity,
    ValueType,
    Verdict,
    format_value,
    parse_value,
    validate,
)
from surveys.models import Assignment, CampaignPeriod, Question
from surveys.periods import Period, parse_period
from surveys.schema import QuestionSpec, VersionSchema, ad_hoc_spec, version_schema

NUMERIC_TYPES = (ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE)

# --- Canonical form ---------------------------------------------------------------------------


def to_data(value: Any) -> Any:
    """The JSON the store keeps for a typed value (see ``Value.data``)."""
    match value:
        case None:
            return None
        case bool():
            return value
        case int() | Decimal():
            return format(Decimal(value).normalize(), "f")
        case date():
            return value.isoformat()
        case frozenset() | set():
            return sorted(value)
        case _:
            return str(value)


def from_data(spec: DefinitionSpec, data: Any) -> Any:
    """The typed value back from the store (None when unreadable under today's spec)."""
    try:
        return parse_value(spec, data)
    except ValueError:
        return None


def _number(spec: DefinitionSpec, value: Any) -> Decimal | None:
    if spec.type in NUMERIC_TYPES and value is not None and not isinstance(value, bool):
        return Decimal(value)
    return None


# --- Reading ----------------------------------------------------------------------------------


def _key_q(schema: VersionSchema, questions: Iterable[QuestionSpec]) -> Q:
    bound = [q.definition_id for q in questions if q.definition_id is not None]
    ad_hoc = [q.code for q in questions if q.definition_id is None]
    q = Q(definition_id__in=bound)
    if ad_hoc:
        q |= Q(definition__isnull=True, survey_id=schema.survey_id, code__in=ad_hoc)
    return q


def stored_values(*, unit_id: int, schema: VersionSchema, period_key: str) -> dict[str, Value]:
    """The values the store holds for this unit and period, by question code."""
    codes_by_definition: dict[int | None, str] = {
        q.definition_id: q.code for q in schema.questions if q.definition_id
    }
    found: dict[str, Value] = {}
    for value in Value.objects.filter(
        _key_q(schema, schema.questions), unit_id=unit_id, period_key=period_key
    ).select_related("campaign__owner", "changed_by"):
        code = codes_by_definition.get(value.definition_id, value.code)
        found[code] = value
    return found


def previous_values(*, unit_id: int, schema: VersionSchema, period: Period) -> dict[str, Any]:
    """The previous period's typed values (the engine's jump check and the form's hints)."""
    # Only the data is needed: no model instances, no provenance joins (this runs on every
    # check of every channel).
    codes_by_definition = {q.definition_id: q.code for q in schema.questions if q.definition_id}
    by_code = schema.by_code
    found: dict[str, Any] = {}
    for definition_id, code, data in Value.objects.filter(
        _key_q(schema, schema.questions), unit_id=unit_id, period_key=period.previous().key
    ).values_list("definition_id", "code", "data"):
        code = codes_by_definition.get(definition_id, code)
        if code in by_code:
            found[code] = from_data(by_code[code].spec, data)
    return found


def directory_facts(*, unit_id: int, schema: VersionSchema, period: Period) -> dict[str, Any]:
    """Capacities the engine checks against (``directory_maximum``): the latest value the unit
    declared for the named definition, up to this period."""
    names = {q.spec.directory_maximum for q in schema.questions if q.spec.directory_maximum}
    facts: dict[str, Any] = {}
    if not names:
        return facts
    for code, data in (
        Value.objects.filter(
            unit_id=unit_id, definition__code__in=names, period_start__lte=period.end
        )
        .exclude(data=None)
        .order_by("definition__code", "-period_start")
        .values_list("definition__code", "data")
    ):
        if code not in facts:
            try:
                facts[code] = Decimal(str(data))
            except ArithmeticError:
                continue
    return facts


def engine_context(*, unit_id: int, schema: VersionSchema, period: Period) -> Context:
    return Context(
        facts=directory_facts(unit_id=unit_id, schema=schema, period=period),
        previous=previous_values(unit_id=unit_id, schema=schema, period=period),
    )


def provenance(value: Value) -> str:
    """« déclaré le 12/03/2026 via l'enquête Capacités (DGOS), par formulaire en ligne »."""
    when = timezone.localtime(value.changed_at).strftime("%d/%m/%Y à %H:%M")
    where = ""
    if value.campaign is not None:
        owner = value.campaign.owner.short_name or value.campaign.owner.name
        where = f" via l'enquête « {value.campaign.title} » ({owner})"
    return f"Déclaré le {when}{where}, par {value.get_channel_display()}"


def display(spec: DefinitionSpec, data: Any) -> str:
    return format_value(spec, from_data(spec, data))


# --- Writing ----------------------------------------------------------------------------------


class SubmissionRefused(Exception):
    """The assignment cannot take answers now (exempted, period locked); French message."""


@dataclass
class Conflict:
    """Someone else saved this assignment since the form was loaded."""

    expected_revision: int
    current_revision: int
    # code -> (what the store holds now, what this submission brought), as displayed
    differences: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Outcome:
    verdict: Verdict
    applied: bool = False
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Warnings that need a comment and have none: they block like errors.
    unjustified: list[Issue] = field(default_factory=list)
    conflict: Conflict | None = None
    # The comments to store, by question code: a rule's justification goes to its questions.
    comments: dict[str, str] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Issue]:
        return self.verdict.errors + self.unjustified


def period_of_assignment(assignment: Assignment) -> Period:
    return parse_period(assignment.period.key)


def assignment_open_for_answers(assignment: Assignment, *, now: datetime | None = None) -> None:
    """Raise ``SubmissionRefused`` when answers cannot be taken (exempted, locked, closed)."""
    now = now or timezone.now()
    if assignment.status == Assignment.Status.EXEMPTED:
        raise SubmissionRefused(
            "Cette demande fait l'objet d'une dispense : aucune réponse n'est attendue."
        )
    period: CampaignPeriod = assignment.period
    if now >= period.locks_at:
        raise SubmissionRefused(
            f"La période {period.key} est verrouillée depuis le "
            f"{timezone.localtime(period.locks_at):%d/%m/%Y à %H:%M} : les corrections ne sont "
            "plus acceptées. Contactez le demandeur si une valeur doit changer."
        )
    if assignment.campaign.status != assignment.campaign.Status.OPEN:
        raise SubmissionRefused("Cette campagne n'est pas ouverte : elle ne reçoit pas de réponse.")


def merged_answers(
    answers: Mapping[str, Any], stored: Mapping[str, Value], schema: VersionSchema
) -> dict[str, Any]:
    """Raw answers, completed by the store for the codes they do not mention."""
    merged: dict[str, Any] = {}
    by_code = schema.by_code
    for code, value in stored.items():
        if code in by_code and value.data is not None:
            merged[code] = display(by_code[code].spec, value.data)
    merged.update(answers)
    return merged


def served_answers(
    merged: Mapping[str, Any], served: Mapping[str, "reuse.Served"], schema: VersionSchema
) -> dict[str, Any]:
    """Answers where served questions hold their served value (pending ones none): the rules
    and display conditions read them like stored answers."""
    result = dict(merged)
    by_code = schema.by_code
    for code, item in served.items():
        if item.available:
            result[code] = display(by_code[code].spec, item.data)
        else:
            result.pop(code, None)
    return result


def asked_schema(schema: VersionSchema, served: Mapping[str, Any]) -> VersionSchema:
    """The schema as asked: served questions are never required."""
    if not served:
        return schema
    questions = [
        replace(q, required=False, spec=replace(q.spec, required=False)) if q.code in served else q
        for q in schema.questions
    ]
    return replace(schema, questions=questions)


def served_verdict(
    verdict: Verdict,
    assignment_id: int,
    schema: VersionSchema,
    answers: Mapping[str, Any],
    served: Mapping[str, "reuse.Served"],
    sources: Mapping[str, str] | None,
) -> Verdict:
    """The engine's issues on served values are not the respondent's to fix; an input that
    carries a served question is refused (the same message on every channel)."""
    if not served:
        return verdict
    issues = [issue for issue in verdict.issues if issue.code not in served]
    by_code = schema.by_code
    for code in answers:
        if code in served:
            message = reuse.refusal_message(
                assignment_id=assignment_id, question=by_code[code], served=served[code]
            )
            issues.append(Issue(code, Severity.ERROR, message, (sources or {}).get(code, "")))
    return Verdict(values=verdict.values, issues=issues)


def check(
    assignment: Assignment,
    answers: Mapping[str, Any],
    *,
    comments: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
    schema: VersionSchema | None = None,
) -> Outcome:
    """The verdict on these answers, without writing anything (live validation, previews)."""
    schema = schema or version_schema(assignment.version)
    period = period_of_assignment(assignment)
    stored = stored_values(unit_id=assignment.unit_id, schema=schema, period_key=period.key)
    served = reuse.served_for(assignment, schema=schema)  # not asked (collection.reuse)
    merged = served_answers(merged_answers(answers, stored, schema), served, schema)
    verdict = asked_schema(schema, served).check(
        merged,
        context=engine_context(unit_id=assignment.unit_id, schema=schema, period=period),
        sources=sources,
    )
    verdict = served_verdict(verdict, assignment.pk, schema, answers, served, sources)
    comments = _with_rule_comments(schema, verdict, comments or {})
    unjustified = [
        issue
        for issue in verdict.warnings
        if not (comments.get(issue.code) or "").strip()
        and not _stored_comment(stored, issue, schema, verdict)
    ]
    outcome = Outcome(verdict=verdict, unjustified=unjustified, comments=comments)
    for code, value in verdict.values.items():
        if code in served:
            continue  # served values are read from the store, never written by this answer
        old = stored.get(code)
        new = to_data(value)
        if old is None:
            if new is not None:
                outcome.created.append(code)
        elif old.data != new or ((comments.get(code) or "").strip() not in ("", old.comment)):
            outcome.changed.append(code)
        else:
            outcome.unchanged.append(code)
    return outcome


def rule_questions(schema: VersionSchema, code: str) -> list[str]:
    """The questions a rule of the schema names (expression and condition), in form order."""
    for rule in schema.rules:
        if rule.code == code:
            names = set(rule.expression.names)
            if rule.condition is not None:
                names |= rule.condition.names
            return [q for q in schema.codes if q in names]
    return []


def _with_rule_comments(
    schema: VersionSchema, verdict: Verdict, comments: Mapping[str, str]
) -> dict[str, str]:
    """The comments by code, where the justification of a rule's warning (keyed by the rule's
    code) is also given to the answered questions the rule names: it is stored with them."""
    merged = {code: (text or "").strip() for code, text in comments.items()}
    by_code = schema.by_code
    for issue in verdict.warnings:
        text = merged.get(issue.code, "")
        if issue.code in by_code or not text:
            continue
        for code in rule_questions(schema, issue.code):
            if verdict.values.get(code) is None:
                continue
            own = merged.get(code, "")
            if text not in own:
                merged[code] = f"{own}\n{text}" if own else text
    return merged


def _stored_comment(
    stored: Mapping[str, Value], issue: Issue, schema: VersionSchema, verdict: Verdict
) -> bool:
    """A warning already justified on the stored value (for a rule: on one of the values it
    names) needs no new comment, as long as the values it is about do not change: a new value
    is a new declaration, and its warning needs its own justification."""
    codes = [issue.code] if issue.code in schema.by_code else rule_questions(schema, issue.code)
    unchanged = all(
        code in stored and stored[code].data == to_data(verdict.values.get(code))
        for code in codes
        if code in verdict.values
    )
    return unchanged and any(code in stored and stored[code].comment.strip() for code in codes)


def submit(
    assignment: Assignment,
    answers: Mapping[str, Any],
    *,
    channel: Channel | str,
    user: User | None = None,
    api_key: ApiKey | None = None,
    comments: Mapping[str, str] | None = None,
    sources: Mapping[str, str] | None = None,
    expected_revision: int | None = None,
    schema: VersionSchema | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Check and, if nothing blocks, write the answers of one assignment and submit it.

    Nothing is written when an error or an unjustified warning remains, or when
    ``expected_revision`` (the assignment's revision when the form was loaded) is stale: the
    outcome then carries the conflict, with both values of every answer that differs.

    Two campaigns may write the same shared value at the same moment (same unit, definition and
    period, different assignments): the second insert then breaks the unique key. It is retried
    once, and then finds the value and appends its revision.
    """
    for attempt in (1, 2):
        try:
            return _submit_once(
                assignment,
                answers,
                channel=channel,
                user=user,
                api_key=api_key,
                comments=comments,
                sources=sources,
                expected_revision=expected_revision,
                schema=schema,
                now=now,
            )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _submit_once(
    assignment: Assignment,
    answers: Mapping[str, Any],
    *,
    channel: Channel | str,
    user: User | None,
    api_key: ApiKey | None,
    comments: Mapping[str, str] | None,
    sources: Mapping[str, str] | None,
    expected_revision: int | None,
    schema: VersionSchema | None,
    now: datetime | None,
) -> Outcome:
    now = now or timezone.now()
    comments = {k: (v or "").strip() for k, v in (comments or {}).items()}
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update()
            .select_related("period", "campaign__owner", "version", "unit")
            .get(pk=assignment.pk)
        )
        assignment_open_for_answers(locked, now=now)
        schema = schema or version_schema(locked.version)
        outcome = check(locked, answers, comments=comments, sources=sources, schema=schema)
        if expected_revision is not None and locked.revision != expected_revision:
            outcome.conflict = _conflict(locked, schema, answers, expected_revision)
            return outcome
        if outcome.blocking:
            return outcome
        period = period_of_assignment(locked)
        stored = stored_values(unit_id=locked.unit_id, schema=schema, period_key=period.key)
        _write_all(
            locked,
            schema,
            period,
            stored,
            {code: outcome.verdict.values[code] for code in outcome.created + outcome.changed},
            comments=outcome.comments,
            channel=channel,
            user=user,
            api_key=api_key,
            now=now,
        )
        first_submission = locked.status != Assignment.Status.SUBMITTED
        locked.status = Assignment.Status.SUBMITTED
        locked.submitted_at = now
        locked.submitted_by = user
        locked.revision += 1
        locked.save(
            update_fields=["status", "submitted_at", "submitted_by", "revision", "updated_at"]
        )
        Draft.objects.filter(assignment=locked).delete()
        audit_record(
            actor=user,
            action="assignment.submit" if first_submission else "assignment.correct",
            target=locked,
            details={
                "channel": str(channel),
                "api_key": api_key.prefix if api_key else None,
                "created": outcome.created,
                "changed": outcome.changed,
            },
        )
        outcome.applied = True
        assignment.status = locked.status
        assignment.revision = locked.revision
        assignment.submitted_at = locked.submitted_at
    return outcome


def _write_all(
    assignment: Assignment,
    schema: VersionSchema,
    period: Period,
    stored: Mapping[str, Value],
    typed: Mapping[str, Any],
    *,
    comments: Mapping[str, str],
    channel: Channel | str,
    user: User | None,
    api_key: ApiKey | None,
    now: datetime,
) -> list[Value]:
    """Write the ``typed`` values (code -> typed value) and append one revision each.

    The existing rows are locked in one query, new ones inserted in one, revisions in one;
    each changed row is one UPDATE.
    """
    provenance_fields = {
        "campaign_id": assignment.campaign_id,
        "assignment_id": assignment.pk,
        "channel": str(channel),
        "changed_by": user,
        "api_key": api_key,
        "changed_at": now,
    }
    by_code = schema.by_code
    existing_ids = [stored[code].pk for code in typed if code in stored]
    locked = {v.pk: v for v in Value.objects.select_for_update().filter(pk__in=existing_ids)}
    created: list[Value] = []
    updated: list[Value] = []
    # (value, number, old data, old status, comment), in the order of ``typed``
    changes: list[tuple[Value, int, Any, str, str]] = []
    for code, value in typed.items():
        question = by_code[code]
        data = to_data(value)
        comment = comments.get(code, "")
        existing = stored.get(code)
        if existing is None or existing.pk not in locked:
            row = Value(
                unit_id=assignment.unit_id,
                definition_id=question.definition_id,
                survey_id=None if question.definition_id else schema.survey_id,
                code=question.spec.code if question.definition_id else question.code,
                period_kind=period.kind.value,
                period_key=period.key,
                period_start=period.start,
                period_end=period.end,
                data=data,
                number=_number(question.spec, value),
                comment=comment,
                revision_count=1,
                **provenance_fields,
            )
            created.append(row)
            changes.append((row, 1, None, "", comment))
            continue
        row = locked[existing.pk]
        old_data, old_status = row.data, row.status
        row.data = data
        row.number = _number(question.spec, value)
        row.comment = comment or (row.comment if old_data == data else "")
        # A changed value is a new declaration: a validation or a query applied to the old one.
        row.status = Value.Status.SUBMITTED
        row.revision_count += 1
        for name, field_value in provenance_fields.items():
            setattr(row, name, field_value)
        updated.append(row)
        changes.append((row, row.revision_count, old_data, old_status, comment))
    Value.objects.bulk_create(created)
    # One plain UPDATE per changed row: Django's bulk_update builds a CASE per field and row,
    # which costs far more in Python than these statements cost the database.
    for row in updated:
        Value.objects.filter(pk=row.pk).update(
            data=row.data,
            number=row.number,
            comment=row.comment,
            status=row.status,
            revision_count=row.revision_count,
            **provenance_fields,
        )
    ValueRevision.objects.bulk_create(
        ValueRevision(
            value=row,
            number=number,
            old_data=old_data,
            new_data=row.data,
            old_status=old_status,
            new_status=row.status,
            comment=comment,
            **provenance_fields,
        )
        for row, number, old_data, old_status, comment in changes
    )
    return [row for row, *_ in changes]


def _conflict(
    assignment: Assignment,
    schema: VersionSchema,
    answers: Mapping[str, Any],
    expected_revision: int,
) -> Conflict:
    period = period_of_assignment(assignment)
    stored = stored_values(unit_id=assignment.unit_id, schema=schema, period_key=period.key)
    draft = Draft.objects.filter(assignment=assignment).first()
    theirs_raw = dict(draft.answers) if draft else {}
    by_code = schema.by_code
    differences: dict[str, tuple[str, str]] = {}
    for code, raw in answers.items():
        if code not in by_code:
            continue
        spec = by_code[code].spec
        if code in theirs_raw:
            current = str(theirs_raw[code] or "")
        elif code in stored:
            current = display(spec, stored[code].data)
        else:
            current = ""
        mine = "" if raw is None else str(raw)
        try:
            same = parse_value(spec, current) == parse_value(spec, mine)
        except ValueError:
            same = current.strip() == mine.strip()
        if not same:
            differences[code] = (current, mine)
    return Conflict(
        expected_revision=expected_revision,
        current_revision=assignment.revision,
        differences=differences,
    )


def save_draft(
    assignment: Assignment,
    answers: Mapping[str, Any],
    *,
    comments: Mapping[str, str] | None = None,
    user: User | None,
    expected_revision: int | None = None,
) -> Conflict | None:
    """Keep unsubmitted answers; the store is untouched. Returns a conflict if stale."""
    with transaction.atomic():
        locked = (
            Assignment.objects.select_for_update()
            .select_related("period", "campaign", "version")
            .get(pk=assignment.pk)
        )
        assignment_open_for_answers(locked)
        if expected_revision is not None and locked.revision != expected_revision:
            return _conflict(locked, version_schema(locked.version), answers, expected_revision)
        Draft.objects.update_or_create(
            assignment=locked,
            defaults={
                "answers": {k: ("" if v is None else str(v)) for k, v in answers.items()},
                "comments": dict(comments or {}),
                "updated_by": user,
            },
        )
        if locked.status == Assignment.Status.TODO:
            locked.status = Assignment.Status.IN_PROGRESS
        locked.revision += 1
        locked.save(update_fields=["status", "revision", "updated_at"])
        assignment.status = locked.status
        assignment.revision = locked.revision
    return None


# --- Correcting one value ---------------------------------------------------------------------


def value_spec(value: Value) -> DefinitionSpec | None:
    """The spec a stored value is read and checked with: its definition's, or for an ad-hoc
    value the question of that code in the survey's latest version that asks it."""
    if value.definition is not None:
        return definition_spec(value.definition)
    if value.survey_id is None:
        return None
    question = (
        Question.objects.filter(section__version__survey_id=value.survey_id, code=value.code)
        .order_by("-section__version__number", "-pk")
        .first()
    )
    return ad_hoc_spec(question) if question is not None else None


def value_period_open(value: Value, *, now: datetime | None = None) -> None:
    """Raise ``SubmissionRefused`` when the period that declared ``value`` is locked: its
    assignment's period locks (``locks_at``), or its campaign is closed and its correction
    window (``correction_days`` after the closing) is over."""
    now = now or timezone.now()
    if value.assignment is not None:
        period = value.assignment.period
        if now >= period.locks_at:
            raise SubmissionRefused(
                f"La période {period.key} de cette valeur est verrouillée depuis le "
                f"{timezone.localtime(period.locks_at):%d/%m/%Y à %H:%M} : elle ne peut plus "
                "être corrigée. Contactez le demandeur de la campagne qui l'a recueillie."
            )
    campaign = value.campaign
    if campaign is not None and campaign.status == campaign.Status.CLOSED:
        closed_at = campaign.closed_at or campaign.updated_at
        if now >= closed_at + timedelta(days=campaign.correction_days):
            raise SubmissionRefused(
                f"La campagne « {campaign.title} » qui a recueilli cette valeur est clôturée et "
                "son délai de correction est passé : elle ne peut plus être corrigée. Contactez "
                "son demandeur."
            )


def value_correct(
    *,
    value: Value,
    raw: Any,
    comment: str,
    user: User,
    channel: Channel | str = Channel.FORM,
    assignment: Assignment | None = None,
) -> Value:
    """Correct one stored value outside any assignment (a shared value served to several
    campaigns, a value a requester questioned): checked with the engine the channels use,
    written with its revision (old and new data, the required comment, who corrected it).

    The value keeps the campaign that declared it; the revision and the value's latest
    provenance name the corrector. Raises ``SubmissionRefused`` with a French message, also
    when the value's period is locked, or when ``assignment`` (the corrector's own request,
    reading the value served) no longer takes answers.
    """
    if assignment is not None:
        assignment_open_for_answers(assignment)
    value_period_open(value)
    comment = (comment or "").strip()
    if not comment:
        raise SubmissionRefused(
            "Expliquez la correction en commentaire : les autres utilisateurs de cette valeur "
            "la liront."
        )
    spec = value_spec(value)
    if spec is None:
        raise SubmissionRefused(
            "Cette valeur ne correspond plus à aucune question : elle ne peut pas être corrigée."
        )
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise SubmissionRefused(f"{spec.label} : indiquez la valeur corrigée.")
    verdict = validate(answers={spec.code: raw}, definitions=[spec])
    if verdict.errors:
        raise SubmissionRefused(verdict.errors[0].message)
    typed = verdict.values.get(spec.code)
    now = timezone.now()
    with transaction.atomic():
        # The row lock: a submission of the same value by a channel waits for this correction.
        row = Value.objects.select_for_update().get(pk=value.pk)
        old_data, old_status = row.data, row.status
        new_data = to_data(typed)
        if new_data == old_data:
            raise SubmissionRefused(
                f"{spec.label} : la valeur corrigée est identique à la valeur enregistrée."
            )
        row.data = new_data
        row.number = _number(spec, typed)
        row.comment = comment
        row.status = Value.Status.SUBMITTED
        row.revision_count += 1
        row.channel = str(channel)
        row.changed_by = user
        row.api_key = None
        row.changed_at = now
        row.save(
            update_fields=[
                "data",
                "number",
                "comment",
                "status",
                "revision_count",
                "channel",
                "changed_by",
                "api_key",
                "changed_at",
            ]
        )
        ValueRevision.objects.create(
            value=row,
            number=row.revision_count,
            old_data=old_data,
            new_data=new_data,
            old_status=old_status,
            new_status=row.status,
            comment=comment,
            channel=str(channel),
            changed_by=user,
            campaign_id=row.campaign_id,
            assignment_id=row.assignment_id,
            changed_at=now,
        )
        audit_record(
            actor=user,
            action="value.correct",
            target=row,
            details={"old": old_data, "new": new_data, "channel": str(channel)},
        )
    return row
