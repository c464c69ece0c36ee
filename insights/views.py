import csv
from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from campaigns.selectors import orgs_for_user
from insights.selectors import campaign_insights, click_counts_by_channel, click_counts_by_day

PERIODS = {"7": 7, "30": 30, "90": 90, "all": None}


def _org_and_period(request):
    """The org the user asked for (one of theirs, else 404) and the period's start (None: all time)."""
    orgs = orgs_for_user(request.user).order_by("name")
    org_id = request.GET.get("org")
    org = orgs.filter(pk=org_id).first() if org_id and org_id.isdigit() else orgs.first()
    if org is None:
        raise Http404("No organisation.")
    period = request.GET.get("period", "30")
    days = PERIODS.get(period, 30)
    since = None
    if days is not None:
        today = timezone.localdate()
        since = timezone.make_aware(datetime.combine(today - timedelta(days=days - 1), time.min))
    return orgs, org, period if period in PERIODS else "30", since


@login_required
def insights_overview(request):
    orgs, org, period, since = _org_and_period(request)
    by_day = click_counts_by_day(org_id=org.pk, since=since)
    busiest = max((day.total for day in by_day), default=0)
    return render(
        request,
        "insights/overview.html",
        {
            "orgs": orgs,
            "org": org,
            "period": period,
            "periods": PERIODS,
            "by_channel": click_counts_by_channel(org_id=org.pk, since=since),
            "campaigns": campaign_insights(org_id=org.pk, since=since),
            "by_day": by_day,
            "busiest": busiest,
        },
    )


@login_required
def insights_export(request):
    """The campaign table as CSV, for spreadsheets."""
    _, org, period, since = _org_and_period(request)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="insights-{org.pk}-{period}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["campaign", "channel", "delivered", "unique_click_count", "total_click_count", "click_rate_percent"]
    )
    for row in campaign_insights(org_id=org.pk, since=since):
        writer.writerow([row.name, row.channel, row.delivered, row.clicks.unique, row.clicks.total, row.click_rate])
    return response
