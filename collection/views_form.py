"""The respondent's web form over the value store (``/collecte/demandes/<pk>/``).

Everything goes through ``collection.values``: the form prefills what the store holds for the
period (with where it came from), checks as one types (htmx posts the whole form to
``assignment_check``), keeps drafts, submits and corrects. Without JavaScript every action is a
plain POST of the same form; htmx only adds the live check.

Who sees what: a respondent whose scope holds the assignment's unit answers; a requester or
viewer of the campaign's owner, whose scope holds the unit, reads (read-only); anyone else gets
a 404, as if the assignment did not exist.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, User
from accounts.scoping import scope_for
from collection import reuse, values
from collection.forms_answer import ConflictChoice, Posted, conflict_choices, parse_post
from collection.models import Channel, Draft, Value
from referentials.dictionary import definition_spec
from referentials.validation import DefinitionSpec, Issue, format_value
from surveys.models import Assignment, Campaign, Question
from surveys.rendering import FormContext, form_context
from surveys.schema import VersionSchema, ad_hoc_spec, version_schema

READING_ROLES = [Role.REQUESTER, Role.VIEWER]


# --- Access -----------------------------------------------------------------------------------


def _may_answer(user: Any, unit_q_prefix: str = "unit__") -> Q:
    return scope_for(user, roles=[Role.RESPONDENT]).units_q(unit_q_prefix)


def _reader_q(user: Any, *, owner: str) -> Q:
    """Requesters and viewers of the owning organisation, for units of their scope."""
    scope = scope_for(user, roles=READING_ROLES)
    return scope.units_q("unit__") & Q(**{f"{owner}__in": sorted(scope.organisation_ids)})


def assignment_access(user: Any, pk: int) -> tuple[Assignment, bool]:
    """The assignment and whether ``user`` may answer it (else read only); 404 outside."""
    queryset = Assignment.objects.select_related(
        "campaign__owner", "period", "unit", "version"
    ).filter(pk=pk)
    assignment = queryset.filter(_may_answer(user)).first()
    if assignment is not None:
        return assignment, True
    assignment = queryset.filter(_reader_q(user, owner="campaign__owner_id")).first()
    if assignment is None:
        raise Http404("Demande introuvable.")
    return assignment, False


def value_access(user: Any, pk: int) -> Value:
    """A value of the store, for those who may answer for its unit or read its campaign."""
    queryset = Value.objects.select_related(
        "unit", "definition", "survey", "campaign__owner", "changed_by"
    ).filter(pk=pk)
    value = queryset.filter(_may_answer(user) | _reader_q(user, owner="campaign__owner_id")).first()
    if value is None:
        raise Http404("Valeur introuvable.")
    return value


# --- What the page shows ----------------------------------------------------------------------


@dataclass
class Known:
    """What the store and the drafts know of an assignment when its form is drawn."""

    schema: VersionSchema
    stored: dict[str, Value]
    answers: dict[str, str]
    comments: dict[str, str]
    previous: dict[str, str]
    draft: Draft | None
    # Questions served from the store instead of asked (collection.reuse), by code.
    served: dict[str, reuse.Served] = field(default_factory=dict)


def _known(
    assignment: Assignment, schema: VersionSchema | None = None, *, with_draft: bool = True
) -> Known:
    """What the form starts from; ``with_draft`` False for readers: a draft is the
    respondent's own work in progress, not a declaration."""
    schema = schema or version_schema(assignment.version)
    period = values.period_of_assignment(assignment)
    stored = values.stored_values(unit_id=assignment.unit_id, schema=schema, period_key=period.key)
    by_code = schema.by_code
    previous = {
        code: format_value(by_code[code].spec, value)
        for code, value in values.previous_values(
            unit_id=assignment.unit_id, schema=schema, period=period
        ).items()
        if value is not None
    }
    answers = {
        code: values.display(by_code[code].spec, value.data)
        for code, value in stored.items()
        if value.data is not None
    }
    comments = {code: value.comment for code, value in stored.items() if value.comment}
    for rule in schema.rules:  # a rule's justification was stored with the values it names
        named = [comments[c] for c in values.rule_questions(schema, rule.code) if c in comments]
        if named:
            comments[rule.code] = named[0]
    draft = (
        Draft.objects.filter(assignment=assignment).select_related("updated_by").first()
        if with_draft
        else None
    )
    if draft is not None:
        answers.update({k: str(v) for k, v in draft.answers.items() if k in by_code})
        comments.update({k: str(v) for k, v in draft.comments.items()})
    served = reuse.served_for(assignment, schema=schema)
    answers.update({code: item.text for code, item in served.items()})
    return Known(schema, stored, answers, comments, previous, draft, served)


