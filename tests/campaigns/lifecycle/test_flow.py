"""The whole flow through the web pages, as a campaign manager would do it."""

import re

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import Message
from tests.factories import PASSWORD, CampaignFactory

PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)


@pytest.fixture
def signed_in(client, manager):
    response = client.post(reverse("login"), {"username": manager.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_manager_creates_launches_and_sees_a_click_counted(
    signed_in, template, customers, django_capture_on_commit_callbacks, settings
):
    settings.SIMULATED_GATEWAY_MIX = "delivered:80,undeliverable:20"
    # given a template with a name slot and a link slot
    page = signed_in.get(reverse("campaigns:new"), {"template": template.pk})
    assert "Variable 2 ({#var#}) from" in page.content.decode()

    # when the manager saves and launches a campaign whose second slot is a link
    response = signed_in.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {
            "name": "Shipping update",
            "slot_1_source": "field",
            "slot_1_value": "name",
            "slot_2_source": "url",
            "slot_2_value": "https://shop.acme.test/track?o=1",
        },
    )
    campaign = Campaign.objects.get(name="Shipping update")
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"})

    # then every message was rewritten, handed to the simulated gateway and got a final receipt
    messages = list(Message.objects.filter(campaign=campaign).order_by("customer_id"))
    assert len(messages) == 10
    assert {m.status for m in messages} <= {Message.Status.DELIVERED, Message.Status.NOT_DELIVERED}
    assert all(m.gateway_message_id for m in messages)
    body = messages[0].body
    assert body.startswith("Hi Customer 1, your order has shipped. Track it: 127.0.0.1:8000/s/")
    code = re.search(r"/s/(\w+) - Acme$", body).group(1)
    assert len(code) == 10

    # and the short URL redirects to the original link and counts the click
    click = signed_in.get(f"/s/{code}", HTTP_USER_AGENT=PHONE)
    assert click.status_code == 302 and click["Location"] == "https://shop.acme.test/track?o=1"
    page = signed_in.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    delivered = sum(m.status == Message.Status.DELIVERED for m in messages)
    assert f'data-figure="delivered">{delivered}<' in page
    assert f'data-figure="not_delivered">{10 - delivered}<' in page
    assert 'data-figure="unique_clicks">1<' in page and 'data-figure="total_clicks">1<' in page


def test_link_in_fixed_text_is_refused_next_to_the_form(signed_in, org, sender):
    from campaigns.models import Template

    template = Template.objects.create(
        dlt_template_id="1707160000000000009",
        org=org,
        name="Fixed link",
        sender=sender,
        body="Sale! Visit www.acme.test/sale now, {#var#}",
    )
    response = signed_in.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {"name": "Bad", "slot_1_source": "text", "slot_1_value": "friend"},
    )
    assert response.status_code == 200
    assert "The link &#x27;www.acme.test/sale&#x27; is in the fixed text" in response.content.decode()
    assert not Campaign.objects.exists()


def test_another_orgs_campaign_is_not_found(client, outsider, template):
    campaign = CampaignFactory(org=template.org, name="Private", template=template)
    client.force_login(outsider)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("campaigns:launch", args=[campaign.pk])).status_code == 404
    assert client.get(reverse("campaigns:new"), {"template": template.pk}).context["choice"].errors
    assert "Private" not in client.get(reverse("campaigns:list")).content.decode()


def test_anonymous_user_is_sent_to_login(client, template):
    campaign = CampaignFactory(org=template.org, name="Private", template=template)
    for url in (
        reverse("campaigns:list"),
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:new"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_support_staff_sees_every_org(client, support, template):
    campaign = CampaignFactory(org=template.org, name="Visible to support", template=template)
    client.force_login(support)
    assert client.get(reverse("campaigns:detail", args=[campaign.pk])).status_code == 200


def test_launching_twice_dispatches_once(client, manager, template, customers, django_capture_on_commit_callbacks):
    campaign = CampaignFactory(
        org=template.org,
        name="Twice",
        template=template,
        slot_values=[{"source": "text", "value": "friend"}, {"source": "url", "value": "www.acme.test"}],
    )
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True) as first:
        client.post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"})
    launched_at = Campaign.objects.get(pk=campaign.pk).launched_at
    with django_capture_on_commit_callbacks(execute=True) as second:
        client.post(reverse("campaigns:launch", args=[campaign.pk]), {"confirmed": "1"})
    assert len(first) >= 1 and second == []
    assert Campaign.objects.get(pk=campaign.pk).launched_at == launched_at
    assert Message.objects.filter(campaign=campaign).count() == 10
