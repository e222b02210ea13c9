"""The curators' list of open establishments nobody would be told about (no active functional
contact, no respondent): each links to its contacts page, where the curator adds one."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role
from referentials.forms_contacts import MissingContactsFilterForm
from referentials.selectors_contacts import establishments_without_contacts, filter_choices

PAGE_SIZE = 50


@require_GET
@role_required(Role.CURATOR)
def establishments_without_contact(request: HttpRequest) -> HttpResponse:
    form = MissingContactsFilterForm(request.GET or None, choices=filter_choices(request.user))
    filters = (
        {name: form.cleaned_data[name] for name in ("category", "territory")}
        if form.is_valid()
        else {}
    )
    found = establishments_without_contacts(user=request.user, **filters)
    page = Paginator(found.establishments, PAGE_SIZE).get_page(request.GET.get("page"))
    page.pages_list = list(page.paginator.get_elided_page_range(page.number))  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referentials/curation/without_contacts.html",
        {
            "title": "Établissements sans contact",
            "form": form,
            "found": found,
            "page": page,
            "filtered": bool(filters and any(filters.values())),
            "query": query.urlencode(),
        },
    )
