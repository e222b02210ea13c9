"""The register of collections: every organisation's campaigns, for requesters and viewers."""

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role
from accounts.scoping import has_role, scope_for
from surveys import selectors_register as register
from surveys.forms_register import RegisterFilterForm
from surveys.models import Assignment

PAGE_SIZE = 50
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def campaign_url(row: register.RegisterRow) -> str:
    """The owner organisation's members open the campaign itself; others its register page."""
    if row.is_own:
        return reverse("surveys:campaign_detail", args=[row.pk])
    return reverse("surveys:register_detail", args=[row.pk])


def _filtered(request: HttpRequest) -> tuple[RegisterFilterForm, list[register.RegisterRow]]:
    form = RegisterFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, []
    return form, register.register_rows(
        user=request.user, filters=form.filters(), order=form.order()
    )


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def register_list(request: HttpRequest) -> HttpResponse:
    form, rows = _filtered(request)
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.pages_list = list(paginator.get_elided_page_range(page.number))  # type: ignore[attr-defined]
    shown = register.attach_definitions(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "surveys/register/list.html",
        {
            "title": "Registre des collectes",
            "form": form,
            "page": page,
            "rows": [(row, campaign_url(row)) for row in shown],
            "filtered": any(v for k, v in request.GET.items() if k not in {"page", "order"}),
            "query": query.urlencode(),
        },
    )


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def register_detail(request: HttpRequest, pk: int) -> HttpResponse:
    detail = register.register_detail(user=request.user, pk=pk)
    # Anyone with establishments of their own scope in a sent campaign may follow it there
    # (collection's follow-up page shows them only those): an ARS on a national campaign.
    followable = Assignment.objects.filter(
        scope_for(request.user).units_q("unit__"), campaign_id=pk
    ).exists()
    return render(
        request,
        "surveys/register/detail.html",
        {"title": detail.row.title, "detail": detail, "row": detail.row, "followable": followable},
    )


# --- CSV export -------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made inert by a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Echo:
    """A file-like object whose ``write`` hands the line back (for a streamed ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


CSV_HEADER = [
    "Numéro",
    "Organisation demandeuse",
    "Campagne",
    "Statut",
    "Définitions demandées",
    "Questions libres",
    "Questions",
    "Destinataires",
    "Taille de l'audience",
    "Fréquence",
    "Fréquence en crise",
    "En mode crise",
    "Début",
    "Fin",
    "Ouverte le",
    "Clôturée le",
    "Périodes ouvertes",
    "Périodes prévues",
    "Cellules par période",
    "Cellules au total",
    "Sans date de fin",
    "Suite aux chevauchements",
    "Cellules demandées (analyse)",
    "Cellules déjà demandées ailleurs",
    "Cellules déjà dans l'entrepôt",
    "Cellules nouvelles",
    "Campagnes qui chevauchent",
    "Justification de l'envoi malgré tout",
]


def _csv_row(row: register.RegisterRow) -> list[Any]:
    def when(value: Any) -> str:
        if value is None:
            return ""
        if hasattr(value, "hour"):
            return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
        return value.strftime("%d/%m/%Y")

    return [
        row.pk,
        row.owner_label,
        row.title,
        row.status_label,
        ", ".join(f"{code} ({label})" for code, label in row.definitions),
        row.ad_hoc_count,
        row.question_count,
        "Professionnels" if row.unit_kind == "professional" else "Établissements",
        row.audience_size,
        row.frequency_label,
        row.crisis_frequency_label,
        "oui" if row.in_crisis else "non",
        when(row.start_date),
        when(row.end_date),
        when(row.opened_at),
        when(row.closed_at),
        row.opened_periods,
        row.planned_periods,
        row.cells_per_period,
        row.cells_total,
        "oui" if row.open_ended else "non",
        *_overlap_cells(row),
    ]


def _overlap_cells(row: register.RegisterRow) -> list[Any]:
    """The overlap choice and the analysis recorded with it (empty before any choice)."""
    summary = row.overlap_summary or {}
    counts = [summary.get(k, "") for k in ("asked", "covered", "in_store", "new")]
    others = " | ".join(
        f"{o['title']} ({o['owner']}) : {o['covered_cells']} cellules"
        for o in row.overlap_campaigns
    )
    return [row.overlap_choice_label, *counts, others, row.overlap_justification]


def csv_lines(rows: Iterable[register.RegisterRow]) -> Iterator[str]:
    """The register as ``;``-separated lines, UTF-8 BOM first (for spreadsheet programs)."""
    writer = csv.writer(_Echo(), delimiter=";")
    yield "\ufeff"
    yield writer.writerow(CSV_HEADER)
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in _csv_row(row)])


@require_GET
def register_csv(request: HttpRequest) -> HttpResponseBase:
    # Checked here rather than by role_required, which is typed for HttpResponse, not streams.
    if not has_role(request.user, Role.REQUESTER, Role.VIEWER):
        raise PermissionDenied("Cette page est réservée à d'autres profils.")
    form, rows = _filtered(request)
    if form.errors:
        problems = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponseBadRequest(
            f"Export impossible, filtres invalides : {problems}",
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        csv_lines(register.iter_register_rows(rows)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="registre-collectes-{stamp}.csv"'
    return response
