"""Bar charts drawn by the server: a bar per category and series, scaled to a round top, and a table with the same
numbers as the bars' labels."""

from django.template.loader import render_to_string

from linktrack.common.charts import bar_chart, nice_scale
from linktrack.common.figures import group_digits


def indian(value: int) -> str:
    return group_digits(value, indian=True)


def test_the_value_axis_ends_at_a_round_number_at_or_above_the_largest_value():
    assert nice_scale(0) == (1, 1)
    assert nice_scale(3) == (3, 1)
    assert nice_scale(87) == (100, 50)
    top, step = nice_scale(123456)
    assert top >= 123456 and top % step == 0 and 3 <= top // step <= 8


def test_a_chart_has_a_bar_per_value_and_a_table_that_says_the_same():
    chart = bar_chart(
        chart_id="funnel",
        title="Delivery funnel",
        category_title="Outcome",
        value_title="Messages",
        categories=[("Messages", "Messages"), ("Delivered", "Delivered")],
        series=[("Messages", [1234567, 100000])],
        number=indian,
        horizontal=True,
    )

    svg = render_to_string("_chart.html", {"chart": chart})

    assert [(bar.category, bar.text) for bar in chart.bars] == [("Messages", "12,34,567"), ("Delivered", "1,00,000")]
    assert [(row.label, row.texts) for row in chart.rows] == [("Messages", ["12,34,567"]), ("Delivered", ["1,00,000"])]
    assert 'role="img"' in svg and "<title>Delivery funnel</title>" in svg and 'aria-label="Delivery funnel.' in svg
    assert '<th scope="row">Delivered</th><td>1,00,000</td>' in svg
    assert float(chart.bars[0].width) > float(chart.bars[1].width) > 0


def test_a_long_vertical_chart_names_only_some_categories_under_its_axis():
    days = [(f"Day {n}", f"{n}") for n in range(90)]
    chart = bar_chart(
        chart_id="days",
        title="Clicks per day",
        category_title="Day",
        value_title="Clicks",
        categories=days,
        series=[("Unique", [n for n in range(90)]), ("Total", [2 * n for n in range(90)])],
        number=indian,
    )

    assert len(chart.bars) == 180 and len(chart.rows) == 90
    assert len(chart.category_labels) <= 12
    assert chart.description == "Clicks per day. The numbers are in the table below the chart."
