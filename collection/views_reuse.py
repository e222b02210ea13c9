"""A value served instead of asked (``/collecte/demandes/<pk>/servies/<code>/``): where it
comes from, each source value with its provenance, and a way to correct it.

Scoped like the form (``views_form.assignment_access``): the respondents of the assignment's
unit correct; the requesters of the campaign read; anyone else gets a 404.
"""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.models import User
from collection import reuse, values
from collection.models import Value
from collection.reuse_corrections import served_value_correct
from collection.views_form import assignment_access
from surveys.periods import parse_period
from surveys.schema import version_schema


class CorrectionForm(forms.Form):
    value = forms.IntegerField(widget=forms.HiddenInput)
    raw = forms.CharField(label="Valeur corrigée", max_length=200)
    comment = forms.CharField(
        label="Motif de la correction",
        help_text="Les autres campagnes qui lisent cette valeur le verront.",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


@require_http_methods(["GET", "POST"])
def served_value(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    assignment, may_answer = assignment_access(request.user, pk)
    schema = version_schema(assignment.version)
    served = reuse.served_for(assignment, schema=schema).get(code)
    if served is None:
        raise Http404("Cette question n'est pas servie par une autre déclaration.")
    question = schema.by_code[code]
    sources = {
        v.pk: v
        for v in Value.objects.filter(pk__in=served.sources).select_related(
            "unit", "campaign__owner", "changed_by"
        )
    }
    errors: dict[int, str] = {}
    posted: dict[int, CorrectionForm] = {}
    if request.method == "POST":
        if not may_answer:
            return HttpResponseForbidden("Consultation seule : vous ne pouvez pas corriger.")
        form = CorrectionForm(request.POST)
        posted_id = request.POST.get("value") or ""
        value_id = int(posted_id) if posted_id.isdecimal() else 0
        if value_id not in sources:
            raise Http404("Valeur introuvable.")
        if form.is_valid():
            user: User = request.user  # type: ignore[assignment]
            try:
                served_value_correct(
                    value=sources[value_id],
                    raw=form.cleaned_data["raw"],
                    comment=form.cleaned_data["comment"],
                    user=user,
                    label=question.label,
                    assignment=assignment,
                )
            except values.SubmissionRefused as refusal:
                errors[value_id] = str(refusal)
            else:
                messages.success(
                    request,
                    "La valeur partagée est corrigée : les campagnes qui la lisent voient la "
                    "correction, et leurs demandeurs en sont informés.",
                )
                return redirect("collection:served_value", pk=assignment.pk, code=code)
        else:
            errors[value_id] = "Indiquez la valeur corrigée et le motif de la correction."
        posted[value_id] = form
    rows = []
    periods = [parse_period(key) for key in served.needed]
    by_key = {v.period_key: v for v in sources.values()}
    for period in periods:
        value = by_key.get(period.key)
        correction: CorrectionForm | None = None
        if value is not None and may_answer:
            correction = posted.get(value.pk) or CorrectionForm(
                initial={"value": value.pk, "raw": values.display(question.spec, value.data)},
                auto_id=f"id_%s_{value.pk}",
            )
        rows.append(
            {
                "period": period,
                "value": value,
                "text": values.display(question.spec, value.data) if value is not None else "",
                "provenance": values.provenance(value) if value is not None else "",
                "history_url": reverse("collection:value_history", kwargs={"pk": value.pk})
                if value is not None
                else "",
                "form": correction,
                "error": errors.get(value.pk, "") if value is not None else "",
            }
        )
    return render(
        request,
        "collection/reuse/served_value.html",
        {
            "title": f"Valeur partagée — {question.label}",
            "assignment": assignment,
            "question": question,
            "served": served,
            "rows": rows,
            "may_answer": may_answer,
            "form_url": reverse("collection:assignment_form", kwargs={"pk": assignment.pk}),
        },
        status=400 if errors else 200,
    )
