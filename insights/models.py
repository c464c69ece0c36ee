"""API keys of the reporting API: a brand's BI tools read its campaign figures with one of these."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """One key of one org. The key itself is shown once, when it is created; only its hash is stored.

    Keys are 32 random bytes from `secrets`, so a fast hash (SHA-256) is right: there is nothing to guess that a slow
    password hash would protect, and a lookup by hash costs one indexed query per call.
    """

    org = models.ForeignKey("campaigns.Org", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “Power BI dashboard”.")
    prefix = models.CharField(max_length=8, help_text="The first characters after lt_, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)  # SHA-256 hex of the full key
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)  # to the minute: not written on every call
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The write scope: may also send transactions in (POST /api/v1/transactions/). Keys read only by default.
    can_write = models.BooleanField(
        default=False, help_text="May also send transactions in; otherwise the key only reads."
    )

    def __str__(self) -> str:
        return f"{self.name} (lt_{self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def shown_as(self) -> str:
        """How lists show the key: its beginning only."""
        return f"lt_{self.prefix}…"


class ClickWebhook(models.Model):
    """Where an org's own system is told about each click by a person, in signed JSON batches (push, beside the
    reporting API's pull).

    `last_click_id` is the cursor: every click of the org with a higher id is still to be delivered. It moves only
    when the receiver answered 2xx, so a failed batch is sent again (at least once; receivers dedupe by click id).
    The secret signs every call; it belongs to the org, whose managers see it on the webhooks page.
    """

    org = models.ForeignKey("campaigns.Org", on_delete=models.CASCADE, related_name="click_webhooks")
    url = models.URLField(max_length=2000, help_text="The org's endpoint; clicks are POSTed to it as JSON.")
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    # Why it is not active, in words: paused by someone, or stopped after failing for too long. Blank when active.
    stopped_reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_click_id = models.BigIntegerField(default=0)
    # Not before this moment: the backoff after a failure, or the lease of the run delivering right now.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_failed_at = models.DateTimeField(null=True, blank=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One endpoint per org: every click goes to the one system the brand named.
            models.UniqueConstraint(fields=["org"], name="clickwebhook_one_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.org} → {self.url}"

    @property
    def is_failing(self) -> bool:
        return self.failures_in_a_row > 0
