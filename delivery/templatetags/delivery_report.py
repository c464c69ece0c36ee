"""The campaign page's delivery funnel as a chart, from the delivery counts the page already has (DeliveryCounts,
read from the message counters), and reason codes in words."""

from django import template

from delivery import reasons
from linktrack.common.charts import Chart, bar_chart
from linktrack.common.figures import figure_text, indian_grouping

register = template.Library()


@register.simple_tag
def delivery_funnel_chart(counts, org) -> Chart:
    """Messages, then those sent, then those delivered; beside them those not delivered, not sent and unknown."""
    indian = indian_grouping(org)
    outcomes = [
        ("Messages", counts.total, None, "chart-total"),
        ("Sent", counts.sent, counts.sent_percent, "chart-sent"),
        ("Delivered", counts.delivered, counts.delivered_percent, "chart-delivered"),
        ("Not delivered", counts.not_delivered, counts.not_delivered_percent, "chart-not-delivered"),
        ("Not sent", counts.not_sent, counts.not_sent_percent, "chart-not-sent"),
        ("Unknown", counts.unknown, counts.unknown_percent, "chart-unknown"),
    ]
    if counts.queued:
        outcomes.insert(1, ("Queued", counts.queued, counts.queued_percent, "chart-queued"))
    names = [
        name if share is None else f"{name} ({figure_text(share, indian=indian)}%)" for name, _, share, _ in outcomes
    ]
    return bar_chart(
        chart_id="delivery-funnel",
        title="Delivery funnel: messages, sent, delivered",
        category_title="Outcome",
        value_title="Messages",
        categories=[(name, name) for name in names],
        series=[("Messages", [count for _, count, _, _ in outcomes])],
        number=lambda value: figure_text(value, indian=indian),
        horizontal=True,
        category_classes=[css for _, _, _, css in outcomes],
    )


@register.filter
def reason_title(code: str) -> str:
    """A reason code ("undeliverable") as the page names it ("Gateway confirmed it cannot be delivered")."""
    return reasons.reason_for(code).title if code else ""


@register.filter
def reason_titles(codes) -> str:
    return ", ".join(reason_title(code) for code in codes or [])


@register.filter
def outcome_title(state: str) -> str:
    """A message's outcome group or status ("not_delivered") in words ("Not delivered")."""
    return reasons.GROUP_TITLES.get(state, {"delivered": "Delivered", "sent": "Sent"}.get(state, state))
