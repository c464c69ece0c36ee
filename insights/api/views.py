"""The reporting API: a brand's BI tools read its campaign figures as JSON, with an API key of its org.

`Authorization: Bearer lt_…` is the only way in (no session, so cookies and CSRF play no part) and GET the only
method. Every answer, errors included, is JSON and never cached (`Cache-Control: no-store`); an error reads
`{"error": "..."}` in words. Each call costs a fixed number of queries whatever the number of campaigns or clicks
on the page. The figures are those of the campaign pages, from the same selectors, read from the reports database
(linktrack.common.reports_database); the key and the campaigns it may read are checked on the primary. While the
reports database is behind, answers say since when in the `X-Figures-As-Of` header.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from campaigns.customers.attribution import campaign_sales
from campaigns.lifecycle.filters import campaigns_matching
from campaigns.lifecycle.selectors import CampaignSummary, campaign_summaries
from campaigns.models import Campaign, Channel
from delivery import reasons
from delivery.reports.delivery_times import delivery_speed
from delivery.reports.selectors import delivery_counts, reason_breakdown
from insights.api.keys import authenticate, rate_limit_wait
from insights.models import ApiKey
from linktrack.common.reports_database import Freshness, reading_reports
from linktrack.counts.click_counts import click_counts_by_link
from linktrack.counts.devices import DEVICE_NAMES, device_of
from linktrack.models import Click

CAMPAIGNS_PER_PAGE = 50
CLICKS_DEFAULT_LIMIT, CLICKS_MAX_LIMIT = 100, 1000
_LARGEST_ID = 2**63 - 1  # ids are 64-bit: a larger number in the address can name nothing
_REALM = 'Bearer realm="linktrack"'


class BadParameter(Exception):
    """A query parameter the API cannot use: answered 400 with this message."""


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _unauthorized(message: str, *, invalid_token: bool = True) -> JsonResponse:
    response = _error(401, message)
    # RFC 6750: a request without credentials gets the scheme only; one with a bad token gets its error code too.
    response["WWW-Authenticate"] = f'{_REALM}, error="invalid_token"' if invalid_token else _REALM
    return response


def api_view(view: Callable | None = None, *, method: str = "GET", writes: bool = False) -> Callable:
    """`method` only (GET unless said), a live API key (with the write scope when the view `writes`), within the
    key's rate; the view gets the key after the request."""

    def decorate(view: Callable) -> Callable:
        # The API reads no cookie, so a forged cross-site request gains nothing; exempt so that a wrong method gets
        # the API's JSON 405 rather than the CSRF failure page.
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> JsonResponse:
            response = _answer(view, method, writes, request, *args, **kwargs)
            response["Cache-Control"] = "no-store"
            return response

        return wrapped

    return decorate(view) if view is not None else decorate


def _answer(view: Callable, method: str, writes: bool, request: HttpRequest, *args, **kwargs) -> JsonResponse:
    if request.method != method:
        if method == "GET":
            response = _error(405, f"The reporting API only reads: use GET, not {request.method}.")
        else:
            response = _error(405, f"This endpoint takes {method}, not {request.method}.")
        response["Allow"] = method
        return response
    scheme, _, raw_key = request.headers.get("Authorization", "").strip().partition(" ")
    if not scheme:
        return _unauthorized(
            "Send an API key in the Authorization header: “Authorization: Bearer lt_…”.", invalid_token=False
        )
    if scheme.lower() != "bearer":
        return _unauthorized("Send the API key as “Authorization: Bearer lt_…”; no other scheme is accepted.")
    api_key = authenticate(raw_key.strip())
    if api_key is None:
        return _unauthorized(
            "This API key is not valid: it is malformed, unknown or revoked. "
            "Create a key on the API keys page and send it whole."
        )
    if writes and not api_key.can_write:
        return _error(
            403,
            "This API key only reads. Create a key that may also send transactions in (tick “May send "
            "transactions” on the API keys page) and use it for this call.",
        )
    wait = rate_limit_wait(api_key)
    if wait:
        response = _error(429, f"Too many calls with this API key: try again in {wait} seconds.")
        response["Retry-After"] = str(wait)
        return response
    try:
        return view(request, api_key, *args, **kwargs)
    except BadParameter as problem:
        return _error(400, str(problem))


