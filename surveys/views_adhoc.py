"""Ad-hoc questions grouped by closeness, for curators (surveys.adhoc_groups)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role
from surveys.adhoc_groups import REBIND_AT, adhoc_groups


@require_GET
@role_required(Role.CURATOR)
def adhoc_candidates(request: HttpRequest) -> HttpResponse:
    groups = adhoc_groups()
    return render(
        request,
        "surveys/adhoc_candidates.html",
        {
            "title": "Questions ad hoc à rapprocher du dictionnaire",
            "groups": groups,
            "rebind_count": sum(1 for g in groups if g.rebind_to is not None),
            "rebind_at": REBIND_AT,
        },
    )
