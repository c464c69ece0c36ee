import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from campaigns.models import Channel
from campaigns.selectors import orgs_for_user
from insights.forms import InsightsFilter, InsightsFilterForm
from insights.selectors import campaign_insights, click_counts_by_channel, click_counts_by_day_and_channel


def _filter_form(request) -> tuple[InsightsFilterForm, InsightsFilter]:
    """The page's filters; another org than the user's own (or none at all) is a 404."""
    form = InsightsFilterForm(request.GET, orgs=list(orgs_for_user(request.user).order_by("name")))
    if form.has_error("org"):
        raise Http404("No such organisation.")
    return form, form.insights_filter()


def _campaigns(shown: InsightsFilter):
    return campaign_insights(
        org_id=shown.org.pk, since=shown.since, until=shown.until, tz=shown.zone, channel=shown.channel
    )


@login_required
def insights_overview(request):
    form, shown = _filter_form(request)
    by_day = click_counts_by_day_and_channel(
        org_id=shown.org.pk, channels=shown.channels, since=shown.since, until=shown.until, tz=shown.zone
    )
    channel_names = [Channel(channel).label for channel in shown.channels]
    return render(
        request,
        "insights/overview.html",
        {
            "form": form,
            "shown": shown,
            "org": shown.org,
            "channel_names": channel_names,
            "split_by_channel": len(channel_names) > 1,
            "by_day_columns": 2 * len(channel_names) + 4 if len(channel_names) > 1 else 4,
            "by_channel": click_counts_by_channel(
                org_id=shown.org.pk, since=shown.since, until=shown.until, tz=shown.zone, channel=shown.channel
            ),
            "campaigns": _campaigns(shown),
            "by_day": by_day,
            "busiest": max((day.total for day in by_day), default=0),
            "query_string": request.GET.urlencode(),
        },
    )


@login_required
def insights_export(request):
    """The campaign table as CSV, for spreadsheets, with the page's filters."""
    _, shown = _filter_form(request)
    channel = f"-{shown.channel}" if shown.channel else ""
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="insights-{shown.org.pk}-{shown.period_slug}{channel}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["campaign", "channel", "delivered", "unique_click_count", "total_click_count", "click_rate_percent"]
    )
    for row in _campaigns(shown):
        writer.writerow([row.name, row.channel, row.delivered, row.clicks.unique, row.clicks.total, row.click_rate])
    return response
