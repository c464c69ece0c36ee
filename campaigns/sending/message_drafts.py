"""The rows dispatch prepares: each customer as plain values, the message drafted for them (checked, rendered or
not sent with a reason), and a batch of them stored in one statement."""

import re
from datetime import datetime

import phonenumbers
from django.db import connection
from django.utils import timezone

from campaigns.models import Channel
from delivery.bulk import copy_rows
from delivery.models import Message

_INDIAN_MOBILE = re.compile(r"^\+91[6-9]\d{9}$")


# What a prepared message's row holds besides the batch's campaign, channel and time; the other columns (gateway
# id, sent_at...) take their defaults.
_MESSAGE_COLUMNS = (
    "id",
    "customer_id",
    "recipient",
    "body",
    "subject",
    "html_body",
    "segments",
    "status",
    "reason_code",
    "finished_at",
)


class AudienceCustomer:
    """The columns of a customer that dispatch and rendering read, loaded as plain values.

    Building a Customer model instance per recipient cost about as much as rendering the message. `attributes`
    (JSON) is loaded only when a slot shows one; otherwise it is None, as for a customer without attributes.
    """

    __slots__ = ("attributes", "email", "email_subscribed", "external_id", "mobile", "name", "pk", "sms_subscribed")
    COLUMNS = ("pk", "name", "mobile", "email", "external_id", "sms_subscribed", "email_subscribed")

    def __init__(self, pk, name, mobile, email, external_id, sms_subscribed, email_subscribed, attributes=None):
        self.pk = pk
        self.name = name
        self.mobile = mobile
        self.email = email
        self.external_id = external_id
        self.sms_subscribed = sms_subscribed
        self.email_subscribed = email_subscribed
        self.attributes = attributes


class MessageDraft:
    """A message being prepared, as plain values: a batch of them is written in one COPY.

    MessageRenderer and the credit check fill it as they would a Message (body, segments, mark_not_sent); building
    Message model instances cost more than rendering them.
    """

    __slots__ = (
        "body",
        "customer",
        "finished_at",
        "html_body",
        "pk",
        "reason_code",
        "recipient",
        "segments",
        "status",
        "subject",
    )

    def __init__(self, customer: AudienceCustomer, recipient: str):
        self.pk: int | None = None
        self.customer = customer
        self.recipient = recipient
        self.body = self.subject = self.html_body = self.reason_code = ""
        self.segments = 0
        self.status = Message.Status.QUEUED
        self.finished_at: datetime | None = None

    def mark_not_sent(self, reason_code: str) -> None:
        """As Message.mark_not_sent."""
        self.status = Message.Status.NOT_SENT
        self.reason_code = reason_code
        self.finished_at = timezone.now()

    def message(self, *, campaign_id: int, channel: str) -> Message:
        return Message(
            pk=self.pk,
            campaign_id=campaign_id,
            customer_id=self.customer.pk,
            channel=channel,
            recipient=self.recipient,
            body=self.body,
            subject=self.subject,
            html_body=self.html_body,
            segments=self.segments,
            status=self.status,
            reason_code=self.reason_code,
            finished_at=self.finished_at,
        )


def normalised_recipient(channel: str, customer: AudienceCustomer) -> str | None:
    """E.164 number or lower-cased address; None when missing or invalid."""
    if channel == Channel.EMAIL:
        return normalised_email(customer.email)
    return normalised_mobile(customer.mobile)


def normalised_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    local, _, domain = email.partition("@")
    return email if local and "." in domain else None


def normalised_mobile(mobile: str | None) -> str | None:
    mobile = (mobile or "").strip()
    if _INDIAN_MOBILE.match(mobile):
        return mobile  # the common case, without the cost of a full parse
    if not mobile:
        return None
    try:
        number = phonenumbers.parse(mobile, "IN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def next_message_ids(count: int) -> list[int]:
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Message._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def messages_copy(campaign_id: int, channel: str, drafts: list[MessageDraft]) -> None:
    """Write a batch's messages, ids already taken, in one COPY."""
    if not drafts:
        return
    stamp = timezone.now()
    copy_rows(
        Message,
        _MESSAGE_COLUMNS,
        [
            (
                d.pk,
                d.customer.pk,
                d.recipient,
                d.body,
                d.subject,
                d.html_body,
                d.segments,
                d.status,
                d.reason_code,
                d.finished_at,
            )
            for d in drafts
        ],
        shared={"campaign_id": campaign_id, "channel": channel, "created_at": stamp, "updated_at": stamp},
    )
