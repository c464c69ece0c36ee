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

import hashlib
import hmac
import http.client
import json
import logging
import secrets
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from campaigns.models import Org, User
from insights.models import ClickWebhook
from linktrack.common import outbound
from linktrack.common.outbound import tls_context
from linktrack.counts.devices import DEVICE_NAMES, device_of
from linktrack.models import Click

BATCH_SIZE = 500
MAX_BATCHES_PER_RUN = 4
TIMEOUT_SECONDS = 5.0
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
SIGNATURE_HEADER = "X-Linktrack-Signature"
USER_AGENT = "linktrack-webhooks"
SECRET_START = "whsec_"

logger = logging.getLogger(__name__)


# --- Addresses --------------------------------------------------------------------------------------------------


def private_addresses_allowed() -> bool:
    return bool(settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)


def validate_webhook_url(url: str) -> str:
    """The address, stripped, or a ValidationError saying in words what is wrong with it."""
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(
            "This is not a web address: write it whole, e.g. https://crm.acme.in/linktrack."
        ) from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValidationError("Write the whole address, starting with https://, e.g. https://crm.acme.in/linktrack.")
    if parts.username is not None or parts.password is not None:
        raise ValidationError(
            "Leave the user name and password out of the address: the signature on every call proves that it "
            "comes from linktrack, and an address is shown on pages and kept in logs."
        )
    if parts.scheme == "http" and not (private_addresses_allowed() and outbound.is_loopback_host(host)):
        raise ValidationError(
            "Use https://: clicks carry your customers' numbers and email addresses, so they travel encrypted. "
            "(http:// works only for an address on this machine while testing.)"
        )
    if port == 0:
        raise ValidationError("Port 0 cannot be called: leave the port out or write the one your system listens on.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            "linktrack cannot call this address as written: check its spelling (a web address has no spaces, and "
            "its host name only letters, digits, dots and hyphens)."
        ) from None
    literal = outbound.ip_literal(host)
    problem = outbound.address_problem(literal) if literal is not None else ""
    if problem and not private_addresses_allowed():
        raise ValidationError(
            f"{host} is {problem}: linktrack calls only addresses on the internet. Give the public address of "
            "your system."
        )
    if host.lower() in outbound.LOOPBACK_NAMES and not private_addresses_allowed():
        raise ValidationError("localhost is this machine: linktrack calls only addresses on the internet.")
    return url


class Refused(Exception):
    """A call linktrack will not make; the message says why, in words."""


def _addresses_to_call(host: str, port: int) -> list[str]:
    """The host's addresses, all checked (see linktrack.common.outbound), or Refused in the webhooks page's words."""
    try:
        return outbound.addresses_to_call(host, port, allow_private=private_addresses_allowed())
    except outbound.PrivateAddress as refused:
        raise Refused(
            f"Not sent: {refused.shown} {refused.problem}. linktrack calls only addresses on the internet."
        ) from None
    except outbound.Refused as refused:
        raise Refused(str(refused)) from None


# --- Calling the endpoint ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallResult:
    ok: bool
    words: str  # what happened, for the page: "answered 200 OK in 35 ms", "no answer within 5 seconds"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """The X-Linktrack-Signature value: `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _post(url: str, secret: str, body: bytes) -> CallResult:
    """POST `body`, signed, to `url`: one attempt, TIMEOUT_SECONDS to connect and as long for the answer."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        addresses = _addresses_to_call(host, port)
    except Refused as refused:
        return CallResult(False, str(refused))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(secret=secret, timestamp=int(time.time()), body=body),
        "Connection": "close",
    }
    started = time.monotonic()
    could_not_connect = ""
    for address in addresses:
        connection = outbound.pinned_connection(
            parts.scheme,
            host,
            port,
            address=address,
            timeout=TIMEOUT_SECONDS,
            # Looked up here at each call, so that tests can trust their own certificate authority.
            context=tls_context() if parts.scheme == "https" else None,
        )
        try:
            connection.connect()
        except ssl.SSLCertVerificationError as error:
            connection.close()
            return CallResult(False, f"The TLS certificate of {host} is not valid: {error.verify_message}.")
        except ssl.SSLError as error:
            connection.close()
            return CallResult(False, f"The TLS connection to {host} failed: {error.reason or error}.")
        except TimeoutError:
            connection.close()
            could_not_connect = f"Could not connect to {host} within {TIMEOUT_SECONDS:g} seconds."
            continue  # another address of the host may answer
        except OSError as error:
            connection.close()
            could_not_connect = f"Could not connect to {host}: {error.strerror or error}."
            continue
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()  # status and headers only: the body is never read
            return _result_of(response, int((time.monotonic() - started) * 1000))
        except TimeoutError:
            return CallResult(False, f"No answer from {host} within {TIMEOUT_SECONDS:g} seconds.")
        except http.client.RemoteDisconnected:
            return CallResult(False, f"{host} closed the connection without answering.")
        except http.client.HTTPException as error:
            return CallResult(False, f"{host} answered something that is not HTTP ({type(error).__name__}).")
        except OSError as error:
            return CallResult(False, f"The connection to {host} failed: {error.strerror or error}.")
        finally:
            connection.close()
    return CallResult(False, could_not_connect)


def _result_of(response: http.client.HTTPResponse, milliseconds: int) -> CallResult:
    answered = f"answered {response.status} {response.reason}".rstrip()
    if 200 <= response.status < 300:
        return CallResult(True, f"Your endpoint {answered} in {milliseconds} ms.")
    if 300 <= response.status < 400:
        where = response.getheader("Location", "")
        return CallResult(
            False,
            f"Your endpoint {answered}, a redirect{f' to {where[:200]}' if where else ''}. Redirects are not "
            "followed: give the final address.",
        )
    return CallResult(False, f"Your endpoint {answered}; only a 2xx answer counts as received.")


# --- Services: the webhooks page --------------------------------------------------------------------------------


def _new_secret() -> str:
    return SECRET_START + secrets.token_urlsafe(32)


@transaction.atomic
def click_webhook_create(*, org: Org, user: User, url: str) -> ClickWebhook:
    """The org's webhook, delivering the clicks that come after this moment (never the org's history)."""
    if ClickWebhook.objects.filter(org=org).exists():
        raise ValidationError(f"{org.name} already has a webhook: change its address instead.")
    webhook = ClickWebhook(
        org=org,
        url=validate_webhook_url(url),
        secret=_new_secret(),
        created_by=user,
        # Every click stored so far has an id up to the table's highest: the org's as much as any other.
        last_click_id=Click.objects.aggregate(highest=Max("pk"))["highest"] or 0,
    )
    webhook.full_clean()
    webhook.save()
    return webhook


def click_webhook_change_url(*, webhook: ClickWebhook, url: str) -> ClickWebhook:
    """Point the webhook elsewhere; clicks not yet delivered go to the new address, which is tried at once."""
    webhook.url = validate_webhook_url(url)
    webhook.full_clean()
    webhook.failures_in_a_row, webhook.failing_since, webhook.next_attempt_at = 0, None, None
    webhook.save(update_fields=["url", "failures_in_a_row", "failing_since", "next_attempt_at"])
    return webhook


def click_webhook_rotate_secret(*, webhook: ClickWebhook) -> ClickWebhook:
    webhook.secret = _new_secret()
    webhook.save(update_fields=["secret"])
    return webhook


def click_webhook_pause(*, webhook: ClickWebhook, user: User) -> bool:
    """Stop delivering (the cursor stays); False when it was not active."""
    reason = f"Paused by {user.email or user.get_username()} on {timezone.localtime():%d %b %Y, %H:%M}."
    paused = ClickWebhook.objects.filter(pk=webhook.pk, is_active=True).update(is_active=False, stopped_reason=reason)
    if paused:
        webhook.is_active, webhook.stopped_reason = False, reason
    return bool(paused)


def click_webhook_resume(*, webhook: ClickWebhook) -> bool:
    """Deliver again from where it stopped, at once; False when it was already active."""
    fields = {"is_active": True, "stopped_reason": "", "failures_in_a_row": 0, "failing_since": None}
    resumed = ClickWebhook.objects.filter(pk=webhook.pk, is_active=False).update(next_attempt_at=None, **fields)
    if resumed:
        for name, value in fields.items():
            setattr(webhook, name, value)
        webhook.next_attempt_at = None
    return bool(resumed)


def click_webhook_send_test(*, webhook: ClickWebhook) -> CallResult:
    """POST `{"test": true}`, signed as every delivery is. Changes nothing: neither the cursor nor the failures."""
    return _post(webhook.url, webhook.secret, _json({"test": True}))


# --- Delivery ---------------------------------------------------------------------------------------------------


def _json(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


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
        result = _post(webhook.url, webhook.secret, _json({"clicks": batch}))
        if not result.ok:
            _record_failed(webhook, result.words)
            logger.info("click webhook %s failed: %s", webhook.pk, result.words)
            break
        delivered += len(batch)
        more = len(batch) == BATCH_SIZE and batch_number < MAX_BATCHES_PER_RUN
        if not _record_delivered(webhook, last_click_id=batch[-1]["id"], more=more):
            break
    return delivered
