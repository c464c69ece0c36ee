"""View Details' CSV writes each message's time on the org's clock with its offset, as the click CSV does."""

import csv
import io
from datetime import UTC, datetime

from django.urls import reverse

from delivery.models import Message
from tests.factories import create_campaign, make_customers
from tests.helpers import launch


def test_the_csv_writes_times_in_the_orgs_time_zone_with_its_offset(
    client, manager, template, django_capture_on_commit_callbacks
):
    # given a message not delivered, sent at 04:45 UTC, of an org in India
    make_customers(template.org, 1)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    Message.objects.filter(campaign=campaign).update(
        status=Message.Status.NOT_DELIVERED,
        reason_code="undeliverable",
        sent_at=datetime(2026, 11, 20, 4, 45, tzinfo=UTC),
    )
    client.force_login(manager)

    # when the manager downloads those messages
    response = client.get(reverse("delivery:export", args=[campaign.pk, "not_delivered"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    # then the time is 10:15 in India, with +05:30
    assert [row["sent_at"] for row in rows] == ["2026-11-20T10:15:00+05:30"]
