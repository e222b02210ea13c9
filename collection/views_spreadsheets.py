"""Answering by spreadsheet: download a template, upload, preview, apply, download copies.

Respondents only. A campaign is reachable when the user owes it at least one assignment; an
upload is visible to its uploader and to the members of the uploader's organisations (a
colleague may apply it); anything else is "not found".
"""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Role, User
from collection.models import Upload
from collection.spreadsheets import importer, template
from surveys.models import Campaign

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(DsfrForm):
    # An empty file is refused by the importer, with its name, after it is kept.
    file = forms.FileField(
        allow_empty_file=True,
        label="Tableur rempli",
        help_text="Formats acceptés : .xlsx, .ods, .csv (séparateur « ; » ou « , »).",
    )


def _campaign_for(user: User, pk: int) -> Campaign:
    campaign = get_object_or_404(Campaign, pk=pk)
    if not template.respondent_assignments(user=user, campaign=campaign).exists():
        raise Http404("Aucune demande de cette campagne ne vous est adressée.")
    return campaign


def _upload_for(user: User, pk: int) -> Upload:
    """An upload is its uploader's: a colleague of one site must not read another site's file."""
    return get_object_or_404(
        Upload.objects.select_related("campaign", "uploaded_by").filter(uploaded_by=user), pk=pk
    )


@require_GET
@role_required(Role.RESPONDENT)
def spreadsheet_template(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request.user, pk)  # type: ignore[arg-type]
    demande = request.GET.get("demande", "")
    assignment_id = int(demande) if demande.isascii() and demande.isdigit() else None
    rows = template.template_assignments(
        user=request.user,  # type: ignore[arg-type]
        campaign=campaign,
        assignment_id=assignment_id,
    )
    if not rows:
        raise Http404("Aucune demande ouverte à remplir dans cette campagne.")
    content = template.build_template(campaign=campaign, assignments=rows, user=request.user)  # type: ignore[arg-type]
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="{template.template_filename(campaign, rows)}"'
    )
    return response


@require_http_methods(["GET", "POST"])
@role_required(Role.RESPONDENT)
def spreadsheet_upload(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request.user, pk)  # type: ignore[arg-type]
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        received = form.cleaned_data["file"]
        data = received.read()
        upload = importer.upload_receive(
            user=request.user,  # type: ignore[arg-type]
            campaign=campaign,
            name=received.name,
            data=data,
        )
        return redirect("collection:upload_preview", pk=upload.pk)
    recent = _recent_uploads(request.user, campaign)  # type: ignore[arg-type]
    return render(
        request,
        "collection/spreadsheets/upload.html",
        {
            "title": f"Répondre par tableur — {campaign.title}",
            "campaign": campaign,
            "form": form,
            "uploads": recent,
        },
    )


def _recent_uploads(user: User, campaign: Campaign) -> list[Upload]:
    return list(Upload.objects.filter(uploaded_by=user, campaign=campaign)[:10])


@require_GET
@role_required(Role.RESPONDENT)
def upload_preview(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_for(request.user, pk)  # type: ignore[arg-type]
    report = upload.report or {}
    issues = report.get("issues", [])
    rows = report.get("rows", [])
    return render(
        request,
        "collection/spreadsheets/preview.html",
        {
            "title": f"Aperçu du dépôt « {upload.original_name} »",
            "upload": upload,
            "file_errors": report.get("file_errors", []),
            "counts": report.get("counts", {}),
            "errors": [i for i in issues if i["severity"] == "error"],
            "notes": [i for i in issues if i["severity"] != "error"],
            "rows": [{**r, "status_label": importer.STATUS_LABELS[r["status"]]} for r in rows],
            "can_apply": upload.status == Upload.Status.CHECKED,
            "applied_rows": report.get("applied_rows", 0),
        },
    )


@require_POST
@role_required(Role.RESPONDENT)
def upload_apply(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_for(request.user, pk)  # type: ignore[arg-type]
    try:
        result = importer.upload_apply(upload=upload, user=request.user)  # type: ignore[arg-type]
    except importer.ApplyRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Dépôt appliqué : {result['applied']} demande(s) transmise(s) "
            f"({result['new']} nouvelle(s), {result['changed']} modifiée(s)).",
        )
    return redirect("collection:upload_preview", pk=upload.pk)


@require_GET
@role_required(Role.RESPONDENT)
def upload_annotated(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_for(request.user, pk)  # type: ignore[arg-type]
    if (upload.report or {}).get("file_errors"):
        raise Http404("Ce fichier a été refusé avant lecture : il n'a pas de copie annotée.")
    try:
        content = importer.annotated_copy(upload)
    except importer.AnnotationUnavailable as error:
        raise Http404(str(error)) from error
    stem = upload.original_name.rsplit(".", 1)[0]
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"{stem}-annote.xlsx")
    return response


@require_GET
@role_required(Role.RESPONDENT)
def upload_original(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _upload_for(request.user, pk)  # type: ignore[arg-type]
    with upload.file.open("rb") as handle:  # at most UPLOAD_MAX_BYTES
        content = handle.read()
    response = HttpResponse(content, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, upload.original_name)
    return response
