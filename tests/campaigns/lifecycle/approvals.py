"""Helpers of the launch approval tests: a member's client and page, asking and approving, the history."""

import html

from django.test import Client
from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, CampaignEvent, User

Status, Kind = Campaign.Status, CampaignEvent.Kind
PUBLIC = "https://campaigns.acme.example"


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _page(user: User, campaign: Campaign) -> str:
    response = _as(user).get(reverse("campaigns:detail", args=[campaign.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _events(campaign: Campaign) -> list[tuple[str, str | None, str]]:
    events = CampaignEvent.objects.filter(campaign=campaign).exclude(kind=Kind.CREATED).order_by("at", "pk")
    return [(e.kind, e.user.email if e.user else None, e.detail) for e in events.select_related("user")]


def _request(campaign: Campaign, user: User, capture, **launch) -> Campaign:
    with capture(execute=True):
        services.campaign_launch(campaign=campaign, user=user, **launch)
    return Campaign.objects.get(pk=campaign.pk)


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
