"""Data quality and queries on values (issue #9).

- ``campaign_quality``: a campaign's values worth a second look, for one period, with
  « Questionner » and « Valider » for its requesters (``collection.quality``);
- ``value_query``: a value, its history and its queries' thread, with the forms the viewer may
  use (a requester asks, validates, closes; a respondent of the unit confirms or corrects);
- ``queries_inbox``: the open queries of a respondent's units, and a requester's queries.

Who sees what is decided in ``collection.quality``; the views parse a form, call one service
of ``collection.queries`` and redirect.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Role, User
from accounts.scoping import has_role
from collection import quality, queries
from collection.models import Value, ValueQuery
from referentials.dictionary import definition_spec
from referentials.validation import format_value

PAGE_SIZE = 50


class QualityFilterForm(DsfrForm):
    periode = forms.ChoiceField(label="Période", required=False)
    type = forms.ChoiceField(
        label="Motif",
        required=False,
        choices=[("", "Tous les motifs"), *quality.KIND_CHOICES],
    )
    seuil = forms.CharField(
        label="Seuil du z-score",
        required=False,
        help_text="Écart à la moyenne, en écarts-types (3 par défaut, entre 1,5 et 10).",
    )

    def __init__(self, *args: Any, periods: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["periode"].choices = periods  # type: ignore[attr-defined]


class AskForm(DsfrForm):
    text = forms.CharField(
        label="Votre question à l'établissement",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=queries.TEXT_MAX,
        help_text="Dites ce qui vous étonne : l'établissement confirmera ou corrigera la valeur.",
    )
    campaign = forms.TypedChoiceField(label="Au titre de la campagne", coerce=int)

    def __init__(self, *args: Any, campaigns: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = campaigns  # type: ignore[attr-defined]
        if len(campaigns) == 1:  # nothing to choose
            del self.fields["campaign"]


class ConfirmForm(DsfrForm):
    comment = forms.CharField(
        label="Pourquoi la valeur est juste",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=queries.TEXT_MAX,
    )


class CorrectForm(DsfrForm):
    raw = forms.CharField(label="Valeur corrigée", max_length=200)
    comment = forms.CharField(
        label="Raison de la correction",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=queries.TEXT_MAX,
    )


class CommentForm(DsfrForm):
    comment = forms.CharField(
        label="Commentaire (facultatif)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=queries.TEXT_MAX,
    )


# --- The quality page ---------------------------------------------------------------------------


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_quality(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    access = quality.campaign_quality_access(user=user, pk=pk)
    kind = request.GET.get("type", "")
    report = quality.quality_report(
        access=access,
        period_key=request.GET.get("periode") or None,
        threshold=quality.parse_threshold(request.GET.get("seuil") or quality.Z_THRESHOLD),
        kind=kind if kind in quality.KIND_FILTERS else "",
    )
    form = QualityFilterForm(
        initial={
            "periode": report.period.key if report.period else "",
            "type": report.kind,
            "seuil": quality.fr_number(report.threshold, 1),
        },
        periods=[(p.key, p.key) for p in reversed(report.periods)],
    )
    page = Paginator(report.flagged, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "collection/quality/campaign.html",
        {
            "title": f"Qualité des données — {access.campaign.title}",
            "campaign": access.campaign,
            "access": access,
            "report": report,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "here": request.get_full_path(),
        },
    )


# --- A value's thread ---------------------------------------------------------------------------


def _revisions(value: Any) -> list[dict[str, Any]]:
    spec = queries.store.value_spec(value)

    def shown(data: Any) -> str:
        if data is None:
            return "(vide)"
        return (format_value(spec, queries.store.from_data(spec, data)) if spec else str(data)) or (
            "(vide)"
        )

    return [
        {
            "number": revision.number,
            "old": shown(revision.old_data) if revision.number > 1 else "—",
            "new": shown(revision.new_data),
            "status": (
                f"{_status_label(revision.old_status)} → {_status_label(revision.new_status)}"
                if revision.old_status and revision.old_status != revision.new_status
                else ""
            ),
            "who": (
                revision.changed_by.get_full_name() or revision.changed_by.email
                if revision.changed_by
                else (f"clé d'API {revision.api_key.prefix}" if revision.api_key else "—")
            ),
            "when": revision.changed_at,
            "channel": revision.get_channel_display(),
            "comment": revision.comment,
        }
        for revision in value.revisions.select_related("changed_by", "api_key").order_by("-number")
    ]


def _status_label(status: str) -> str:
    return dict(Value.Status.choices).get(status, status)


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER, Role.RESPONDENT)
def value_query(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    seen = quality.value_access(user=user, pk=pk)
    value = seen.value
    here = reverse("collection:value_query", kwargs={"pk": value.pk})
    campaigns = quality.askable_campaigns(user=user, value=value) if seen.can_ask else []
    choices = [(c.pk, c.title) for c in sorted(campaigns, key=lambda c: -c.pk)]
    open_query = ValueQuery.objects.filter(value=value, status=ValueQuery.Status.OPEN).first()
    unclosed = (
        ValueQuery.objects.filter(value=value)
        .exclude(status=ValueQuery.Status.CLOSED)
        .order_by("-asked_at")
        .first()
    )
    ask_form = AskForm(campaigns=choices) if seen.can_ask else None
    confirm_form = ConfirmForm(prefix="confirm") if seen.can_answer and open_query else None
    correct_form = CorrectForm(prefix="correct") if seen.can_answer and open_query else None
    validate_form = CommentForm(prefix="validate") if seen.can_ask else None
    close_form = CommentForm(prefix="close") if seen.can_ask and unclosed else None

    if request.method == "POST":
        action = request.POST.get("action", "")
        allowed = {
            "ask": seen.can_ask,
            "validate": seen.can_ask,
            "close": seen.can_ask and unclosed is not None,
            "confirm": seen.can_answer and open_query is not None,
            "correct": seen.can_answer and open_query is not None,
        }
        if not allowed.get(action):
            if action in ("confirm", "correct") and seen.can_answer:
                messages.error(request, "Cette question a déjà reçu une réponse ou a été close.")
                return redirect(here)
            raise PermissionDenied(
                "Cette action n'est pas ouverte à votre profil sur cette valeur."
            )
        try:
            done = _act(
                request,
                action,
                value=value,
                open_query=open_query,
                unclosed=unclosed,
                choices=choices,
                campaigns=campaigns,
            )
        except queries.QueryError as error:
            messages.error(request, str(error))
            done = None
        if done is not None:
            messages.success(request, done)
            return redirect(_next(request, here))
        # A form with errors is shown again below, with what was typed.
        bound = {
            "ask": lambda: AskForm(request.POST, campaigns=choices),
            "confirm": lambda: ConfirmForm(request.POST, prefix="confirm"),
            "correct": lambda: CorrectForm(request.POST, prefix="correct"),
            "validate": lambda: CommentForm(request.POST, prefix="validate"),
            "close": lambda: CommentForm(request.POST, prefix="close"),
        }[action]()
        bound.is_valid()
        if action == "ask":
            ask_form = bound  # type: ignore[assignment]
        elif action == "confirm":
            confirm_form = bound  # type: ignore[assignment]
        elif action == "correct":
            correct_form = bound  # type: ignore[assignment]
        elif action == "validate":
            validate_form = bound  # type: ignore[assignment]
        else:
            close_form = bound  # type: ignore[assignment]

    label = value.definition.label if value.definition is not None else value.code
    spec = definition_spec(value.definition) if value.definition is not None else None
    return render(
        request,
        "collection/quality/value_query.html",
        {
            "title": f"Question sur une valeur — {label}",
            "value": value,
            "label": label,
            "unit_label": spec.unit if spec is not None else "",
            "current": queries.shown(value),
            "provenance": queries.store.provenance(value),
            "revisions": _revisions(value),
            "thread": quality.thread(value),
            "seen": seen,
            "open_query": open_query,
            "ask_form": ask_form,
            "confirm_form": confirm_form,
            "correct_form": correct_form,
            "validate_form": validate_form,
            "close_form": close_form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _act(
    request: HttpRequest,
    action: str,
    *,
    value: Any,
    open_query: ValueQuery | None,
    unclosed: ValueQuery | None,
    choices: list[tuple[int, str]],
    campaigns: list[Any],
) -> str | None:
    """Run one action; its success message, or None when its form is invalid."""
    user: User = request.user  # type: ignore[assignment]
    if action == "ask":
        form = AskForm(request.POST, campaigns=choices)
        if not form.is_valid():
            return None
        chosen = form.cleaned_data.get("campaign", campaigns[0].pk if campaigns else None)
        campaign = next((c for c in campaigns if c.pk == chosen), None)
        queries.query_create(
            value=value, text=form.cleaned_data["text"], campaign=campaign, user=user
        )
        return "Question envoyée à l'établissement : ses répondants sont prévenus."
    if action == "confirm" and open_query is not None:
        confirm = ConfirmForm(request.POST, prefix="confirm")
        if not confirm.is_valid():
            return None
        queries.query_confirm(query=open_query, comment=confirm.cleaned_data["comment"], user=user)
        return "Valeur confirmée : le demandeur est prévenu."
    if action == "correct" and open_query is not None:
        correct = CorrectForm(request.POST, prefix="correct")
        if not correct.is_valid():
            return None
        queries.query_correct(
            query=open_query,
            raw=correct.cleaned_data["raw"],
            comment=correct.cleaned_data["comment"],
            user=user,
        )
        return (
            "Valeur corrigée : une nouvelle révision est enregistrée et le demandeur est prévenu."
        )
    if action == "validate":
        validate = CommentForm(request.POST, prefix="validate")
        if not validate.is_valid():
            return None
        queries.value_validate(value=value, user=user, comment=validate.cleaned_data["comment"])
        return f"Valeur validée : {value.unit.label}, période {value.period_key}."
    if action == "close" and unclosed is not None:
        close = CommentForm(request.POST, prefix="close")
        if not close.is_valid():
            return None
        queries.query_close(query=unclosed, user=user, comment=close.cleaned_data["comment"])
        return "Question close."
    return None


# --- The queries' inbox -------------------------------------------------------------------------


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER, Role.RESPONDENT)
def queries_inbox(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    to_answer = list(quality.open_queries_for_respondent(user=user)[:200])
    asked = list(quality.queries_for_requester(user=user)[:200])
    awaiting_me = [q for q in asked if q.status != ValueQuery.Status.OPEN]
    awaiting_them = [q for q in asked if q.status == ValueQuery.Status.OPEN]
    return render(
        request,
        "collection/quality/inbox.html",
        {
            "title": "Questions sur des valeurs",
            "to_answer": to_answer,
            "awaiting_me": awaiting_me,
            "awaiting_them": awaiting_them,
            "is_respondent": has_role(user, Role.RESPONDENT),
            "is_requester": has_role(user, Role.REQUESTER, Role.VIEWER),
        },
    )
