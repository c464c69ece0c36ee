"""The public unsubscribe page of a campaign email's link (no login: the signed token is the authority)."""

from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.opt_out import CONFIRMED, ONE_CLICK, email_opt_out_confirm, email_opt_out_for_token

# Nothing about the page may be cached or indexed: it names a person and acts on a secret link.
_NO_STORE = "private, no-store"


@csrf_exempt  # only for the RFC 8058 one-click POST; every other POST is checked below
@require_http_methods(["GET", "HEAD", "POST"])
def email_unsubscribe(request, token: str):
    """GET asks (mail scanners fetch links, so it never unsubscribes); POST unsubscribes from email."""
    opt_out = email_opt_out_for_token(token=token)
    if opt_out is None:
        return _page(request, "campaigns/opt_out_not_found.html", {}, status=404)
    if request.method != "POST":
        return _page(request, "campaigns/opt_out.html", {"opt_out": opt_out})
    # A mail app's one-click unsubscribe (RFC 8058) posts exactly this field, with no cookie and no CSRF token.
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    if not one_click:
        refusal = CsrfViewMiddleware(lambda _: None).process_view(request, None, (), {})
        if refusal is not None:
            return refusal
    changed = email_opt_out_confirm(opt_out=opt_out, how=ONE_CLICK if one_click else CONFIRMED)
    return _page(request, "campaigns/opt_out_done.html", {"opt_out": opt_out, "already": not changed})


def _page(request, template: str, context: dict, status: int = 200):
    response = render(request, template, context, status=status)
    response["Cache-Control"] = _NO_STORE
    response["X-Robots-Tag"] = "noindex"
    return response
