"""The short link's views: the redirect (302 at once, the click recorded off the request path), the `+` page that
shows where a link leads, and the health check."""

from urllib.parse import urlsplit

from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from linktrack.common.client_ip import client_ip as _client_ip
from linktrack.redirect.resolve import Problem, campaign_sender_name, click_redirect, link_resolve

NO_STORE = "private, no-store"


@require_safe
def short_link_redirect(request, code: str):
    """A click: 302 to the destination at once; the click is recorded off the database (Redis stream)."""
    resolution = click_redirect(
        code=code,
        domain=getattr(request, "short_domain", ""),
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        method=request.method,
    )
    if resolution.expired_destination:
        response = HttpResponseRedirect(resolution.expired_destination)  # set by the campaign; the click never counts
    elif not resolution.found:
        return _not_found(request, expired=resolution.problem == Problem.EXPIRED)
    else:
        response = HttpResponseRedirect(resolution.target.destination)
    response["Cache-Control"] = NO_STORE
    return response


@require_safe
def short_link_inspect(request, code: str):
    """`<short link>+`: where a link leads and who sent it, without going there and without counting a click, so a
    wary recipient can check a link before opening it."""
    resolution = link_resolve(code=code, domain=getattr(request, "short_domain", ""))
    if not resolution.found:
        return _not_found(request, expired=resolution.problem == Problem.EXPIRED)
    target = resolution.target
    context = {
        "destination": target.destination,
        "destination_host": urlsplit(target.destination).hostname,
        "sender": campaign_sender_name(campaign_id=target.campaign_id),
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


def healthz(request):
    """For load balancers and compose: the app is up and its database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
