"""Campaign pages of requesters and viewers."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "surveys/campaign_list.html", {"title": "Campagnes"})