def _refusal(assignment: Assignment, may_answer: bool) -> str:
    """Why the form is read-only, or "" when answers are taken."""
    if not may_answer:
        return (
            "Consultation seule : vous suivez cette demande pour l'organisation qui l'a "
            "envoyée ; seul l'établissement interrogé peut y répondre."
        )
    try:
        values.assignment_open_for_answers(assignment)
    except values.SubmissionRefused as refusal:
        return str(refusal)
    return ""


def _questions(
    known: Known,
    *,
    answers: dict[str, str],
    comments: dict[str, str],
    issues: list[Issue] | None,
    read_only: bool,
    assignment_id: int = 0,
) -> FormContext:
    served = known.served
    return form_context(
        values.asked_schema(known.schema, served),
        answers={**answers, **{code: item.text for code, item in served.items()}},
        issues=issues or [],
        checked=issues is not None,
        comments=comments,
        provenance={
            **{code: values.provenance(v) for code, v in known.stored.items()},
            **{code: item.provenance for code, item in served.items()},
        },
        history_urls={
            code: reverse("collection:value_history", kwargs={"pk": v.pk})
            for code, v in known.stored.items()
            if code not in served
        },
        previous=known.previous,
        read_only=read_only or set(served),
        served_urls={code: reuse.served_url(assignment_id, code) for code in served},
    )


def _page(
    request: HttpRequest,
    assignment: Assignment,
    known: Known,
    *,
    may_answer: bool,
    answers: dict[str, str] | None = None,
    comments: dict[str, str] | None = None,
    issues: list[Issue] | None = None,
    conflict: list[ConflictChoice] | None = None,
    revision: int | None = None,
    status: int = 200,
) -> HttpResponse:
    refusal = _refusal(assignment, may_answer)
    questions = _questions(
        known,
        answers=known.answers if answers is None else answers,
        comments=known.comments if comments is None else comments,
        issues=issues,
        read_only=bool(refusal),
        assignment_id=assignment.pk,
    )
    asked = [code for code in known.schema.codes if code not in known.served]
    return render(
        request,
        "collection/form/assignment_form.html",
        {
            "title": f"{assignment.campaign.title} — {assignment.period.key}",
            "assignment": assignment,
            "questions": questions,
            "live_url": ""
            if refusal
            else reverse("collection:assignment_check", kwargs={"pk": assignment.pk}),
            "refusal": refusal,
            "may_answer": may_answer,
            "draft": known.draft,
            "conflict": conflict or [],
            "revision": assignment.revision if revision is None else revision,
            "unit_label": assignment.unit.label,
            "owner_label": assignment.campaign.owner.short_name or assignment.campaign.owner.name,
            # Every question served: nothing to ask, one click submits (collection.reuse).
            "all_served": _all_served(known) if known.served and not asked else "",
        },
        status=status,
    )


def _all_served(known: Known) -> str:
    """« « Capacités » (DGOS) » : the campaigns whose answers serve every question."""
    ids = {i.source_campaign_id for i in known.served.values() if i.source_campaign_id is not None}
    campaigns = Campaign.objects.filter(pk__in=ids).select_related("owner").order_by("pk")
    labels = [f"« {c.title} » ({c.owner.short_name or c.owner.name})" for c in campaigns]
    return ", ".join(labels) or "d'autres déclarations déjà faites"


def _asked_only(served: Mapping[str, reuse.Served], posted: Posted) -> Posted:
    """Served questions are shown, not asked: their read-only copy (or a blank, from a
    disabled control) is not an answer; a changed copy stays, and ``values.check`` refuses it
    as every channel does."""
    posted.answers = {
        code: raw
        for code, raw in posted.answers.items()
        if code not in served or raw.strip() not in ("", served[code].text)
    }
    return posted


