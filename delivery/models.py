"""Messages and their status machine, tests sent from the preview, gateway configurations, the gateway log, and
receipts that came before their message's hand-over was recorded."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Channel, TimeStamped

# What a message to an erased customer shows as its recipient (campaigns.customers.erasure).
ERASED_RECIPIENT = "erased"


class CampaignMessages(models.Manager):
    """A campaign's messages to its recipients, without the tests (proofs) a manager sent to themselves.

    The one place proofs are left out: every report, count, export, dispatch and frequency-cap query goes through
    `Message.objects`. A query that must see proofs too (sending one, applying its receipt, its short link's
    redirect) uses `Message.with_proofs`. Joins from another model (`messages__...`) bypass managers: add
    `messages__proof__isnull=True` there.
    """

    def get_queryset(self):
        return super().get_queryset().filter(proof__isnull=True)


class Message(TimeStamped):
    """One message to one recipient of a campaign, and what happened to it (or, with `proof`, to a test recipient)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Handing to the gateway"
        SENT = "sent", "Sent, waiting for a receipt"
        DELIVERED = "delivered", "Delivered"
        NOT_DELIVERED = "not_delivered", "Not delivered"
        NOT_SENT = "not_sent", "Not sent"
        UNKNOWN = "unknown", "Unknown"

    FINAL_STATUSES = (Status.DELIVERED, Status.NOT_DELIVERED, Status.NOT_SENT, Status.UNKNOWN)

    # Not indexed on its own: the unique (campaign, customer) constraint and the campaign report's index both start
    # with it, and each index is one more entry to write for every change of a message's status.
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    # Indexed with created_at below, not on its own. None only for a proof, whose recipient is no customer.
    customer = models.ForeignKey(
        "campaigns.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.CharField(max_length=254, help_text="E.164 number or email address.")
    body = models.TextField(blank=True, help_text="The SMS text, or the text part of an email.")
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    html_body = models.TextField(blank=True, help_text="Email only: the HTML part.")
    segments = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    reason_code = models.CharField(max_length=40, blank=True)
    gateway_error = models.CharField(max_length=100, blank=True, help_text="The gateway's own code, kept raw.")
    gateway_message_id = models.CharField(max_length=100, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Set for a test sent from the preview: left out of every report (see CampaignMessages).
    proof = models.ForeignKey(
        "delivery.Proof", null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )

    objects = CampaignMessages()
    with_proofs = models.Manager()

    class Meta:
        # Saving, deleting and following a relation read every row (Django's base manager); lists and reports
        # read `objects`.
        base_manager_name = "with_proofs"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="message_unique_campaign_customer"),
        ]
        indexes = [
            # Receipts find their message by the gateway's id.
            models.Index(fields=["gateway_message_id"], condition=~Q(gateway_message_id=""), name="message_gateway_id"),
            # The campaign report counts messages by status and reason.
            models.Index(fields=["campaign", "status", "reason_code"], name="message_campaign_status"),
            # A customer's messages, newest first (their page, erasure, finding a message), and how many they got
            # in the last days (the frequency cap): one index serves both.
            models.Index(fields=["customer", "created_at"], name="message_customer_created"),
            # Attribution finds the messages that reached a customer in the days before a purchase
            # (campaigns.customers.attribution).
            models.Index(fields=["customer", "sent_at"], name="message_customer_sent"),
            # The no-receipt sweep finds messages waiting since before a cut-off.
            models.Index(fields=["sent_at"], condition=Q(status="sent"), name="message_waiting_sent_at"),
            # The preview lists a proof's messages; campaign messages (nearly all) are not in it.
            models.Index(fields=["proof"], condition=Q(proof__isnull=False), name="message_proof"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    def mark_not_sent(self, reason_code: str) -> None:
        """In memory only: the caller saves (usually in bulk)."""
        self.status = self.Status.NOT_SENT
        self.reason_code = reason_code
        self.finished_at = timezone.now()


class Proof(models.Model):
    """A test of a draft campaign's message, sent from its preview to a few of the manager's own numbers or
    addresses: the real message, short links and gateway, paid in credits, in no report (see CampaignMessages).
    "Send a test" on screen; "proof" in code, where a `test_…` function would be collected by pytest as a test."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="proofs")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveSmallIntegerField()
    credits = models.PositiveIntegerField(default=0, help_text="Credits taken: one per segment accepted.")

    class Meta:
        ordering = ["-sent_at", "-pk"]
        # The preview lists a campaign's latest proofs; the hourly limit counts its recent ones.
        indexes = [models.Index(fields=["campaign", "-sent_at"], name="proof_campaign_sent")]

    def __str__(self) -> str:
        return f"test of {self.campaign_id} to {self.recipients} ({self.sent_at:%Y-%m-%d %H:%M})"


class GatewayConfig(TimeStamped):
    """How one org sends one channel: which adapter, its settings, and its secrets.

    `credentials` holds secrets (passwords, API keys, webhook secrets): it is write-only in the admin and never
    rendered on a page; the gateway log redacts its values.
    """

    class Kind(models.TextChoices):
        SIMULATED = "simulated", "Simulated"
        HTTP = "http", "HTTP (JSON)"
        SMPP = "smpp", "SMPP"
        EMAIL = "email", "Email (SMTP)"

    org = models.ForeignKey("campaigns.Org", on_delete=models.CASCADE, related_name="gateway_configs")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    settings = models.JSONField(default=dict, blank=True, help_text="Non-secret settings of the adapter.")
    credentials = models.JSONField(default=dict, blank=True, help_text="Secrets; never shown back.")
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["org", "channel"], condition=Q(is_active=True), name="gatewayconfig_one_active_per_channel"
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.org} {self.channel} via {self.get_kind_display()}"

    def secret_values(self) -> list[str]:
        return [str(value) for value in self.credentials.values() if value not in (None, "")]


class GatewayExchange(models.Model):
    """One exchange with a gateway (a submit, a receipt, an inbound reply), secrets redacted. Support reads it."""

    class Operation(models.TextChoices):
        SUBMIT = "submit", "Submit"
        RECEIPT = "receipt", "Receipt"
        INBOUND = "inbound", "Inbound reply"
        CHECK = "check", "Connection check"

    created_at = models.DateTimeField(default=timezone.now)
    # Indexed with created_at below, not on its own.
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="exchanges", db_index=False
    )
    gateway = models.ForeignKey(GatewayConfig, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    gateway_kind = models.CharField(max_length=16)
    operation = models.CharField(max_length=16, choices=Operation.choices)
    request = models.TextField(blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        # The gateway log page lists one message's exchanges in order.
        indexes = [models.Index(fields=["message", "created_at"], name="exchange_message_created")]

    def __str__(self) -> str:
        return f"{self.operation} {self.gateway_kind} ({self.created_at:%Y-%m-%d %H:%M:%S})"


class PendingReceipt(models.Model):
    """A final receipt for a gateway id no message carries yet (the receipt overtook the submit response)."""

    received_at = models.DateTimeField(default=timezone.now)
    org = models.ForeignKey("campaigns.Org", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    gateway_message_id = models.CharField(max_length=100)
    state = models.CharField(max_length=16)
    reason_code = models.CharField(max_length=40, blank=True)
    gateway_error = models.CharField(max_length=100, blank=True)

    class Meta:
        # messages_send looks up receipts by the ids it has just saved.
        indexes = [models.Index(fields=["gateway_message_id"], name="pendingreceipt_gateway_id")]

    def __str__(self) -> str:
        return f"{self.gateway_message_id} {self.state}"


class MessageCounts(models.Model):
    """A campaign's messages per status and reason, kept by database triggers on the message table (migration
    0007): every insert, change of status or reason, and delete adds a row of changes here, in the same transaction,
    whoever made it (one message or a bulk update of a million). Reports add the rows up instead of counting
    messages; delivery.services.message_counts_merge merges them. Tests from the preview are never counted.

    No foreign key: a campaign's messages are deleted before the campaign, and their last changes would point at
    it; the merge drops the rows of campaigns that are gone.
    """

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Message.Status.choices)
    reason_code = models.CharField(max_length=40, blank=True)
    messages = models.IntegerField()
    first_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["campaign", "status"], name="messagecounts_campaign_status")]

    def __str__(self) -> str:
        return f"{self.messages} {self.status} messages of campaign {self.campaign_id}"


class FailureStreak(models.Model):
    """How many of a customer's latest messages on a channel ("any" for all channels) in a row failed to deliver
    because of their number or address: the failures newer than their latest delivery (up to 21). Kept by database
    triggers on the message table (migration 0008), so the segment "whose last K messages all failed" is one indexed
    lookup. A message's outcome counts as in campaigns.customers.segments: tests from the preview never; unknown,
    NDNC and DLT outcomes are skipped.

    Two final statuses of one customer's messages committed in the same instant may leave it one behind until their
    next final status (each trigger counts from what was committed when it ran).
    """

    customer = models.ForeignKey(
        "campaigns.Customer", on_delete=models.DO_NOTHING, db_constraint=False, related_name="failure_streaks"
    )
    channel = models.CharField(max_length=8)
    failures = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "channel"], name="failurestreak_customer_channel")]
        indexes = [models.Index(fields=["channel", "failures"], name="failurestreak_channel_failures")]

    def __str__(self) -> str:
        return f"{self.failures} failures in a row on {self.channel}"
