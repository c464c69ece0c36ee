"""The Compare page: two to five campaigns of the user's orgs side by side."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import dateformat

from campaigns.base.access import campaigns_for_user
from campaigns.models import Campaign
from insights.compare.comparison import (
    MAX_CAMPAIGNS,
    MIN_CAMPAIGNS,
    CampaignComparison,
    best_values,
    campaigns_compare,
)
from linktrack.common.figures import group_digits
from linktrack.common.reports_database import reading_reports

TEMPLATE = "insights/compare.html"
# The largest id a campaign can have (a 64-bit key): a larger number names no campaign, and the databases refuse it.
LARGEST_ID = 2**63 - 1


@dataclass(frozen=True)
class Cell:
    text: str
    best: bool = False


@dataclass(frozen=True)
class Row:
    label: str
    figure: str
    cells: list[Cell]


def _chosen_ids(values: list[str]) -> tuple[list[int], str]:
    """The campaign ids asked for (in order, each once), or why they cannot be compared, in words."""
    ids: list[int] = []
    for value in values:
        if not (value.isascii() and value.strip().isdigit()):
            return [], f"“{value}” is not a campaign. Tick the campaigns to compare on the campaign list."
        if int(value) not in ids:
            ids.append(int(value))
    if len(ids) < MIN_CAMPAIGNS:
        return [], f"Tick at least {MIN_CAMPAIGNS} campaigns to compare them (you chose {len(ids)})."
    if len(ids) > MAX_CAMPAIGNS:
        return [], f"Up to {MAX_CAMPAIGNS} campaigns can be compared at once (you chose {len(ids)})."
    return ids, ""


def _get_campaigns_for_user(user, ids: list[int]) -> list[Campaign]:
    """Every campaign asked for, in the order asked; another org's campaign is a 404, like a missing one."""
    if any(pk > LARGEST_ID for pk in ids):
        raise Http404("No such campaign.")
    found = (
        campaigns_for_user(user)
        .select_related("template__sender", "audience_list", "audience_segment", "resend_of")
        .in_bulk(ids)
    )
    if len(found) != len(ids):
        raise Http404("No such campaign.")
    return [found[pk] for pk in ids]


def _run_with_its_campaign(campaigns: list[Campaign]) -> str:
    chosen = {campaign.pk: campaign for campaign in campaigns}
    for campaign in campaigns:
        if campaign.parent_id in chosen:
            parent = chosen[campaign.parent_id]
            return (
                f"“{campaign.name}” is a run of the recurring campaign “{parent.name}”, whose figures already add "
                "up all its runs: compare one or the other."
            )
    return ""


def _when(comparison: CampaignComparison) -> str:
    if comparison.launched_at is None:
        return "not launched"
    zone = ZoneInfo(comparison.campaign.org.timezone)
    return dateformat.format(comparison.launched_at.astimezone(zone), "j M Y, H:i")


def _percent(value: float | None, empty: str = "–") -> str:
    return empty if value is None else f"{value}%"


def _count(comparison: CampaignComparison, count: int) -> str:
    """A count as the campaign's org writes figures (12,34,567 in the Indian grouping)."""
    return group_digits(count, indian=comparison.campaign.org.indian_number_grouping)


def _outcome(comparison: CampaignComparison, percent: float, count: int) -> str:
    return f"{percent}% ({_count(comparison, count)})" if comparison.messages else "– (no messages)"


def _top_reason(comparison: CampaignComparison) -> str:
    top = comparison.top_not_delivered
    return f"{top.title}: {top.percent}% of not delivered ({_count(comparison, top.count)})" if top else "none"


def _click_rate(comparison: CampaignComparison) -> str:
    rate = comparison.rate
    if not rate.per_sent:
        return _percent(rate.percent, "– (nothing delivered)")
    return (
        _percent(rate.percent, "– (nothing sent)")
        + " of sent messages: operators report no delivery for this promotional sender"
    )


def _minutes(value: int | None) -> str:
    if value is None:
        return "no clicks"
    return f"{value} minute{'' if value == 1 else 's'} after sending"


def _hours(value: int | None) -> str:
    if value is None:
        return "no clicks"
    return f"within {value} hour{'' if value == 1 else 's'} of sending"