@csrf_exempt
def no_such_endpoint(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    response = _error(
        404,
        "No such endpoint. The reporting API has /api/v1/campaigns/, /api/v1/campaigns/<id>/ and "
        "/api/v1/campaigns/<id>/clicks/, and takes transactions at /api/v1/transactions/ (each ends with a slash).",
    )
    response["Cache-Control"] = "no-store"
    return response


def _no_such_campaign() -> JsonResponse:
    # Word for word the same answer for another org's campaign as for one that does not exist.
    return _error(404, "Your organisation has no campaign with this id.")


# --- Reading the query string ----------------------------------------------------------------------------------


def _choice(request: HttpRequest, name: str, allowed: list[str]) -> str:
    value = request.GET.get(name, "")
    if value and value not in allowed:
        raise BadParameter(f"{name} must be one of {', '.join(allowed)}; “{value[:50]}” is not.")
    return value


def _whole_number(request: HttpRequest, name: str, *, default: int, minimum: int, maximum: int) -> int:
    value = request.GET.get(name, "")
    if value == "":
        return default
    if not (value.isascii() and value.isdigit() and minimum <= int(value) <= maximum):
        raise BadParameter(f"{name} must be a whole number from {minimum} to {maximum}; “{value[:50]}” is not.")
    return int(value)


def _url_with(request: HttpRequest, **params) -> str:
    """This call's absolute address with some parameters changed (the others, filters included, are kept)."""
    query = request.GET.copy()
    for name, value in params.items():
        query[name] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


# --- What the answers say --------------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, e.g. 2026-11-20T04:35:12Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _campaign_figures(campaign: Campaign, summary: CampaignSummary) -> dict:
    """A campaign as the campaign list shows it (a recurring campaign adds up its runs)."""
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "channel": campaign.template.channel,
        "kind": campaign.kind,
        "status": campaign.status,
        "created_at": _iso(campaign.created_at),
        "launched_at": _iso(campaign.launched_at),
        "messages": summary.messages,
        "delivered": summary.delivered,
        "unique_clicks": summary.clicks.unique,
        "total_clicks": summary.clicks.total,
        "click_rate": summary.click_rate,  # unique clickers per 100 delivered messages
    }


def _figures_answer(answer: dict, freshness: Freshness) -> JsonResponse:
    response = JsonResponse(answer)
    if freshness.lagging:
        response["X-Figures-As-Of"] = _iso(freshness.as_of) or "unknown"
    return response


def _org_campaigns(api_key: ApiKey):
    return Campaign.objects.filter(org_id=api_key.org_id).select_related("template")


def _org_campaign(api_key: ApiKey, pk: int) -> Campaign | None:
    """The key's org's campaign `pk`; None for another org's, exactly as for one that does not exist."""
    return _org_campaigns(api_key).filter(pk=pk).first() if pk <= _LARGEST_ID else None


def _delivery(campaign: Campaign) -> tuple[dict, dict]:
    """Messages by outcome with their share (as the campaign page shows them), and the reasons of the failures."""
    counts = delivery_counts(campaign_id=campaign.pk)
    outcomes = {"messages": counts.total}
    for outcome in ("sent", "delivered", "not_sent", "not_delivered", "unknown"):
        count = getattr(counts, outcome)
        outcomes[outcome] = {"count": count, "percent": getattr(counts, f"{outcome}_percent")}
    why = {
        group: [
            {"code": row.reason.code, "title": row.reason.title, "count": row.count}
            for row in reason_breakdown(campaign_id=campaign.pk, group=group, total=counts.total)
        ]
        for group in (reasons.NOT_SENT, reasons.NOT_DELIVERED)
    }
    return outcomes, why


# --- Endpoints -------------------------------------------------------------------------------------------------


@api_view
def campaign_list(request: HttpRequest, api_key: ApiKey) -> JsonResponse:
    """The org's campaigns (recurring runs are inside their recurring campaign), newest first, 50 a page."""
    filters = {
        "status": _choice(request, "status", list(Campaign.Status.values)),
        "channel": _choice(request, "channel", list(Channel.values)),
    }
    campaigns = campaigns_matching(campaigns=_org_campaigns(api_key).filter(parent__isnull=True), filters=filters)
    paginator = Paginator(campaigns.order_by("-created_at", "-pk"), CAMPAIGNS_PER_PAGE)
    number = _whole_number(request, "page", default=1, minimum=1, maximum=paginator.num_pages)
    page = paginator.page(number)
    on_page = list(page.object_list)
    with reading_reports() as freshness:
        summaries = campaign_summaries(campaigns=on_page)
    return _figures_answer(
        {
            "count": paginator.count,
            "next": _url_with(request, page=number + 1) if page.has_next() else None,
            "previous": _url_with(request, page=number - 1) if page.has_previous() else None,
            "results": [_campaign_figures(campaign, summaries[campaign.pk]) for campaign in on_page],
        },
        freshness,
    )


