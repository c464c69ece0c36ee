"""Click webhooks: an org's own system is told about each click by a person on its links, within a minute.

Every 30 seconds beat queues a delivery for each active webhook that is due. A delivery claims its webhook (so two
workers never send the same batch at once), reads the org's clicks by a person after the cursor, oldest first, 500
at a time, and POSTs them as one signed JSON body. A 2xx answer moves the cursor to the batch's last click; anything
else keeps it, so the same clicks (same ids) are sent again later: delivery is at least once, and receivers dedupe
by click id. Failures are retried after 30 s, doubling up to an hour; after 24 hours of nothing but failures the
webhook stops, says why, and keeps its cursor, so resuming it delivers everything it missed.

Every call is signed like Stripe's: `X-Linktrack-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`
with the webhook's secret. The receiver recomputes it over the raw body and refuses old timestamps.

The address is checked twice: when it is saved (https, no credentials in it) and when each call is made. At call
time its host is resolved and the call goes to the very address that was checked (no second lookup a DNS answer
could change in between); private, loopback, link-local (cloud metadata), multicast and reserved addresses are
refused unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on (the rules live in linktrack.common.outbound, shared with the
campaign link check). Redirects are never followed.

Nothing here touches the redirect or the click flush: deliveries only read the clicks table.
"""

import logging
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from insights.models import ClickWebhook
from insights.webhooks.calls import json_body, webhook_post
from linktrack.counts.devices import DEVICE_NAMES, device_of
from linktrack.models import Click

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 4
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
# Held while a run delivers, so that no other worker claims the webhook; longer than a run can take (a few batches
# of at most a 5 s connect and a 5 s answer each), short enough that a crashed worker's clicks go out soon after.
RUN_LEASE = timedelta(minutes=2)
# Clicks younger than this wait for the next run. The cursor is a click id, and ids are handed out before their
# transaction commits: a click stored at the same moment with a lower id could become visible only after a higher
# one was delivered, and would then be behind the cursor for ever. A few seconds let such a click land first.
CLICK_SETTLE = timedelta(seconds=10)
DUE_PER_RUN = 1000  # webhooks queued per beat tick; the rest are due again at the next one

logger = logging.getLogger(__name__)


def _due() -> Q:
    return Q(is_active=True) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))


def due_webhook_ids() -> list[int]:
    """Webhooks to deliver now: those waiting longest first."""
    webhooks = ClickWebhook.objects.filter(_due()).order_by("next_attempt_at", "pk")
    return list(webhooks.values_list("pk", flat=True)[:DUE_PER_RUN])


def _claim(webhook_id: int) -> ClickWebhook | None:
    """The webhook, now held by this run for RUN_LEASE; None when it is not due or another run holds it."""
    with transaction.atomic():
        webhook = ClickWebhook.objects.select_for_update(skip_locked=True).filter(_due(), pk=webhook_id).first()
        if webhook is None:
            return None
        webhook.next_attempt_at = timezone.now() + RUN_LEASE
        ClickWebhook.objects.filter(pk=webhook.pk).update(next_attempt_at=webhook.next_attempt_at)
    return webhook


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _next_batch(webhook: ClickWebhook) -> list[dict]:
    """The org's next clicks by a person after the cursor, oldest first, stopping before the first that is too
    recent (see CLICK_SETTLE). One query, whatever the number of clicks."""
    rows = (
        Click.objects.filter(campaign__org_id=webhook.org_id, is_bot=False, pk__gt=webhook.last_click_id)
        .order_by("pk")
        .values_list(
            "pk",
            "clicked_at",
            "campaign_id",
            "campaign__name",
            "channel",
            "short_link__destination",
            "message__recipient",
            "message__customer__external_id",
            "user_agent",
        )[:BATCH_SIZE]
    )
    settled_before = timezone.now() - CLICK_SETTLE
    batch = []
    for click_id, clicked_at, campaign_id, campaign_name, channel, link, recipient, external_id, agent in rows:
        if clicked_at > settled_before:
            break
        batch.append(
            {
                "id": click_id,
                "clicked_at": _iso(clicked_at),
                "campaign_id": campaign_id,
                "campaign_name": campaign_name,
                "channel": channel,
                "link": link,
                "recipient": recipient,
                "customer_external_id": external_id or None,
                "device": DEVICE_NAMES[device_of(agent)],
            }
        )
    return batch


def backoff(failures_in_a_row: int) -> timedelta:
    """30 s after the first failure, doubling after each one, at most an hour."""
    return min(FIRST_BACKOFF * 2 ** (max(failures_in_a_row, 1) - 1), MAX_BACKOFF)


def _record_delivered(webhook: ClickWebhook, *, last_click_id: int, more: bool) -> bool:
    """Move the cursor past a delivered batch; True when the run may go on with the next one."""
    now = timezone.now()
    changes = {
        "last_click_id": last_click_id,
        "last_delivered_at": now,
        "failures_in_a_row": 0,
        "failing_since": None,
        # Keep the lease while the run goes on; otherwise due again at the next beat tick.
        "next_attempt_at": webhook.next_attempt_at if more else None,
    }
    # Only from the cursor this run read: should a lease ever run out mid-run, two runs cannot both move it.
    moved = ClickWebhook.objects.filter(pk=webhook.pk, last_click_id=webhook.last_click_id)
    if not moved.filter(is_active=True).update(**changes):
        # Paused while the batch was in flight (or moved by another run): keep what was delivered, go no further.
        moved.update(**changes)
        return False
    webhook.last_click_id = last_click_id
    return more


def _record_failed(webhook: ClickWebhook, words: str) -> None:
    now = timezone.now()
    failures = webhook.failures_in_a_row + 1
    failing_since = webhook.failing_since or now
    changes = {
        "failures_in_a_row": failures,
        "failing_since": failing_since,
        "last_error": words[:500],
        "last_failed_at": now,
        "next_attempt_at": now + backoff(failures),
    }
    if now - failing_since >= GIVE_UP_AFTER:
        changes["is_active"] = False
        changes["stopped_reason"] = (
            f"Stopped on {timezone.localtime(now):%d %b %Y, %H:%M}: every delivery failed for "
            f"{GIVE_UP_AFTER.total_seconds() / 3600:g} hours ({failures} attempts). Last error: {words}"
        )[:500]
    ClickWebhook.objects.filter(pk=webhook.pk).update(**changes)


def click_webhook_deliver(*, webhook_id: int) -> int:
    """Deliver the webhook's next clicks, a few batches at most; returns how many clicks its endpoint received.

    A fixed number of queries per batch, whatever the number of clicks in it.
    """
    webhook = _claim(webhook_id)
    if webhook is None:
        return 0
    delivered = 0
    for batch_number in range(1, MAX_BATCHES_PER_RUN + 1):
        batch = _next_batch(webhook)
        if not batch:
            ClickWebhook.objects.filter(pk=webhook.pk, next_attempt_at=webhook.next_attempt_at).update(
                next_attempt_at=None
            )
            break
        result = webhook_post(webhook.url, webhook.secret, json_body({"clicks": batch}))
        if not result.ok:
            _record_failed(webhook, result.words)
            logger.info("click webhook %s failed: %s", webhook.pk, result.words)
            break
        delivered += len(batch)
        more = len(batch) == BATCH_SIZE and batch_number < MAX_BATCHES_PER_RUN
        if not _record_delivered(webhook, last_click_id=batch[-1]["id"], more=more):
            break
    return delivered
