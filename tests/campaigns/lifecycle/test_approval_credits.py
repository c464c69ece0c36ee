"""Approving a launch checks the org's credits against the campaign preview's estimate: short of them, the campaign
keeps waiting and the approver reads how many are needed and how many the org has."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, CampaignEvent, Customer, Org, User
from delivery.models import Message
from tests.factories import create_campaign

Status = Campaign.Status
NEEDS = re.compile(r"Acme Retail has ([\d,]+) credits, but this campaign needs ([\d,]+) \((\d+) messages\)")


@pytest.fixture
def waiting(org, template, manager, customers, django_capture_on_commit_callbacks) -> Campaign:
    """A campaign to the org's 10 customers, sent for approval by the manager."""
    Org.objects.filter(pk=org.pk).update(launch_needs_approval=True)
    campaign = create_campaign(template, manager, name="Diwali sale")
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_launch(campaign=campaign, user=manager)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL
    return campaign


def _approve(user: User, campaign: Campaign, capture) -> list[str]:
    client = Client()
    client.force_login(user)
    with capture(execute=True):
        response = client.post(reverse("campaigns:approve", args=[campaign.pk]), follow=True)
    return [html.unescape(str(message)) for message in response.context["messages"]]


def _set_credits(org: Org, credits: int) -> None:
    Org.objects.filter(pk=org.pk).update(credits=credits)


def test_approval_short_of_credits_keeps_it_waiting_and_says_needed_and_available(
    org, waiting, colleague, django_capture_on_commit_callbacks
):
    # given an org without credits: the approver reads what the campaign needs, and nothing is sent
    _set_credits(org, 0)
    [said] = _approve(colleague, waiting, django_capture_on_commit_callbacks)
    available, needed, messages = NEEDS.search(said).groups()
    needed = int(needed.replace(",", ""))
    assert available == "0" and messages == "10" and needed >= 10  # at least one SMS segment each
    assert f"{needed:,} more are needed" in said and "It keeps waiting" in said

    # when one credit short of it, then still refused, with the numbers
    _set_credits(org, needed - 1)
    [said] = _approve(colleague, waiting, django_capture_on_commit_callbacks)
    assert f"Acme Retail has {needed - 1:,} credits, but this campaign needs {needed:,}" in said
    assert Campaign.objects.get(pk=waiting.pk).status == Status.AWAITING_APPROVAL
    assert not Message.objects.filter(campaign=waiting).exists()
    kinds = list(CampaignEvent.objects.filter(campaign=waiting).values_list("kind", flat=True))
    assert CampaignEvent.Kind.APPROVED not in kinds

    # when the org has exactly the estimate, then it is approved and sent, and dispatch charges exactly that
    _set_credits(org, needed)
    said = _approve(colleague, waiting, django_capture_on_commit_callbacks)
    waiting.refresh_from_db()
    assert any(message.startswith("Approved.") for message in said)
    assert waiting.status == Status.DISPATCHED and waiting.credits_charged == needed
    assert Message.objects.filter(campaign=waiting).count() == 10
    assert not Message.objects.filter(campaign=waiting, reason_code="out_of_credits").exists()


def test_an_email_campaign_needs_a_credit_per_email(
    org, template, manager, customers, colleague, django_capture_on_commit_callbacks
):
    # given an email campaign to the 10 customers, who have email addresses
    template.channel = "email"
    template.subject = "Your order"
    template.save()
    for customer in customers:
        Customer.objects.filter(pk=customer.pk).update(email=f"c{customer.pk}@example.test")
    Org.objects.filter(pk=org.pk).update(launch_needs_approval=True, credits=9)
    campaign = create_campaign(template, manager, name="Email sale")
    with django_capture_on_commit_callbacks(execute=True):
        services.campaign_launch(campaign=campaign, user=manager)

    [said] = _approve(colleague, campaign, django_capture_on_commit_callbacks)

    assert "Acme Retail has 9 credits, but this campaign needs 10 (10 messages)" in said
    assert Campaign.objects.get(pk=campaign.pk).status == Status.AWAITING_APPROVAL
