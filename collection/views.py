from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role
from referentials import selectors as referential_selectors


@require_GET
@role_required(Role.RESPONDENT)
def inbox(request: HttpRequest) -> HttpResponse:
    establishments = referential_selectors.establishment_list(user=request.user)
    return render(
        request,
        "collection/inbox.html",
        {"title": "Boîte de réception", "establishments": establishments},
    )
