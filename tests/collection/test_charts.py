"""Server-drawn charts: the figures in the SVG and in the table are the data, nothing else."""

from django.template.loader import render_to_string

from collection.charts import Series, bar_chart, line_chart


def test_a_line_chart_places_values_on_the_scale_and_breaks_at_missing_values():
    chart = line_chart(
        id="taux",
        title="Taux de réponse",
        description="Par semaine",
        x_labels=["S1", "S2", "S3", "S4"],
        series=[Series("Île-de-France", [0, 50, None, 100])],
        unit="%",
        y_max=100,
    )
    [drawn] = chart.drawn
    bottom, top = chart.plot_bottom, chart.y_ticks[-1].position
    assert [p.y for p in drawn.points] == [bottom, (bottom + top) / 2, top]
    # The missing week splits the line: a new "M" after the gap.
    assert drawn.path.count("M") == 2
    assert [t.label for t in chart.y_ticks] == ["0", "25", "50", "75", "100"]


def test_the_scale_rounds_up_to_a_readable_maximum():
    chart = bar_chart(
        id="b", title="Lits", description="", x_labels=["a"], series=[Series("x", [1234])]
    )
    assert chart.y_ticks[-1].label == "2\u202f000"


def test_the_data_table_gives_every_figure_with_french_formatting():
    chart = bar_chart(
        id="cellules",
        title="Cellules demandées",
        description="Par région",
        x_labels=["Île-de-France", "Guadeloupe"],
        series=[Series("demandées", [12500, 3]), Series("servies", [2.5, None])],
    )
    html = render_to_string("charts/bar.html", {"chart": chart})
    assert "<caption>Cellules demandées</caption>" in html
    assert "12\u202f500" in html and "2,5" in html and "—" in html
    assert 'role="img"' in html and "style=" not in html
    assert len(chart.bars) == 3


def test_a_chart_without_any_value_says_so_instead_of_drawing_nothing():
    chart = line_chart(
        id="vide", title="Rien", description="", x_labels=["S1"], series=[Series("x", [None])]
    )
    html = render_to_string("charts/line.html", {"chart": chart})
    assert "Aucune donnée pour l'instant." in html and "<svg" not in html
