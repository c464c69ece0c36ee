from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from linktrack.client_ip import client_ip as _client_ip
from linktrack.redirect import Problem, click_redirect

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
