"""The message page: one message as it was sent and what became of it, for the org's managers and support staff."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from delivery.reports.message_page import message_page, messages_for_user


@login_required
def message_detail(request, pk: int):
    """Another org's message is a 404, exactly like one that does not exist."""
    message = get_object_or_404(
        messages_for_user(request.user).select_related("campaign__org", "campaign__template__sender", "customer"), pk=pk
    )
    return render(
        request,
        "delivery/message.html",
        {
            "page": message_page(message=message, with_gateway_log=request.user.is_staff),
            "message": message,
            "log_keep_days": settings.GATEWAY_LOG_KEEP_DAYS,
        },
    )
