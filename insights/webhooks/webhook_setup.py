"""Setting up an org's click webhook from its page: create it, change its address, rotate its secret, pause and
resume it, send a test event."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.models import Org, User
from insights.models import ClickWebhook
from insights.webhooks.calls import CallResult, json_body, validate_webhook_url, webhook_post
from linktrack.models import Click

SECRET_START = "whsec_"


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
    return webhook_post(webhook.url, webhook.secret, json_body({"test": True}))
