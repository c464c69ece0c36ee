"""The short link's views: the redirect (302 at once, the click recorded off the request path), the `+` page that
shows where a link leads, and the health check."""

from urllib.parse import urlsplit

from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from linktrack.common.client_ip import client_ip as _client_ip
from linktrack.redirect.clicks import click_stream_at_risk
from linktrack.redirect.front import RESOLUTION_KEY
from linktrack.redirect.resolve import Problem, campaign_sender_name, click_redirect, link_resolve

NO_STORE = "private, no-store"


@require_safe
def short_link_redirect(request, code: str):
    """A click: 302 to the destination at once; the click is recorded off the database (Redis stream)."""
    # Resolved already (and the click appended) when the short-domain front (front.py) handed the page to Django.
    resolution = request.META.get(RESOLUTION_KEY) or click_redirect(
        code=code,
        domain=getattr(request, "short_domain", ""),
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        method=request.method,
    )
    if resolution.expired_destination:
        response = HttpResponseRedirect(resolution.expired_destination)  # set by the campaign; the click never counts
    elif resolution.problem == Problem.UNAVAILABLE:
        return _unavailable(request)
    elif not resolution.found:
        return _not_found(request, expired=resolution.problem == Problem.EXPIRED)
    else:
        response = HttpResponseRedirect(resolution.target.destination)
    response["Cache-Control"] = NO_STORE
    # An empty body said to be empty: the server need not frame it (chunked), and the client reads no further.
    response["Content-Length"] = str(len(response.content))
    return response


@require_safe
def short_link_inspect(request, code: str):
    """`<short link>+`: where a link leads and who sent it, without going there and without counting a click, so a
    wary recipient can check a link before opening it."""
    resolution = link_resolve(code=code, domain=getattr(request, "short_domain", ""))
    if resolution.problem == Problem.UNAVAILABLE:
        return _unavailable(request)
    if not resolution.found:
        return _not_found(request, expired=resolution.problem == Problem.EXPIRED)
    target = resolution.target
    try:
        sender = campaign_sender_name(campaign_id=target.campaign_id)
    except DatabaseError:
        return _unavailable(request)
    context = {
        "destination": target.destination,
        "destination_host": urlsplit(target.destination).hostname,
        "sender": sender,
        "short_link": request.path.removesuffix("+"),
    }
    response = render(request, "linktrack/inspect.html", context)
    response["Cache-Control"] = NO_STORE
    return response


def short_link_not_found(request, exception=None):
    return _not_found(request, expired=False)


def _not_found(request, *, expired: bool):
    response = render(request, "linktrack/not_found.html", {"expired": expired}, status=404)
    response["Cache-Control"] = NO_STORE
    return response


# How long a phone is asked to wait before opening the link again (Retry-After).
RETRY_AFTER_SECONDS = 60


def _unavailable(request):
    """The link could not be looked up (database down, link not cached): a page asking to try again, never a 500."""
    response = render(request, "linktrack/unavailable.html", status=503)
    response["Cache-Control"] = NO_STORE
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def healthz(request):
    """For load balancers and compose: the app is up and its database answers (200 "ok"). A click stream whose
    Redis would lose clicks on a restart adds a warning line, still 200: the app works, the setup is at risk."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    at_risk = click_stream_at_risk()
    return HttpResponse(f"ok\nwarning: {at_risk}" if at_risk else "ok", content_type="text/plain")
