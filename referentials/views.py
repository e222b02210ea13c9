from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from referentials import selectors
from referentials.forms import EstablishmentSearchForm

PAGE_SIZE = 50


@require_GET
def establishment_list(request: HttpRequest) -> HttpResponse:
    choices = selectors.establishment_filter_choices(user=request.user)
    form = EstablishmentSearchForm(request.GET, choices=choices)
    # An empty query string is a valid search: the open establishments of the user's scope.
    if form.is_valid():
        establishments = selectors.establishment_list(user=request.user, **form.filters())
    else:
        establishments = selectors.establishment_list(user=request.user).none()
    paginator = Paginator(establishments, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    # What django-dsfr's pagination template lists: 1 2 … 7 8 9 … 40 41.
    page.pages_list = list(paginator.get_elided_page_range(page.number))  # type: ignore[attr-defined]
    return render(
        request,
        "referentials/establishment_list.html",
        {
            "title": "Annuaire des établissements",
            "form": form,
            "page": page,
            "filtered": any(
                value for key, value in request.GET.items() if key not in {"page", "include_closed"}
            ),
        },
    )


@require_GET
def establishment_detail(request: HttpRequest, finess: str) -> HttpResponse:
    page = selectors.establishment_page(user=request.user, finess=finess)
    return render(
        request,
        "referentials/establishment_detail.html",
        {
            "title": page.establishment.name,
            "establishment": page.establishment,
            "contacts": page.contacts,
            "sister_sites": page.sister_sites,
            "sister_sites_count": page.sister_sites_count,
            "professions": page.professions,
            "history": page.history,
        },
    )
