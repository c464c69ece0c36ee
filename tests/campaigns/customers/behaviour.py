"""Behaviour conditions of segments, and a history of past messages and clicks to evaluate them on."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.customers.segments import customers_matching
from campaigns.models import Customer, Template
from delivery.models import Message, Proof
from linktrack.models import Click, ShortLink
from tests.factories import CampaignFactory, store_click

IST = ZoneInfo("Asia/Kolkata")


# Mid-morning in India: the org's calendar day (15 March) and UTC's agree here, but not at the boundary below.
NOW = datetime(2026, 3, 15, 10, 0, tzinfo=IST)
ND, OK = Message.Status.NOT_DELIVERED, Message.Status.DELIVERED


def clicked(days=30, channel="any", negate=False) -> dict:
    return {"behaviour": "clicked", "days": days, "channel": channel, "negate": negate}


def undelivered(messages=3, channel="sms", negate=False) -> dict:
    return {"behaviour": "undelivered", "messages": messages, "channel": channel, "negate": negate}


class History:
    """Past messages and clicks of an org's customers, each message from a campaign of its own (one message per
    customer and campaign), created at a chosen moment."""

    def __init__(self, org):
        self.org = org
        self.templates = {
            channel: Template.objects.create(org=org, name=f"Past {channel}", channel=channel, body="Hi {#var#}")
            for channel in ("sms", "email")
        }

    def message(self, customer, *, at=NOW, status=OK, channel="sms", reason="", proof=False) -> Message:
        campaign = CampaignFactory(
            org=self.org, name=f"Past {uuid.uuid4().hex[:8]}", template=self.templates[channel], status="dispatched"
        )
        message = Message.with_proofs.create(
            campaign=campaign,
            customer=customer,
            channel=channel,
            recipient=customer.mobile,
            status=status,
            reason_code=reason,
            proof=Proof.objects.create(campaign=campaign, recipients=1) if proof else None,
        )
        Message.with_proofs.filter(pk=message.pk).update(created_at=at)  # auto_now_add cannot be given
        return message

    def click(self, message: Message, *, at=NOW, bot=False) -> Click:
        link = ShortLink.objects.create(campaign=message.campaign, destination="https://acme.test/sale")
        return store_click(
            event_id=uuid.uuid4().hex,
            short_link=link,
            campaign=message.campaign,
            message=message,
            channel=message.channel,
            clicked_at=at,
            is_bot=bot,
        )

    def outcomes(self, customer, *statuses, channel="sms", end=NOW) -> None:
        """Messages one day apart, oldest first, the last a day before `end`; ("not_delivered", "ndnc") gives a
        reason."""
        for days_ago, outcome in enumerate(reversed(statuses), start=1):
            status, reason = outcome if isinstance(outcome, tuple) else (outcome, "")
            self.message(customer, at=end - timedelta(days=days_ago), status=status, channel=channel, reason=reason)


def people(org, *names, **attributes) -> dict[str, Customer]:
    first = Customer.objects.count() + 1
    return {
        name: Customer.objects.create(
            org=org, name=name, mobile=f"+9198100{n:05d}", email=f"{name}@acme.test", attributes=attributes
        )
        for n, name in enumerate(names, start=first)
    }


def names(org, conditions, moment=NOW) -> set[str]:
    return set(customers_matching(org=org, conditions=conditions, moment=moment).values_list("name", flat=True))