# --- Views ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def assignment_form(request: HttpRequest, pk: int) -> HttpResponse:
    assignment, may_answer = assignment_access(request.user, pk)
    if request.method == "GET":
        known = _known(assignment, with_draft=may_answer)
        return _page(request, assignment, known, may_answer=may_answer)
    if not may_answer:
        return HttpResponseForbidden("Consultation seule : vous ne pouvez pas répondre.")
    # What the store knows is read again only when the page must be drawn again.
    schema = version_schema(assignment.version)
    posted = _asked_only(
        reuse.served_for(assignment, schema=schema), parse_post(schema, request.POST)
    )
    user: User = request.user  # type: ignore[assignment]
    try:
        if posted.action == "draft":
            stale = values.save_draft(
                assignment,
                posted.answers,
                comments=posted.comments,
                user=user,
                expected_revision=posted.revision,
            )
            if stale is not None:
                return _conflict_page(request, assignment, schema, stale, posted)
            messages.success(
                request,
                f"Brouillon enregistré le {timezone.localtime():%d/%m/%Y à %H:%M}. "
                "Vous pouvez revenir le compléter : rien n'est transmis tant que vous ne "
                "cliquez pas sur « Transmettre ».",
            )
            return redirect("collection:assignment_form", pk=assignment.pk)
        first = assignment.status != Assignment.Status.SUBMITTED
        outcome = values.submit(
            assignment,
            posted.answers,
            channel=Channel.FORM,
            user=user,
            comments=posted.comments,
            expected_revision=posted.revision,
            schema=schema,
        )
    except values.SubmissionRefused as refusal:
        messages.error(request, str(refusal))
        known = _known(assignment, schema)
        return _page(
            request,
            assignment,
            known,
            may_answer=may_answer,
            answers=posted.answers,
            comments=posted.comments,
        )
    if outcome.conflict is not None:
        return _conflict_page(request, assignment, schema, outcome.conflict, posted)
    if not outcome.applied:
        return _page(
            request,
            assignment,
            _known(assignment, schema),
            may_answer=may_answer,
            issues=outcome.verdict.issues,
            revision=posted.revision,
            answers=posted.answers,
            comments=posted.comments,
        )
    written = len(outcome.created) + len(outcome.changed)
    if first:
        text = "Vos réponses ont été transmises. Merci !"
    else:
        text = "Votre correction a été transmise : l'historique des valeurs la garde."
    messages.success(
        request,
        f"{text} {written} valeur{'s' if written > 1 else ''} enregistrée"
        f"{'s' if written > 1 else ''} le {timezone.localtime():%d/%m/%Y à %H:%M}.",
    )
    return redirect("collection:assignment_form", pk=assignment.pk)


def _conflict_page(
    request: HttpRequest,
    assignment: Assignment,
    schema: VersionSchema,
    conflict: values.Conflict,
    posted: Posted,
) -> HttpResponse:
    """Someone saved in between: show both values; re-show this person's input, and take the
    current revision so that their next save (after choosing) goes through."""
    assignment.refresh_from_db(fields=["status", "revision", "submitted_at"])
    fresh = _known(assignment, schema)
    return _page(
        request,
        assignment,
        fresh,
        may_answer=True,
        conflict=conflict_choices(fresh.schema, conflict),
        revision=conflict.current_revision,
        status=409,
        answers=posted.answers,
        comments=posted.comments,
    )


@require_POST
def assignment_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The live check: the whole form posted, the questions re-rendered with the verdict."""
    assignment, may_answer = assignment_access(request.user, pk)
    if not may_answer:
        return HttpResponseForbidden("Consultation seule : vous ne pouvez pas répondre.")
    known = _known(assignment)
    posted = _asked_only(known.served, parse_post(known.schema, request.POST))
    outcome = values.check(
        assignment, posted.answers, comments=posted.comments, schema=known.schema
    )
    questions = _questions(
        known,
        answers=posted.answers,
        comments=posted.comments,
        issues=outcome.verdict.issues,
        read_only=False,
        assignment_id=assignment.pk,
    )
    live_url = reverse("collection:assignment_check", kwargs={"pk": assignment.pk})
    return render(
        request,
        "surveys/_questions.html",
        {"questions": questions, "live_url": live_url},
    )


# --- History of a value -----------------------------------------------------------------------


def _value_spec(value: Value) -> DefinitionSpec | None:
    if value.definition is not None:
        return definition_spec(value.definition)
    if value.survey_id is None:
        return None
    question = (
        Question.objects.filter(version__survey_id=value.survey_id, code=value.code)
        .order_by("-version__number")
        .first()
    )
    return ad_hoc_spec(question) if question is not None else None


def _shown(spec: DefinitionSpec | None, data: Any) -> str:
    if data is None:
        return "(vide)"
    if spec is None:
        return ";".join(map(str, data)) if isinstance(data, list) else str(data)
    return values.display(spec, data) or "(vide)"


@require_GET
def value_history(request: HttpRequest, pk: int) -> HttpResponse:
    value = value_access(request.user, pk)
    spec = _value_spec(value)
    revisions = [
        {
            "number": revision.number,
            "old": _shown(spec, revision.old_data) if revision.number > 1 else "—",
            "new": _shown(spec, revision.new_data),
            "who": (
                revision.changed_by.get_full_name() or revision.changed_by.email
                if revision.changed_by
                else (f"clé d'API {revision.api_key.prefix}" if revision.api_key else "—")
            ),
            "when": revision.changed_at,
            "channel": revision.get_channel_display(),
            "campaign": revision.campaign.title if revision.campaign else "",
            "comment": revision.comment,
        }
        for revision in value.revisions.select_related(
            "changed_by", "api_key", "campaign"
        ).order_by("-number")
    ]
    label = spec.label if spec is not None else value.code
    return render(
        request,
        "collection/form/value_history.html",
        {
            "title": f"Historique — {label}",
            "value": value,
            "label": label,
            "current": _shown(spec, value.data),
            "provenance": values.provenance(value),
            "revisions": revisions,
        },
    )
