"""Behaviour segments on the segment page, and evaluated when a campaign sends."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from campaigns.customers.segments import segment_save
from campaigns.models import Segment
from delivery.models import Message
from tests.campaigns.customers.behaviour import ND, clicked, people, undelivered
from tests.factories import create_campaign
from tests.helpers import launch

# --- Pages -------------------------------------------------------------------------------------------------------


def test_a_manager_adds_behaviour_conditions_on_the_segment_page(client, manager, org, history):
    who = people(org, "reachable_clicker", "dead_clicker", "dormant", city="Pune")
    now = timezone.now()
    for customer in who.values():
        history.click(history.message(customer, at=now - timedelta(days=5)), at=now - timedelta(days=45))
    for customer in (who["reachable_clicker"], who["dead_clicker"]):
        history.click(history.message(customer, at=now - timedelta(days=4)), at=now - timedelta(days=1))
    history.outcomes(who["dead_clicker"], ND, ND, end=now)
    client.force_login(manager)
    fields = {
        "org": org.pk,
        "name": "Engaged, reachable",
        "attribute_1": "city",
        "op_1": "eq",
        "value_1": "pune",
        "behaviour_1": "clicked",
        "number_1": "30",
        "channel_1": "sms",
        "behaviour_2": "not_undelivered",
        "number_2": "2",
        "channel_2": "sms",
    }

    # the form offers the rows, the live count reads them, and counting does not save
    page = client.get(reverse("campaigns:segment-new")).content.decode()
    assert 'name="behaviour_1"' in page and "has not clicked a link in the last … days" in page
    live = client.get(reverse("campaigns:segment-count"), {k: v for k, v in fields.items() if k != "name"})
    assert live.json() == {"count": 1, "errors": []}
    assert client.post(reverse("campaigns:segment-new"), {**fields, "preview": "1"}).context["count"] == 1

    saved = client.post(reverse("campaigns:segment-new"), {**fields, "save": "1"}, follow=True)
    segment = Segment.objects.get()
    assert segment.conditions[1:] == [
        {"behaviour": "clicked", "days": 30, "channel": "sms", "negate": False},
        {"behaviour": "undelivered", "messages": 2, "channel": "sms", "negate": True},
    ]
    page = saved.content.decode()
    words = re.sub(r"<[^>]+>", "", page[page.index('data-figure="segment_conditions"') :].split("</p>")[0])
    assert words.endswith(
        "Customers whose city is “pune” and who clicked a link in the last 30 days (SMS) and whose last 2 messages "
        "(SMS) did not all fail to deliver."
    )
    assert 'data-figure="segment_count">1<' in page and "reachable_clicker" in page and "dead_clicker" not in page

    # editing shows the behaviour rows filled in, and saving the page as it is keeps them
    edit = client.get(reverse("campaigns:segment-edit", args=[segment.pk]))
    form = edit.context["form"]
    assert (form["behaviour_2"].value(), form["number_2"].value(), form["channel_2"].value()) == (
        "not_undelivered", 2, "sms",
    )  # fmt: skip
    resaved = {name: form[name].value() for name in form.fields if form[name].value() not in (None, "")}
    client.post(reverse("campaigns:segment-edit", args=[segment.pk]), {**resaved, "save": "1"})
    segment.refresh_from_db()
    assert len(segment.conditions) == 3 and segment.conditions[2]["negate"] is True


def test_a_segment_of_behaviour_alone_is_saved_and_a_missing_number_is_named(client, manager, org):
    client.force_login(manager)
    base = {"org": org.pk, "name": "Dormant", "behaviour_1": "not_clicked", "channel_1": "any", "save": "1"}
    refused = client.post(reverse("campaigns:segment-new"), base)
    assert "Condition 1 (clicked a link in the last N days): give a number of days from 1 to 365." in (
        refused.content.decode().replace("&#x27;", "'")
    )
    client.post(reverse("campaigns:segment-new"), {**base, "number_1": "60"})
    assert Segment.objects.get().conditions == [{"behaviour": "clicked", "days": 60, "channel": "any", "negate": True}]


def test_another_orgs_live_count_is_not_found(client, outsider, org):
    client.force_login(outsider)
    response = client.get(
        reverse("campaigns:segment-count"), {"org": org.pk, "behaviour_1": "clicked", "number_1": "7"}
    )
    assert response.status_code == 404


# --- Dispatch ----------------------------------------------------------------------------------------------------


def test_a_campaign_to_a_behaviour_segment_reaches_whom_it_selects_when_it_sends(
    org, manager, template, history, django_capture_on_commit_callbacks
):
    who = people(org, "reachable_clicker", "dead_clicker", "dormant")
    now = timezone.now()
    for customer in who.values():
        message = history.message(customer, at=now - timedelta(days=10))
        if customer.name != "dormant":
            history.click(message, at=now - timedelta(days=9))
    history.outcomes(who["dead_clicker"], ND, ND, ND, end=now)  # the number stopped working since
    segment = segment_save(
        org=org, name="Engaged, reachable", conditions=[clicked(30), undelivered(3, "sms", negate=True)]
    )
    campaign = create_campaign(template, manager, audience_segment=segment)

    # a click after the campaign was set up, before it sends, counts: behaviour is read at send time
    history.click(history.message(who["dormant"], at=now - timedelta(days=1)), at=timezone.now())
    launch(campaign, manager, django_capture_on_commit_callbacks)

    recipients = set(Message.objects.filter(campaign=campaign).values_list("customer__name", flat=True))
    assert recipients == {"reachable_clicker", "dormant"}


def test_the_campaign_page_says_what_its_segment_selects(client, org, manager, template):
    segment = segment_save(org=org, name="Dormant", conditions=[clicked(90, negate=True)])
    campaign = create_campaign(template, manager, audience_segment=segment)
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert (
        'customers <span data-condition="clicked">who has not clicked a link in the last 90 days (any channel)' in page
    )
