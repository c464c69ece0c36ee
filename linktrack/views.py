from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from linktrack import services


@require_safe
def short_link_redirect(request, code: str):
    resolved = services.resolve(code)
    if resolved is None:
        return render(request, "linktrack/not_found.html", status=404)
    target, message_id = resolved
    services.click_record(
        target=target,
        message_id=message_id,
        ip=request.META.get("REMOTE_ADDR", ""),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        method=request.method,
    )
    response = HttpResponseRedirect(target.destination)
    response["Cache-Control"] = "private, no-store"
    return response


def healthz(request):
    """For load balancers and compose: the app is up and its database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
