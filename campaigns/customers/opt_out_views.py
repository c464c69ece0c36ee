"""The public unsubscribe page of a campaign email's link (no login: the signed token is the authority)."""

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.base.secret_link_pages import csrf_refusal, is_one_click, secret_link_page
from campaigns.customers.opt_out import CONFIRMED, ONE_CLICK, email_opt_out_confirm, email_opt_out_for_token


@csrf_exempt  # only for the RFC 8058 one-click POST; every other POST is checked below
@require_http_methods(["GET", "HEAD", "POST"])
def email_unsubscribe(request, token: str):
    """GET asks (mail scanners fetch links, so it never unsubscribes); POST unsubscribes from email."""
    opt_out = email_opt_out_for_token(token=token)
    if opt_out is None:
        return secret_link_page(request, "campaigns/opt_out_not_found.html", {}, status=404)
    if request.method != "POST":
        return secret_link_page(request, "campaigns/opt_out.html", {"opt_out": opt_out})
    refusal = csrf_refusal(request)
    if refusal is not None:
        return refusal
    one_click = is_one_click(request)
    changed = email_opt_out_confirm(opt_out=opt_out, how=ONE_CLICK if one_click else CONFIRMED)
    return secret_link_page(request, "campaigns/opt_out_done.html", {"opt_out": opt_out, "already": not changed})