def _kind(comparison: CampaignComparison) -> str:
    if comparison.campaign.is_recurring:
        runs = comparison.runs
        return f"{comparison.kind} ({runs} run{'' if runs == 1 else 's'} added up)"
    return comparison.kind


def _bought(comparison: CampaignComparison, group: str) -> str:
    """Buyers of a group (those who clicked, those who did not) of its recipients, with the conversion rate."""
    sales = comparison.sales
    if sales is None:
        return "no purchases counted"
    figures = getattr(sales, group)
    rate = _percent(figures.conversion_rate)
    shown = f"{_count(comparison, figures.buyers)} of {_count(comparison, figures.recipients)} ({rate})"
    return f"{shown}, too few to compare" if figures.too_few else shown


def _money(comparison: CampaignComparison, amount) -> str:
    if amount is None:
        return "–"
    whole, _, paise = f"{amount:.2f}".partition(".")
    return f"₹{_count(comparison, int(whole))}.{paise}"


# One row per figure: its label, the figure's name (for marking the best value) and how a campaign's value reads.
ROWS = [
    ("Channel", "channel", lambda c: c.channel),
    ("Type", "kind", _kind),
    ("Launched", "launched_at", _when),
    ("Audience", "audience", lambda c: c.audience),
    ("Template", "template", lambda c: c.template_name),
    ("Messages", "messages", lambda c: _count(c, c.messages)),
    ("Delivered", "delivered_percent", lambda c: _outcome(c, c.delivered_percent, c.outcomes.delivered)),
    ("Not sent", "not_sent_percent", lambda c: _outcome(c, c.not_sent_percent, c.outcomes.not_sent)),
    (
        "Not delivered",
        "not_delivered_percent",
        lambda c: _outcome(c, c.not_delivered_percent, c.outcomes.not_delivered),
    ),
    ("Unknown", "unknown_percent", lambda c: _outcome(c, c.unknown_percent, c.outcomes.unknown)),
    ("Most common reason not delivered", "top_not_delivered", _top_reason),
    ("Unique Click Count", "unique_clicks", lambda c: _count(c, c.clicks.unique)),
    ("Total Click Count", "total_clicks", lambda c: _count(c, c.clicks.total)),
    ("Click rate", "click_rate", lambda c: _click_rate(c)),
    ("First click", "first_click_minutes", lambda c: _minutes(c.first_click_minutes)),
    ("Half of the clicks", "half_within_hours", lambda c: _hours(c.half_within_hours)),
    ("Clicks from phones", "phone_percent", lambda c: _percent(c.phone_percent, "no clicks")),
    ("Bought after clicking (of those who clicked)", "bought_clicked", lambda c: _bought(c, "clicked")),
    ("Bought, did not click (of those delivered)", "bought_not_clicked", lambda c: _bought(c, "not_clicked")),
    ("Revenue (INR)", "revenue", lambda c: _money(c, c.sales.revenue) if c.sales else "–"),
    (
        "Revenue per recipient (INR)",
        "revenue_per_recipient",
        lambda c: _money(c, c.sales.revenue_per_recipient) if c.sales else "–",
    ),
]


def comparison_rows(comparisons: list[CampaignComparison]) -> list[Row]:
    best = best_values(comparisons)
    return [
        Row(
            label=label,
            figure=figure,
            cells=[Cell(text=shown(c), best=c.campaign.pk in best.get(figure, ())) for c in comparisons],
        )
        for label, figure, shown in ROWS
    ]


@login_required
def campaigns_compare_page(request):
    ids, problem = _chosen_ids(request.GET.getlist("c"))
    if problem:
        return render(request, TEMPLATE, {"problem": problem})
    campaigns = _get_campaigns_for_user(request.user, ids)
    problem = _run_with_its_campaign(campaigns)
    if problem:
        return render(request, TEMPLATE, {"problem": problem})
    # The campaigns and who may see them from the primary (above); their figures from the reports database.
    with reading_reports() as freshness:
        comparisons = campaigns_compare(campaigns=campaigns)
    context = {
        "comparisons": comparisons,
        "rows": comparison_rows(comparisons),
        "figures_as_of": freshness.words(ZoneInfo(campaigns[0].org.timezone)),
    }
    return render(request, TEMPLATE, context)
