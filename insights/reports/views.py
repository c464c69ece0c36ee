"""The Insights page and its CSV, and a campaign's click CSV. Who may see what is checked on the primary; the
figures come from the reports database (linktrack.common.reports_database)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from campaigns.base.access import get_campaign_for_user
from campaigns.base.click_rates import PER_SENT_WHY
from campaigns.base.org_chooser import user_orgs
from campaigns.models import Channel
from insights.reports.click_export import HEADER, campaign_click_rows
from insights.reports.forms import InsightsFilter, InsightsFilterForm
from insights.reports.selectors import campaign_insights
from linktrack.common.csv_export import csv_download
from linktrack.common.reports_database import reading_reports, rows_from_reports
from linktrack.counts.click_counts import click_counts_by_channel, click_counts_by_day_and_channel


def _filter_form(request) -> tuple[InsightsFilterForm, InsightsFilter]:
    """The page's filters; another org than the user's own (or none at all) is a 404."""
    form = InsightsFilterForm(request.GET, orgs=user_orgs(request.user))
    if form.has_error("org"):
        raise Http404("No such organisation.")
    return form, form.insights_filter()


def _campaigns(shown: InsightsFilter):
    return campaign_insights(
        org_id=shown.org.pk,
        first_day=shown.first_day,
        last_day=shown.last_day,
        since=shown.since,
        until=shown.until,
        channel=shown.channel,
    )


@login_required
def insights_overview(request):
    form, shown = _filter_form(request)
    channel_names = [Channel(channel).label for channel in shown.channels]
    with reading_reports() as freshness:
        by_day = click_counts_by_day_and_channel(
            org_id=shown.org.pk, channels=shown.channels, first_day=shown.first_day, last_day=shown.last_day
        )
        by_channel = click_counts_by_channel(
            org_id=shown.org.pk, first_day=shown.first_day, last_day=shown.last_day, channel=shown.channel
        )
        campaigns = _campaigns(shown)
    return render(
        request,
        "insights/overview.html",
        {
            "form": form,
            "shown": shown,
            "org": shown.org,
            "channel_names": channel_names,
            "split_by_channel": len(channel_names) > 1,
            "by_day_columns": 2 * len(channel_names) + 3 if len(channel_names) > 1 else 3,
            "by_channel": by_channel,
            "campaigns": campaigns,
            "any_per_sent": any(not row.delivery_reported for row in campaigns),
            "per_sent_why": PER_SENT_WHY,
            "by_day": by_day,
            "query_string": request.GET.urlencode(),
            "figures_as_of": freshness.words(shown.zone),
        },
    )


SALES_HEADER = [
    "buyers_who_clicked",
    "conversion_rate_clicked_percent",
    "revenue_clicked_inr",
    "buyers_who_did_not_click",
    "conversion_rate_not_clicked_percent",
    "revenue_not_clicked_inr",
    "revenue_per_recipient_inr",
    "too_few_to_compare",
]


def _sales_cells(row) -> list:
    sales = row.sales
    if sales is None:
        return [0, "", 0, 0, "", 0, "", ""]
    clicked, other = sales.clicked, sales.not_clicked
    return [
        clicked.buyers,
        clicked.conversion_rate if clicked.conversion_rate is not None else "",
        clicked.revenue,
        other.buyers,
        other.conversion_rate if other.conversion_rate is not None else "",
        other.revenue,
        sales.revenue_per_recipient if sales.revenue_per_recipient is not None else "",
        "yes" if not sales.comparable else "no",
    ]


@login_required
def insights_export(request):
    """The campaign table as CSV, for spreadsheets, with the page's filters."""
    _, shown = _filter_form(request)
    channel = f"-{shown.channel}" if shown.channel else ""
    with reading_reports():
        campaigns = _campaigns(shown)
    rows = (
        [
            row.name,
            row.channel,
            row.delivered,
            row.clicks.unique,
            row.clicks.total,
            row.click_rate,
            row.rate.per,
            *_sales_cells(row),
        ]
        for row in campaigns
    )
    # click_rate_of: "delivered", or "sent" for a promotional sender's SMS, whose delivery is never reported
    header = [
        "campaign",
        "channel",
        "delivered",
        "unique_click_count",
        "total_click_count",
        "click_rate_percent",
        "click_rate_of",
        *SALES_HEADER,
    ]
    return csv_download(header, rows, filename=f"insights-{shown.org.pk}-{shown.period_slug}{channel}.csv")


@login_required
def campaign_clicks_export(request, pk: int):
    """Every click by a person on one campaign's links, as CSV."""
    campaign = get_campaign_for_user(request.user, pk)
    rows = rows_from_reports(campaign_click_rows(campaign))
    return csv_download(HEADER, rows, filename=f"campaign-{campaign.pk}-clicks.csv")
