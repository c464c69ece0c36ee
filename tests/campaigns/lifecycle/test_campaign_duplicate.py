"""Duplicate: a new draft that sends what a campaign sends, and nothing of its sending."""

import pytest
from django.urls import reverse

from campaigns.customers.audience import customer_list_delete
from campaigns.lifecycle import services
from campaigns.models import Campaign
from delivery.models import Message
from tests.factories import LINK_SLOTS, CampaignFactory, CustomerListFactory, create_campaign
from tests.helpers import launch


def _duplicate(client, campaign, follow=False):
    return client.post(reverse("campaigns:duplicate", args=[campaign.pk]), follow=follow)


def test_a_sent_campaign_is_copied_as_a_draft_with_its_definition_and_none_of_its_sending(
    client, manager, template, customers, django_capture_on_commit_callbacks
):
    # given a sent one-time campaign to a list, with UTM parameters
    diwali = CustomerListFactory(org=template.org, name="Diwali")
    diwali.customers.set(customers[:2])
    campaign = create_campaign(template, manager, name="Diwali sale", audience_list=diwali)
    Campaign.objects.filter(pk=campaign.pk).update(utm_params={"utm_source": "sms"})
    campaign = launch(Campaign.objects.get(pk=campaign.pk), manager, django_capture_on_commit_callbacks)
    assert Message.objects.filter(campaign=campaign).count() == 2

    # when the manager duplicates it from its page
    client.force_login(manager)
    response = _duplicate(client, campaign, follow=True)

    # then a draft with the same definition opens on its edit page, with nothing sent
    copy = Campaign.objects.get(name="Diwali sale (copy)")
    assert response.redirect_chain[-1][0] == reverse("campaigns:edit", args=[copy.pk])
    assert "is a new draft copied from “Diwali sale”" in response.content.decode()
    assert (copy.status, copy.kind, copy.template_id, copy.slot_values) == (
        "draft",
        "one_time",
        template.pk,
        LINK_SLOTS,
    )
    assert (copy.audience_list_id, copy.utm_params, copy.created_by_id) == (
        diwali.pk,
        {"utm_source": "sms"},
        manager.pk,
    )
    assert (copy.launched_at, copy.dispatched_at, copy.credits_charged) == (None, None, 0)
    assert not Message.objects.filter(campaign=copy).exists()


def test_copies_are_numbered_and_a_run_copies_its_recurring_campaign(client, manager, template):
    weekly = create_campaign(template, manager, name="Weekly", kind=Campaign.Kind.RECURRING, schedule="0 10 * * 1")
    run = CampaignFactory(org=template.org, name="Weekly · run 1", template=template, parent=weekly)
    client.force_login(manager)
    _duplicate(client, weekly)
    _duplicate(client, run)
    copies = Campaign.objects.filter(name__startswith="Weekly (copy").order_by("pk")
    assert [(c.name, c.kind, c.schedule, c.parent_id) for c in copies] == [
        ("Weekly (copy)", "recurring", "0 10 * * 1", None),
        ("Weekly (copy 2)", "recurring", "0 10 * * 1", None),
    ]


def test_a_coupon_reminder_keeps_its_days(client, manager, template):
    reminder = create_campaign(template, manager, name="Coupons", kind=Campaign.Kind.COUPON_REMINDER, coupon_days=3)
    client.force_login(manager)
    _duplicate(client, reminder)
    assert Campaign.objects.get(name="Coupons (copy)").coupon_days == 3


@pytest.mark.parametrize("what", ["resend", "deleted list"])
def test_what_cannot_be_copied_is_refused_in_words(
    client, manager, template, customers, django_capture_on_commit_callbacks, what
):
    if what == "resend":
        source = launch(create_campaign(template, manager, name="Sale"), manager, django_capture_on_commit_callbacks)
        Message.objects.filter(campaign=source).update(status="not_delivered", reason_code="expired")
        campaign = services.campaign_resend_create(
            source=source,
            user=manager,
            name="Sale again",
            template=template,
            slot_values=LINK_SLOTS,
            reasons=["expired"],
        )
        expected = "A resend goes to the recipients another campaign did not reach"
    else:
        diwali = CustomerListFactory(org=template.org, name="Diwali")
        campaign = create_campaign(template, manager, name="Sale", audience_list=diwali)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHED)
        customer_list_delete(customer_list=diwali)
        expected = "This campaign went to list Diwali, which no longer exists"
    client.force_login(manager)
    page = _duplicate(client, campaign, follow=True).content.decode()
    assert expected in page
    assert not Campaign.objects.filter(name__contains="(copy)").exists()


def test_another_orgs_campaign_is_a_404_and_the_button_posts_with_a_csrf_token(client, outsider, manager, template):
    campaign = create_campaign(template, manager, name="Sale")
    client.force_login(outsider)
    assert _duplicate(client, campaign).status_code == 404
    client.force_login(manager)
    assert client.get(reverse("campaigns:duplicate", args=[campaign.pk])).status_code == 405
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    form = page[page.index(f'action="{reverse("campaigns:duplicate", args=[campaign.pk])}"') :]
    assert form.index('name="csrfmiddlewaretoken"') < form.index("Duplicate</button>")
    assert not Campaign.objects.filter(name__contains="(copy)").exists()
