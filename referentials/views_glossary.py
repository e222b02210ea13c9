"""The public glossary of shared definitions: no login, a common language is public."""

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from referentials import selectors_dictionary
from referentials.forms_glossary import GlossarySearchForm

PAGE_SIZE = 50


@login_not_required
@require_GET
def definition_list(request: HttpRequest) -> HttpResponse:
    form = GlossarySearchForm(request.GET)
    if form.is_valid():
        definitions = selectors_dictionary.definition_search(
            query=form.cleaned_data["q"], **form.filters()
        )
    else:
        definitions = []
    paginator = Paginator(definitions, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    page.pages_list = list(paginator.get_elided_page_range(page.number))  # type: ignore[attr-defined]
    return render(
        request,
        "referentials/glossary/definition_list.html",
        {
            "title": "Glossaire des définitions partagées",
            "form": form,
            "page": page,
            "searched": bool(request.GET.get("q", "").strip()),
        },
    )


@login_not_required
@require_GET
def definition_detail(request: HttpRequest, code: str) -> HttpResponse:
    page = selectors_dictionary.definition_page(code=code)
    return render(
        request,
        "referentials/glossary/definition_detail.html",
        {"title": page.definition.label, "page": page, "definition": page.definition},
    )
