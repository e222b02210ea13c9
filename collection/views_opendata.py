"""The open-data page of a campaign: aggregates with small counts hidden, and their codebook.

For the campaign owner's requesters and viewers and national directorates (what they publish
on the national open-data portal); an ARS on another organisation's campaign is refused.
"""

from collections import Counter

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role, User
from collection import opendata
from collection.exports.access import campaign_export_access
from collection.exports.services import open_data_record

PREVIEW_ROWS = 60


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def open_data(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    access = campaign_export_access(user=user, pk=pk)
    if not access.whole:
        raise PermissionDenied(
            "Les données ouvertes d'une campagne sont publiées par son organisation demandeuse "
            "ou par une direction nationale."
        )
    campaign = access.campaign
    wanted = request.GET.get("fichier", "")
    if wanted in ("donnees", "dictionnaire"):
        open_data_record(campaign=campaign, part=wanted, user=user)
        chunks = (
            opendata.data_csv(campaign) if wanted == "donnees" else opendata.codebook_csv(campaign)
        )
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"donnees-ouvertes-campagne-{campaign.pk}-{wanted}.csv"
        )
        return response  # type: ignore[return-value]  # streamed
    cells = opendata.open_data_cells(campaign)
    counts = Counter(
        "secondary" if c.secondary else "primary" if c.secret else "published" for c in cells
    )
    return render(
        request,
        "collection/exports/open_data.html",
        {
            "title": "Données ouvertes",
            "campaign": campaign,
            "cells": cells[:PREVIEW_ROWS],
            "total": len(cells),
            "published": counts["published"],
            "primary": counts["primary"],
            "secondary": counts["secondary"],
            "minimum": settings.OPEN_DATA_MIN_COUNT,
            "definitions": opendata.codebook_rows(campaign),
        },
    )
