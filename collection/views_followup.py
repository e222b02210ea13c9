"""Pages of the campaign follow-up (who answered, who is late, one unit's history) and of the
campaign's results. Reading only: who reads what is ``collection.followup.access_for``."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import role_required
from accounts.models import Role
from collection import followup, results
from collection.charts import Series, bar_chart, line_chart

READERS = (Role.REQUESTER, Role.VIEWER)


def _restriction(access: followup.Access) -> str:
    if not access.restricted:
        return ""
    return (
        "Vous voyez les établissements de votre périmètre seulement : "
        "chaque chiffre et chaque tableau de cette page se limite à vos territoires."
    )


@require_GET
@role_required(*READERS)
def campaign_followup(request: HttpRequest, pk: int) -> HttpResponse:
    access = followup.campaign_reader_access(user=request.user, pk=pk)  # type: ignore[arg-type]
    board = followup.dashboard(access=access, period_key=request.GET.get("periode") or None)
    over_time = line_chart(
        id="chart-rate-over-time",
        title="Taux de réponse par période",
        description=(
            "Part des demandes transmises et part des demandes en retard, en pourcentage des "
            "demandes attendues (hors dispenses), pour chaque période."
        ),
        x_labels=[r.key for r in board.by_period],
        series=[
            Series("Transmises", [r.rate for r in board.by_period]),
            Series("En retard", [r.late_rate for r in board.by_period]),
        ],
        unit="%",
        y_max=100,
    )
    by_region = bar_chart(
        id="chart-rate-by-region",
        title="Taux de réponse par région",
        description="Part des demandes transmises, en pourcentage des demandes attendues.",
        x_labels=[r.label for r in board.by_region],
        series=[Series("Transmises", [r.rate for r in board.by_region])],
        unit="%",
        y_max=100,
    )
    by_category = bar_chart(
        id="chart-rate-by-category",
        title="Taux de réponse par catégorie",
        description="Part des demandes transmises, en pourcentage des demandes attendues.",
        x_labels=[r.key or "—" for r in board.by_category],
        series=[Series("Transmises", [r.rate for r in board.by_category])],
        unit="%",
        y_max=100,
    )
    return render(
        request,
        "collection/followup/dashboard.html",
        {
            "title": f"Suivi — {access.campaign.title}",
            "campaign": access.campaign,
            "board": board,
            "restriction": _restriction(access),
            "over_time": over_time,
            "by_region_chart": by_region,
            "by_category_chart": by_category,
            "tables": [
                ("par-region", "Par région", "Région", board.by_region),
                ("par-departement", "Par département", "Département", board.by_department),
                ("par-categorie", "Par catégorie", "Catégorie", board.by_category),
            ],
        },
    )


@require_GET
@role_required(*READERS)
def campaign_unit_history(request: HttpRequest, pk: int, unit_pk: int) -> HttpResponse:
    access = followup.campaign_reader_access(user=request.user, pk=pk)  # type: ignore[arg-type]
    unit, periods = followup.unit_history(access=access, unit_pk=unit_pk)
    return render(
        request,
        "collection/followup/unit_history.html",
        {
            "title": f"{unit.label} — {access.campaign.title}",
            "campaign": access.campaign,
            "unit": unit,
            "periods": periods,
        },
    )


@require_GET
@role_required(*READERS)
def campaign_results(request: HttpRequest, pk: int) -> HttpResponse:
    access = followup.campaign_reader_access(user=request.user, pk=pk)  # type: ignore[arg-type]
    table = results.results_table(
        access=access,
        period_key=request.GET.get("periode") or None,
        dimension=request.GET.get("par", "region"),
    )
    detail_key = request.GET.get("detail")
    detail = results.drill_or_404(table, detail_key) if detail_key is not None else None
    detail_label = next((r.label for r in table.rows if r.key == detail_key), "")
    return render(
        request,
        "collection/followup/results.html",
        {
            "title": f"Résultats — {access.campaign.title}",
            "campaign": access.campaign,
            "table": table,
            "dimensions": list(results.DIMENSIONS.items()),
            "dimension_label": results.DIMENSIONS[table.dimension],
            "restriction": _restriction(access),
            "detail": detail,
            "detail_key": detail_key or "",
            "detail_label": detail_label,
        },
    )
