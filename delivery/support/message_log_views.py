"""Support staff: every exchange with the gateway about one message, secrets redacted."""

import logging

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import get_object_or_404, render

from delivery import reasons
from delivery.models import Message
from delivery.reports import selectors

logger = logging.getLogger(__name__)


@staff_member_required
def message_gateway_log(request, pk: int):
    """Support staff: every exchange with the gateway about one message, secrets redacted."""
    message = get_object_or_404(Message.with_proofs.select_related("campaign__org"), pk=pk)
    return render(
        request,
        "delivery/message_log.html",
        {
            "message": message,
            "masked": selectors.masked_recipient(message.recipient),
            "reason": reasons.reason_for(selectors.reason_of(message)) if message.status != "delivered" else None,
            "exchanges": message.exchanges.order_by("created_at", "pk"),
        },
    )
