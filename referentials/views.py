from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from referentials import selectors


@require_GET
def establishment_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    territory = request.GET.get("territoire", "").strip()
    establishments = selectors.establishment_list(
        user=request.user, query=query, territory=territory
    )
    page = Paginator(establishments, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "referentials/establishment_list.html",
        {
            "title": "Annuaire des établissements",
            "page": page,
            "query": query,
            "territory": territory,
        },
    )


@require_GET
def establishment_detail(request: HttpRequest, finess: str) -> HttpResponse:
    establishment = selectors.establishment_access(user=request.user, finess=finess)
    return render(
        request,
        "referentials/establishment_detail.html",
        {"title": establishment.name, "establishment": establishment},
    )
