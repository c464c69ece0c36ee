"""Campaign preview: the message before and after rewriting, its length, and the credits for the audience."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from campaigns.models import Campaign, Coupon, Customer, Template
from campaigns.sending.preview import campaign_preview
from tests.factories import CampaignFactory, make_customers


@pytest.fixture(autouse=True)
def _short_domain(org):
    org.short_domain = "s.cplry.com"
    org.save(update_fields=["short_domain"])


def _campaign(template: Template, slot_values: list[dict]) -> Campaign:
    return CampaignFactory(org=template.org, name="Preview me", template=template, slot_values=slot_values)


def test_rewriting_a_link_that_pushes_the_message_into_two_segments_shows_the_extra_credits(org, sender):
    # given a 154-character GSM-7 message whose link becomes 22 characters (from 14) with tracking on
    body = "Hi {#var#}! " + "x" * 130 + " {#var#}"
    template = Template.objects.create(org=org, name="Long", sender=sender, body=body)
    make_customers(org, 5)
    campaign = _campaign(template, [{"source": "text", "value": "Asha"}, {"source": "url", "value": "www.google.com"}])
    # when previewed
    preview = campaign_preview(campaign=campaign)
    # then before: 1 segment per message, after: 2, and 5 more credits for 5 recipients
    assert preview.before.text == "Hi Asha! " + "x" * 130 + " www.google.com"
    assert preview.after.text == "Hi Asha! " + "x" * 130 + " s.cplry.com/XXXXXXXXXX"
    assert (preview.before.length.characters, preview.before.length.segments) == (154, 1)
    assert (preview.after.length.characters, preview.after.length.segments) == (162, 2)
    assert preview.before.length.encoding == "GSM-7"
    assert (preview.recipients, preview.credits_before, preview.credits_after, preview.credits_difference) == (
        5,
        5,
        10,
        5,
    )


def test_extension_characters_count_twice_and_can_add_a_segment(org, sender):
    template = Template.objects.create(org=org, name="Ext", sender=sender, body="{#var#} " + "y" * 130 + " €€€€")
    make_customers(org, 3)
    campaign = _campaign(template, [{"source": "url", "value": "acme.in/sale"}])
    preview = campaign_preview(campaign=campaign)
    # 12 + 1 + 130 + 1 + 4 euro signs (8 units) = 152 units before; 22 instead of 12 = 162 after
    assert (preview.before.length.units, preview.before.length.segments) == (152, 1)
    assert (preview.after.length.units, preview.after.length.segments) == (162, 2)
    assert (preview.credits_before, preview.credits_after, preview.credits_difference) == (3, 6, 3)


def test_unicode_message_is_ucs2_and_counted_in_utf16_units(org, sender):
    template = Template.objects.create(org=org, name="Hindi", sender=sender, body="नमस्ते {#var#} 🎉 " + "क" * 50)
    make_customers(org, 2)
    campaign = _campaign(template, [{"source": "text", "value": "आशा"}])
    preview = campaign_preview(campaign=campaign)
    assert preview.before.length.encoding == "UCS-2"
    assert (preview.before.length.characters, preview.before.length.units) == (63, 64)
    assert preview.credits_after == 2 and preview.credits_difference == 0


def test_credits_use_each_customers_values_read_in_batches(org, sender, django_assert_max_num_queries):
    # given a name slot: customers with long names need two segments
    template = Template.objects.create(org=org, name="Named", sender=sender, body="Dear {#var#}, " + "z" * 130)
    short_names = make_customers(org, 4)
    Customer.objects.create(org=org, name="Bartholomew-Venkataraman", mobile="+919899999999")
    Customer.objects.create(org=org, name="N" * 31, mobile="+919899999998")  # too long for a variable
    Customer.objects.create(org=org, name="Unsubscribed", mobile="+919899999997", sms_subscribed=False)
    campaign = _campaign(template, [{"source": "field", "value": "name"}])
    # when previewed, with a small batch size
    with django_assert_max_num_queries(6):
        preview = campaign_preview(campaign=campaign, batch_size=2)
    # then each message is measured: 4 x 1 + 1 x 2 sendable, the 31-character name is not sendable
    assert preview.customer == short_names[0]
    assert preview.recipients == 6
    assert (preview.credits_before, preview.credits_after, preview.not_sendable) == (4 + 2 + 2, 4 + 2, 1)


def test_preview_of_a_refused_sample_says_why(org, sender):
    template = Template.objects.create(org=org, name="Named", sender=sender, body="Dear {#var#}")
    customer = Customer.objects.create(org=org, name="N" * 31, mobile="+919899999998")
    preview = campaign_preview(campaign=_campaign(template, [{"source": "field", "value": "name"}]), customer=customer)
    assert preview.after is None
    assert (
        preview.refused == f"Variable 1 ('{'N' * 31}'): it is 31 characters and a {{#var#}} variable takes at most 30."
    )


def test_preview_page_is_linked_from_the_draft_and_shows_the_figures(client, manager, template, customers):
    campaign = _campaign(template, [{"source": "field", "value": "name"}, {"source": "url", "value": "www.acme.in"}])
    client.force_login(manager)
    detail = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:preview", args=[campaign.pk]) in detail
    page = client.get(reverse("campaigns:preview", args=[campaign.pk]), {"customer": customers[2].pk})
    html = page.content.decode()
    assert "Hi Customer 3, your order has shipped. Track it: www.acme.in - Acme" in html
    assert "Hi Customer 3, your order has shipped. Track it: s.cplry.com/XXXXXXXXXX - Acme" in html
    assert 'data-figure="recipients">10<' in html and 'data-figure="credits_difference">0<' in html
    assert "contact support" in html


def test_preview_of_another_orgs_campaign_is_not_found(client, outsider, template):
    campaign = _campaign(template, [{"source": "text", "value": "x"}, {"source": "text", "value": "y"}])
    client.force_login(outsider)
    assert client.get(reverse("campaigns:preview", args=[campaign.pk])).status_code == 404


def test_sample_customer_outside_the_audience_is_not_found(client, manager, template, other_org):
    stranger = Customer.objects.create(org=other_org, name="Stranger", mobile="+919800000001")
    campaign = _campaign(template, [{"source": "text", "value": "x"}, {"source": "text", "value": "y"}])
    client.force_login(manager)
    assert client.get(reverse("campaigns:preview", args=[campaign.pk]), {"customer": stranger.pk}).status_code == 404


def test_credits_of_a_message_without_customer_values_take_no_query_per_customer(
    org, sender, django_assert_num_queries
):
    # given 50 customers and values that do not depend on the customer
    template = Template.objects.create(org=org, name="Static", sender=sender, body="Sale {#var#} today")
    make_customers(org, 50)
    campaign = Campaign.objects.select_related("org", "template").get(
        pk=_campaign(template, [{"source": "text", "value": "acme.in/s"}]).pk
    )
    # when previewed: the sample customer and one count
    with django_assert_num_queries(2):
        preview = campaign_preview(campaign=campaign)
    # then every message costs the same
    assert (preview.recipients, preview.credits_before, preview.credits_after) == (50, 50, 50)


def _coupon_reminder(template: Template, *, coupon_days: int) -> Campaign:
    """A reminder of the coupons expiring `coupon_days` after it is sent, showing their code and expiry date."""
    return CampaignFactory(
        org=template.org,
        name="Reminder",
        template=template,
        kind=Campaign.Kind.COUPON_REMINDER,
        coupon_days=coupon_days,
        slot_values=[{"source": "field", "value": "coupon_code"}, {"source": "field", "value": "coupon_expiry"}],
    )


def test_coupon_reminder_preview_uses_the_coupon_expiring_on_the_reminded_day(org, sender):
    from datetime import timedelta

    from django.utils import timezone

    from campaigns.models import Coupon, Customer

    template = Template.objects.create(
        org=org, name="Coupon", sender=sender, body="Your coupon {#var#} expires on {#var#}. Acme"
    )
    [customer] = make_customers(org, 1)
    soon = timezone.localdate() + timedelta(days=3)
    Coupon.objects.create(customer=customer, code="LATER50", expires_on=soon + timedelta(days=10))
    Coupon.objects.create(customer=customer, code="SAVE20", expires_on=soon)
    Coupon.objects.create(customer=customer, code="TOMORROW", expires_on=timezone.localdate() + timedelta(days=1))
    not_reminded = Customer.objects.create(org=org, name="Other", mobile="+919899999999")
    Coupon.objects.create(customer=not_reminded, code="OTHER", expires_on=soon + timedelta(days=1))
    campaign = _coupon_reminder(template, coupon_days=3)
    preview = campaign_preview(campaign=campaign)
    assert preview.after.text == f"Your coupon SAVE20 expires on {soon:%-d %b %Y}. Acme"
    assert (preview.recipients, preview.credits_after) == (1, 1)  # the other customer's coupon expires a day later


def test_email_preview_shows_both_parts_with_links_shortened(client, manager, org):
    template = Template.objects.create(
        org=org,
        name="News",
        channel="email",
        subject="Hi {#var#}",
        body="Hi {#var#}, see {#var#}",
        html_body='<p>Hi {#var#}</p><a href="{#var#}">See</a> <a href="mailto:x@acme.in">Mail</a>',
    )
    Customer.objects.create(org=org, name="Asha", email="asha@example.in")
    Customer.objects.create(org=org, name="No address")
    campaign = _campaign(
        template, [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.in/n"}]
    )
    preview = campaign_preview(campaign=campaign)
    assert preview.recipients == 1
    assert preview.email_before.text == "Hi Asha, see https://acme.in/n"
    assert preview.email_after.text == "Hi Asha, see https://s.cplry.com/XXXXXXXXXX"
    assert preview.email_after.html == (
        '<p>Hi Asha</p><a href="https://s.cplry.com/XXXXXXXXXX">See</a> <a href="mailto:x@acme.in">Mail</a>'
    )
    client.force_login(manager)
    page = client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert "Hi Asha, see https://s.cplry.com/XXXXXXXXXX" in page


def test_a_reminder_preview_reads_coupons_on_the_orgs_own_day(org, sender, clock):
    # given an org in New York, late on 23 November there (already the 24th in India), and a coupon expiring that day
    org.timezone = "America/New_York"
    org.save(update_fields=["timezone"])
    clock.moment = datetime(2026, 11, 23, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    template = Template.objects.create(org=org, name="Coupon", sender=sender, body="Coupon {#var#} ends {#var#}. Acme")
    [customer] = make_customers(org, 1)
    Coupon.objects.create(customer=customer, code="TONIGHT", expires_on=date(2026, 11, 23))
    campaign = _coupon_reminder(template, coupon_days=0)
    # when the manager previews the reminder, then it shows the coupon that ends today where the org is
    assert campaign_preview(campaign=campaign).after.text == "Coupon TONIGHT ends 23 Nov 2026. Acme"