@api_view
def campaign_detail(request: HttpRequest, api_key: ApiKey, pk: int) -> JsonResponse:
    """One campaign: its figures, messages by outcome, why messages failed, and the clicks on each link."""
    campaign = _org_campaign(api_key, pk)
    if campaign is None:
        return _no_such_campaign()
    runs = list(_org_campaigns(api_key).filter(parent=campaign).order_by("-created_at", "-pk"))
    with reading_reports() as freshness:
        summary = campaign_summaries(campaigns=[campaign])[campaign.pk]
        # Apart from their recurring campaign: asked for together, the runs' figures would count for it alone.
        run_summaries = campaign_summaries(campaigns=runs) if runs else {}
        delivery, why = _delivery(campaign)
        speed = delivery_speed(campaign=campaign)
        links = click_counts_by_link(campaign_id=campaign.pk)
        sales = campaign_sales(
            campaign_ids=[campaign.pk],
            delivered={campaign.pk: summary.delivered},
            clickers={campaign.pk: summary.clicks.unique},
        )[campaign.pk]
    return _figures_answer(
        {
            **_campaign_figures(campaign, summary),
            "parent_id": campaign.parent_id,
            "delivery": delivery,
            "reasons": why,
            # How fast messages were delivered (a recurring campaign: its runs together); null while none is.
            "delivery_speed": speed.as_json() if speed else None,
            "links": [
                {
                    "id": link.short_link_id,
                    "destination": link.destination,
                    "unique_clicks": link.unique,
                    "total_clicks": link.total,
                }
                for link in links
            ],
            # Purchases attributed to it, per currency: those who clicked before buying and those delivered who did
            # not click (campaigns.customers.attribution); a recurring campaign adds up its runs.
            "sales": [figures.as_json() for figures in sales],
            # A recurring campaign sends through its runs: each has its own report at /api/v1/campaigns/<id>/.
            "runs": [_campaign_figures(run, run_summaries[run.pk]) for run in runs],
        },
        freshness,
    )


@api_view
def campaign_clicks(request: HttpRequest, api_key: ApiKey, pk: int) -> JsonResponse:
    """Every click by a person on the campaign's links, oldest first, `limit` at a time after click `after`."""
    after = _whole_number(request, "after", default=0, minimum=0, maximum=_LARGEST_ID)
    limit = _whole_number(request, "limit", default=CLICKS_DEFAULT_LIMIT, minimum=1, maximum=CLICKS_MAX_LIMIT)
    campaign = _org_campaign(api_key, pk)
    if campaign is None:
        return _no_such_campaign()
    with reading_reports() as freshness:
        rows = _clicks_after(campaign, after, limit)
    more, rows = len(rows) > limit, rows[:limit]
    return _figures_answer(
        {
            "next": _url_with(request, after=rows[-1][0], limit=limit) if more else None,
            "results": [
                {
                    "id": click_id,
                    "clicked_at": _iso(clicked_at),
                    "link": destination,
                    "channel": channel,
                    "recipient": recipient,
                    "customer_external_id": external_id or None,
                    "device": DEVICE_NAMES[device_of(user_agent)],
                }
                for click_id, clicked_at, destination, channel, recipient, external_id, user_agent in rows
            ],
        },
        freshness,
    )


def _clicks_after(campaign: Campaign, after: int, limit: int) -> list[tuple]:
    """The campaign's clicks by a person after click `after`, one more than `limit` (to tell whether more follow)."""
    return list(
        Click.objects.filter(campaign=campaign, is_bot=False, pk__gt=after)
        .order_by("pk")
        .values_list(
            "pk",
            "clicked_at",
            "short_link__destination",
            "channel",
            "message__recipient",
            "message__customer__external_id",
            "user_agent",
        )[: limit + 1]
    )
