"""Resend: from a finished campaign, a new campaign to the recipients whose messages ended with chosen outcomes."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.lifecycle import services
from campaigns.models import Campaign, Template
from campaigns.sending.preview import campaign_preview
from delivery.models import Message
from tests.factories import create_campaign, make_customers
from tests.helpers import launch


@pytest.fixture
def finished(template, manager, django_capture_on_commit_callbacks) -> Campaign:
    """10 messages: 2 gateway timeouts, 2 still waiting for a receipt, 1 NDNC, 1 unsubscribed, 4 delivered."""
    make_customers(template.org, 10)
    campaign = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    ids = list(Message.objects.filter(campaign=campaign).order_by("pk").values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[0:2]).update(
        status=Message.Status.NOT_SENT, reason_code="gateway_timeout", gateway_message_id=""
    )
    Message.objects.filter(pk__in=ids[2:4]).update(status=Message.Status.SENT, reason_code="")
    Message.objects.filter(pk__in=ids[4:5]).update(status=Message.Status.NOT_DELIVERED, reason_code="ndnc")
    Message.objects.filter(pk__in=ids[5:6]).update(status=Message.Status.NOT_SENT, reason_code="unsubscribed")
    Message.objects.filter(pk__in=ids[6:]).update(status=Message.Status.DELIVERED, reason_code="")
    return campaign


def test_resend_page_preselects_reasons_from_the_link_and_never_offers_ndnc(client, manager, finished):
    client.force_login(manager)
    url = reverse("campaigns:resend", args=[finished.pk])

    response = client.get(url + "?reason=gateway_timeout&reason=ndnc")
    page = response.content.decode()

    assert response.context["form"]["reasons"].value() == ["gateway_timeout"]
    assert re.search(r'name="reasons" value="gateway_timeout"[^>]*checked', page)
    assert 'value="no_receipt"' in page
    assert 'value="ndnc"' not in page and 'value="unsubscribed"' not in page


def test_manager_resends_timeouts_and_waiting_ones_with_the_same_template(
    client, manager, finished, django_capture_on_commit_callbacks
):
    # when the manager resends "gateway timeout" and "no receipt"
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:resend", args=[finished.pk]),
        {
            "reasons": ["gateway_timeout", "no_receipt"],
            "name": "Retry",
            "slot_1_source": "field",
            "slot_1_value": "name",
            "slot_2_source": "url",
            "slot_2_value": "https://acme.test/t",
        },
    )
    resend = Campaign.objects.get(name="Retry")
    assert response.status_code == 302 and resend.kind == Campaign.Kind.RESEND and resend.resend_of == finished
    resend = launch(resend, manager, django_capture_on_commit_callbacks)

    # then exactly those 4 recipients get a new message
    targeted = set(
        Message.objects.filter(
            campaign=finished, status__in=("not_sent", "sent"), reason_code__in=("gateway_timeout", "")
        ).values_list("customer_id", flat=True)
    )
    assert set(Message.objects.filter(campaign=resend).values_list("customer_id", flat=True)) == targeted
    assert len(targeted) == 4
    assert Message.objects.filter(campaign=resend).exclude(gateway_message_id="").count() == 4


def test_resend_with_another_template(manager, finished, sender, django_capture_on_commit_callbacks):
    other = Template.objects.create(
        dlt_template_id="1707160000000000009",
        org=finished.org,
        name="Sorry",
        sender=sender,
        body="Sorry {#var#}, again - Acme",
    )

    resend = services.campaign_resend_create(
        source=finished,
        user=manager,
        name="Sorry",
        template=other,
        slot_values=[{"source": "field", "value": "name"}],
        reasons=["gateway_timeout"],
    )
    resend = launch(resend, manager, django_capture_on_commit_callbacks)

    bodies = list(Message.objects.filter(campaign=resend).values_list("body", flat=True))
    assert len(bodies) == 2 and all(b.startswith("Sorry Customer") for b in bodies)


def test_resending_ndnc_or_unsubscribed_is_refused(manager, finished):
    for reason in ("ndnc", "unsubscribed"):
        with pytest.raises(ValidationError, match="cannot be resent"):
            services.campaign_resend_create(
                source=finished,
                user=manager,
                name="No",
                template=finished.template,
                slot_values=finished.slot_values,
                reasons=[reason],
            )


def test_a_campaign_still_sending_cannot_be_resent(template, manager):
    campaign = create_campaign(template, manager)
    with pytest.raises(ValidationError, match="finished sending"):
        services.campaign_resend_create(
            source=campaign, user=manager, name="x", template=template, slot_values=[], reasons=["gateway_timeout"]
        )


def test_another_orgs_campaign_cannot_be_resent(client, outsider, finished):
    client.force_login(outsider)
    assert client.get(reverse("campaigns:resend", args=[finished.pk])).status_code == 404


def test_a_resends_preview_counts_only_its_recipients(manager, finished, django_capture_on_commit_callbacks):
    # given a resend of the 2 gateway timeouts of a campaign to 10 customers
    resend = services.campaign_resend_create(
        source=finished,
        user=manager,
        name="Retry",
        template=finished.template,
        slot_values=finished.slot_values,
        reasons=["gateway_timeout"],
    )

    # when it is previewed
    preview = campaign_preview(campaign=resend)

    # then it counts the 2 recipients the launch messages, not the whole org
    assert preview.recipients == 2
    assert preview.credits_after == 2 * preview.after.length.segments
    assert len(launch(resend, manager, django_capture_on_commit_callbacks).messages.all()) == 2
