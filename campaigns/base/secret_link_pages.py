"""Pages behind a secret link in an email (unsubscribe, stop summary emails): no sign-in, the signed token is the
authority. They are never cached or indexed, and a mail app's one-click unsubscribe (RFC 8058) may POST to them
with `List-Unsubscribe=One-Click` and no cookie or CSRF token; any other POST must pass the CSRF check."""

from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render


def secret_link_page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def is_one_click(request) -> bool:
    return request.POST.get("List-Unsubscribe") == "One-Click"


def csrf_refusal(request) -> HttpResponse | None:
    """The CSRF check's refusal of a POST that is not a one-click unsubscribe, or None when it may go on. The
    view itself is csrf_exempt so that the one-click POST gets through."""
    if is_one_click(request):
        return None
    return CsrfViewMiddleware(lambda _: None).process_view(request, None, (), {})
