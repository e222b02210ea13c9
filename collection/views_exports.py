"""Export pages: choose and get an export of a campaign, the user's exports, a download.

Who may export what is ``collection.exports.access``; an export file is its requester's only
(anyone else gets a 404), while they still reach its campaign (checked again at download), and
an expired one is gone (410).
"""

from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Role, User
from collection.exports import services
from collection.exports.access import ExportAccess, campaign_export_access, export_access
from collection.exports.services import ExportRefused
from collection.models import Export

EXPORT_ROLES = (Role.REQUESTER, Role.VIEWER)
LIST_SIZE = 100


class ExportForm(DsfrForm):
    kind = forms.ChoiceField(
        label="Contenu",
        widget=forms.RadioSelect,
        choices=[
            (Export.Kind.VALUES_LONG, "Valeurs, une ligne par valeur (format long)"),
            (
                Export.Kind.VALUES_WIDE,
                "Valeurs, une ligne par établissement et période, une colonne par question "
                "(format large)",
            ),
            (Export.Kind.LATE, "Établissements en retard, avec leurs contacts"),
        ],
        initial=Export.Kind.VALUES_LONG,
    )
    format = forms.ChoiceField(
        label="Format",
        widget=forms.RadioSelect,
        choices=[
            (Export.Format.XLSX, "Excel (XLSX), avec une feuille « Dictionnaire »"),
            (Export.Format.CSV, "CSV (UTF-8, séparateur « ; », virgule décimale)"),
        ],
        initial=Export.Format.XLSX,
    )
    periods = forms.MultipleChoiceField(
        label="Périodes",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucune case cochée : toutes les périodes ouvertes.",
    )

    def __init__(self, *args: Any, period_keys: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["periods"].choices = [(key, key) for key in period_keys]


def _period_keys(access: ExportAccess) -> list[str]:
    return list(access.campaign.periods.order_by("-start").values_list("key", flat=True))


@require_http_methods(["GET", "POST"])
@role_required(*EXPORT_ROLES)
def export_create(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    access = campaign_export_access(user=user, pk=pk)
    # ``?contenu=late`` from the follow-up page's late list preselects what to export.
    chosen = request.GET.get("contenu", "")
    initial = {"kind": chosen} if chosen in Export.Kind.values else {}
    form = ExportForm(request.POST or None, period_keys=_period_keys(access), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.export_create(
                campaign=access.campaign,
                kind=form.cleaned_data["kind"],
                format=form.cleaned_data["format"],
                params={"periods": sorted(form.cleaned_data["periods"])},
                user=user,
            )
        except ExportRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            if result.chunks is None:
                messages.success(
                    request,
                    f"L'export compte {result.export.row_count} lignes : il est en préparation. "
                    "Vous recevrez une notification quand il sera prêt ; il sera aussi "
                    "téléchargeable depuis cette page.",
                )
                return redirect("collection:export_list")
            response = StreamingHttpResponse(result.chunks, content_type=result.content_type)
            response["Content-Disposition"] = content_disposition_header(
                as_attachment=True, filename=result.filename
            )
            return response  # type: ignore[return-value]  # streamed
    return render(
        request,
        "collection/exports/create.html",
        {
            "title": "Exporter les données",
            "campaign": access.campaign,
            "whole": access.whole,
            "form": form,
            "sync_max_rows": settings.EXPORT_SYNC_MAX_ROWS,
            "retention_days": settings.EXPORT_RETENTION_DAYS,
        },
    )


@require_GET
@role_required(*EXPORT_ROLES)
def export_list(request: HttpRequest) -> HttpResponse:
    exports = list(
        Export.objects.filter(requested_by_id=request.user.pk)
        .select_related("campaign")
        .order_by("-created_at", "-pk")[:LIST_SIZE]
    )
    now = timezone.now()
    return render(
        request,
        "collection/exports/list.html",
        {
            "title": "Mes exports",
            "items": [
                {
                    "export": export,
                    "size": export.file.size if export.file and _exists(export) else None,
                    "downloadable": export.status == Export.Status.READY
                    and bool(export.file)
                    and (export.expires_at is None or export.expires_at > now),
                }
                for export in exports
            ],
            "retention_days": settings.EXPORT_RETENTION_DAYS,
        },
    )


def _exists(export: Export) -> bool:
    return bool(export.file.name) and export.file.storage.exists(export.file.name or "")


@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    export = get_object_or_404(
        Export.objects.select_related("campaign"), pk=pk, requested_by_id=request.user.pk
    )
    # A file holds the rows its requester could read when it was built: it is served only
    # while they still reach the campaign (a membership removed, a campaign gone: 404).
    user: User = request.user  # type: ignore[assignment]
    access = (
        export_access(user=user, campaign=export.campaign) if export.campaign is not None else None
    )
    if access is None or (export.kind == Export.Kind.OPEN_DATA and not access.whole):
        raise Http404("Export introuvable, ou sa campagne n'est plus dans votre périmètre.")
    expired = export.status == Export.Status.EXPIRED or (
        export.expires_at is not None and export.expires_at <= timezone.now()
    )
    if expired:
        return render(
            request,
            "errors/error.html",
            {
                "title": "Export expiré",
                "message": "Ce fichier n'est plus disponible : les exports sont gardés "
                f"{settings.EXPORT_RETENTION_DAYS} jours. Relancez l'export depuis la "
                "page de la campagne.",
            },
            status=410,
        )
    if export.status != Export.Status.READY or not export.file or not _exists(export):
        raise Http404(
            "Ce fichier n'est pas disponible : l'export est en préparation, a échoué ou a été "
            "téléchargé directement."
        )
    response = StreamingHttpResponse(
        _read(export), content_type=services.content_type(export.format)
    )
    response["Content-Length"] = str(export.file.size)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True,
        filename=(export.file.name or "").rsplit("/", 1)[-1].split("-", 1)[-1],
    )
    return response


def _read(export: Export) -> Iterator[bytes]:
    """The file in chunks, opened only when the response is read (and closed after)."""
    with export.file.open("rb") as handle:
        while chunk := handle.read(services.READ_SIZE):
            yield chunk
