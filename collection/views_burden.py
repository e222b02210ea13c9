"""The burden of collection (« Charge de collecte ») and « Mes données »: two read-only pages
of charts and tables. Selectors in ``collection.burden`` and ``collection.feedback``."""

from datetime import date

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Role
from collection import burden as burden_selectors
from collection import feedback as feedback_selectors
from collection.charts import Chart, Series, bar_chart, line_chart
from referentials.models import ReportingUnit


class BurdenForm(DsfrForm):
    semaines = forms.TypedChoiceField(
        label="Période affichée",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            (n, f"Semaine en cours et les {n} précédentes") for n in burden_selectors.WEEK_CHOICES
        ],
    )
    unite = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _weekly_chart(
    *, id: str, title: str, description: str, weeks: list[str], per_week: dict, sent: bool
) -> Chart:
    series = [
        Series("Cellules demandées", [per_week[w].asked for w in weeks]),
        Series("Cellules servies par la base (non demandées)", [per_week[w].served for w in weeks]),
    ]
    if sent:
        series.append(
            Series(
                "Dont envoyées malgré un chevauchement", [per_week[w].sent_anyway for w in weeks]
            )
        )
    return line_chart(
        id=id,
        title=title,
        description=description,
        x_labels=[feedback_selectors.axis_label(w) for w in weeks],
        series=series,
    )


def _short(name: str, size: int = 14) -> str:
    return name if len(name) <= size else f"{name[: size - 1]}…"


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER, Role.CURATOR, Role.RESPONDENT)
def burden(request: HttpRequest) -> HttpResponse:
    form = BurdenForm(request.GET or None, initial={"semaines": burden_selectors.DEFAULT_WEEKS})
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    weeks = cleaned.get("semaines") or burden_selectors.DEFAULT_WEEKS
    try:
        result = burden_selectors.burden_for(
            user=request.user, weeks=weeks, unit_id=cleaned.get("unite")
        )
    except ReportingUnit.DoesNotExist as error:
        raise Http404("Établissement introuvable.") from error
    keys = [w.key for w in result.weeks]
    where = "en France" if result.nationwide else "dans votre périmètre"
    charts = [
        _weekly_chart(
            id="burden-weeks",
            title=(
                f"Cellules demandées et servies par semaine {where}"
                if result.administration
                else "Cellules demandées et servies par semaine à vos établissements"
            ),
            description=(
                "Nombre de réponses attendues (une question, une période, un établissement) "
                "par semaine de période, et nombre de réponses servies depuis la base de "
                "valeurs au lieu d'être demandées."
            ),
            weeks=keys,
            per_week=result.totals,
            sent=result.administration,
        )
    ]
    if result.administration and result.regions:
        charts.append(
            bar_chart(
                id="burden-regions",
                title="Cellules demandées et servies par région sur la période",
                description="Par région (de l'ARS compétente), cellules demandées et servies.",
                x_labels=[_short(r.name) for r in result.regions],
                series=[
                    Series("Cellules demandées", [r.total.asked for r in result.regions]),
                    Series("Cellules servies", [r.total.served for r in result.regions]),
                ],
            )
        )
    if not result.administration and len(result.units) > 1:
        charts.append(
            line_chart(
                id="burden-sites",
                title="Cellules demandées par semaine, par établissement",
                description="Réponses attendues de chacun de vos établissements par semaine.",
                x_labels=[feedback_selectors.axis_label(w) for w in keys],
                series=[
                    Series(u.label, [u.weeks[w].asked for w in keys]) for u in result.units[:6]
                ],
            )
        )
    unit_chart = None
    if result.unit is not None:
        unit_chart = _weekly_chart(
            id="burden-unit",
            title=f"Cellules demandées et servies par semaine — {result.unit.label}",
            description="Réponses attendues de cet établissement par semaine de période.",
            weeks=keys,
            per_week=result.unit.weeks,
            sent=False,
        )
    query = request.GET.copy()
    query.pop("unite", None)
    return render(
        request,
        "collection/burden.html",
        {
            "title": "Charge de collecte",
            "form": form,
            "burden": result,
            "charts": charts,
            "unit_chart": unit_chart,
            "week_rows": [(w, result.totals[w.key]) for w in result.weeks],
            "query": query.urlencode(),
        },
    )


class MyDataForm(DsfrForm):
    site = forms.TypedChoiceField(label="Établissement", required=False, coerce=int)
    definition = forms.ChoiceField(label="Donnée", required=False)
    # An HTML date input reads and writes ISO dates, whatever the language.
    du = forms.DateField(
        label="Périodes commençant à partir du",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    au = forms.DateField(
        label="jusqu'au",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self,
        *args: object,
        units: list[tuple[int, str]],
        definitions: list[tuple[str, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["site"].choices = units  # type: ignore[attr-defined]
        self.fields["definition"].choices = definitions  # type: ignore[attr-defined]
        if len(units) < 2:
            del self.fields["site"]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and end < start:
            self.add_error("au", "La date de fin doit suivre la date de début.")
        return cleaned


def _unit_label(unit: ReportingUnit) -> str:
    return f"{unit.label} ({unit.identifier})" if unit.identifier else unit.label


@require_GET
@role_required(Role.RESPONDENT)
def my_data(request: HttpRequest) -> HttpResponse:
    units = feedback_selectors.my_units(user=request.user)
    if not units:
        # No request received yet: nothing answered, nothing to give back.
        return render(
            request,
            "collection/my_data.html",
            {"title": "Mes données", "feedback": None, "min_peers": feedback_selectors.MIN_PEERS},
        )
    unit = units[0]
    wanted = request.GET.get("site", "")
    if wanted.isdigit():
        unit = next((u for u in units if u.pk == int(wanted)), unit)
    definitions = feedback_selectors.answered_definitions(unit)
    start, end = feedback_selectors.default_range()
    data = request.GET.copy()
    # What is not chosen (or no longer offered, after a change of site) takes its default.
    data["site"] = str(unit.pk)
    codes = [d.code for d in definitions]
    if codes and data.get("definition") not in codes:
        data["definition"] = codes[0]
    data.setdefault("du", start.isoformat())
    data.setdefault("au", end.isoformat())
    form = MyDataForm(
        data,
        units=[(u.pk, _unit_label(u)) for u in units],
        definitions=[(d.code, f"{d.label} ({d.code})") for d in definitions],
    )
    cleaned = form.cleaned_data if form.is_valid() else {}
    start_: date = cleaned.get("du") or start
    end_: date = cleaned.get("au") or end
    result = feedback_selectors.feedback_for(
        unit=unit,
        user=request.user,
        definition_code=cleaned.get("definition") or "",
        start=start_,
        end=end_,
    )
    chart = None
    if result.definition is not None and result.keys:
        x_labels, series = feedback_selectors.chart_series(result)
        unit_name = f" ({result.definition.unit})" if result.definition.unit else ""
        chart = line_chart(
            id="mydata-chart",
            title=f"{result.definition.label}{unit_name} — {unit.label}",
            description=(
                "Vos valeurs par période et, quand au moins "
                f"{feedback_selectors.MIN_PEERS} autres établissements ont répondu, la médiane "
                "de leurs valeurs dans votre département, votre région et votre catégorie."
            ),
            x_labels=x_labels,
            series=[Series(label, values) for label, values in series],
            unit=result.definition.unit,
        )
    return render(
        request,
        "collection/my_data.html",
        {
            "title": "Mes données",
            "form": form,
            "feedback": result,
            "chart": chart,
            "min_peers": feedback_selectors.MIN_PEERS,
        },
    )
