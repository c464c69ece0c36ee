from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Channel, TimeStamped


class Message(TimeStamped):
    """One message to one recipient of a campaign, and what happened to it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SUBMITTING = "submitting", "Handing to the gateway"
        SENT = "sent", "Sent, waiting for a receipt"
        DELIVERED = "delivered", "Delivered"
        NOT_DELIVERED = "not_delivered", "Not delivered"
        NOT_SENT = "not_sent", "Not sent"
        UNKNOWN = "unknown", "Unknown"

    FINAL_STATUSES = (Status.DELIVERED, Status.NOT_DELIVERED, Status.NOT_SENT, Status.UNKNOWN)

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="messages")
    customer = models.ForeignKey("campaigns.Customer", on_delete=models.CASCADE, related_name="messages")
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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="message_unique_campaign_customer"),
        ]
        indexes = [
            # Receipts find their message by the gateway's id.
            models.Index(fields=["gateway_message_id"], condition=~Q(gateway_message_id=""), name="message_gateway_id"),
            # The campaign report counts messages by status and reason.
            models.Index(fields=["campaign", "status", "reason_code"], name="message_campaign_status"),
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
