"""Click charts: a campaign's clicks over time (hour by hour for 48 hours, then day by day) and by kind of device,
from linktrack.counts' click_timeline and click_devices (the page already has them), and Insights' clicks per day
for each channel, from the by-day rows of the page. Read from counters; nothing is counted here."""

from datetime import timedelta

from django import template
from django.utils import formats

from linktrack.common.charts import Chart, bar_chart
from linktrack.common.figures import figure_text, indian_grouping

register = template.Library()


def _number(org):
    indian = indian_grouping(org)
    return lambda value: figure_text(value, indian=indian)


@register.simple_tag
def click_timeline_chart(timeline, org) -> Chart:
    categories, values, classes = [], [], []
    for hour in timeline.hours:
        axis = (
            formats.date_format(hour.start, "j M") if hour.start.hour == 0 else formats.date_format(hour.start, "H:i")
        )
        categories.append((formats.date_format(hour.start, "j M Y, H:i"), axis))
        values.append(hour.total)
        classes.append("chart-series-0")
    for day, total in timeline.later_days:
        categories.append((formats.date_format(day, "D j M Y"), formats.date_format(day, "j M")))
        values.append(total)
        classes.append("chart-day")
    note = "Each bar is one hour from the first message sent, for 48 hours"
    note += "; the darker bars after them are whole days." if timeline.later_days else "."
    return bar_chart(
        chart_id="click-timeline",
        title="Clicks after sending: hour by hour for 48 hours, then day by day",
        category_title="Hour (then day), in the organisation's time zone",
        value_title="Clicks",
        categories=categories,
        series=[("Clicks", values)],
        number=_number(org),
        category_classes=classes,
        note=note,
    )


@register.simple_tag
def click_devices_chart(devices, org) -> Chart:
    return bar_chart(
        chart_id="click-devices-chart",
        title="Clicks by kind of device",
        category_title="Device",
        value_title="Clicks and recipients",
        categories=[(device.name, device.name) for device in devices],
        series=[
            ("Clicks", [device.total for device in devices]),
            ("Recipients who clicked", [device.recipients for device in devices]),
        ],
        number=_number(org),
        horizontal=True,
    )


@register.simple_tag
def daily_channel_charts(by_day, channels, channel_names, first_day, last_day, org) -> list[Chart]:
    """One chart per channel shown: its Unique and Total Click Count each day of the period (days without clicks
    at zero; for all time, from the first day with clicks)."""
    rows = {row.day: row for row in by_day}
    if not rows:
        return []
    day, end = first_day or min(rows), last_day or max(rows)
    if (end - day).days > 366:  # a long custom period: from its first day with clicks
        day = max(day, min(rows))
    days = []
    while day <= end:
        days.append(day)
        day += timedelta(days=1)
    categories = [(formats.date_format(d, "D j M Y"), formats.date_format(d, "j M")) for d in days]
    charts = []
    for index, (channel, name) in enumerate(zip(channels, channel_names, strict=True)):
        per_day = [rows[d].per_channel[index] if d in rows else None for d in days]
        charts.append(
            bar_chart(
                chart_id=f"daily-clicks-{channel}",
                title=f"{name}: clicks per day",
                category_title="Day",
                value_title="Clicks",
                categories=categories,
                series=[
                    ("Unique", [counts.unique if counts else 0 for counts in per_day]),
                    ("Total", [counts.total if counts else 0 for counts in per_day]),
                ],
                number=_number(org),
            )
        )
    return charts
