"""Erasing a customer's personal data on request: nothing of them is left, every campaign's figures stay the same."""

import csv
import io
import re

from django.apps import apps
from django.urls import reverse

from campaigns.customers.erasure import customer_erase
from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.models import Campaign, Channel, Customer, Template
from delivery.models import ERASED_RECIPIENT, GatewayConfig, GatewayExchange, Message
from linktrack.models import Click
from tests.campaigns.customers.erasure.helpers import EMAIL, EXTERNAL_ID, MOBILE, NAME, NATIONAL, PHONE
from tests.factories import CampaignFactory

PERSONAL = (NAME, NATIONAL, EMAIL, EXTERNAL_ID, "Kothrud")


def _figures(client, campaign: Campaign) -> tuple[dict, str]:
    """What the campaign page shows: its figures, and the page itself (CSRF tokens aside)."""
    response = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    figures = {
        name: response.context[name]
        for name in ("counts", "progress", "clicks", "click_rate", "links", "timeline", "devices")
    }
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return figures, page


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _exports(client, campaign: Campaign) -> tuple[list, list]:
    details = _csv(client.get(reverse("delivery:export", args=[campaign.pk, "not_delivered"])))
    clicks = _csv(client.get(reverse("insights:campaign-clicks-export", args=[campaign.pk])))
    return details, clicks


def _rows_mentioning(text: str) -> list[str]:
    """Every row of every table that holds `text`, as "<model>: <row>"."""
    found = []
    for model in apps.get_models():
        if not model._meta.managed:
            continue  # a database session's temporary table, emptied after each use
        for row in model.objects.values_list():
            if text.lower() in str(row).lower():
                found.append(f"{model._meta.label}: {row}")
    return found


# --- The figures stay, the personal data goes --------------------------------------------------------------------


def test_erasing_keeps_every_figure_of_the_campaign_page_and_its_exports(client, manager, sent, asha):
    # given the campaign page and its exports before the erasure
    client.force_login(manager)
    figures, page = _figures(client, sent)
    details, clicks = _exports(client, sent)
    assert figures["clicks"].total == 4 and figures["clicks"].unique == 3 and figures["counts"].not_delivered >= 1
    assert {device.name for device in figures["devices"]} == {"Android", "iPhone / iPad", "Desktop"}

    # when Asha's personal data is erased
    customer_erase(customer=asha, user=manager)

    # then the page shows the same delivery counts, percentages, unique and total clicks, links, hours and devices
    figures_after, page_after = _figures(client, sent)
    assert figures_after == figures
    assert page_after == page
    # and the exports have the same rows, Asha's without her number, id or name
    details_after, clicks_after = _exports(client, sent)
    assert len(details_after) == len(details) and len(clicks_after) == len(clicks)
    mine = [row for row in details if row[0] == MOBILE]
    assert len(mine) == 1 and mine[0][1:3] == [EXTERNAL_ID, NAME]
    assert [ERASED_RECIPIENT, "", "", *mine[0][3:]] in details_after
    assert [row for row in details_after if row[0] != ERASED_RECIPIENT] == [r for r in details if r[0] != MOBILE]
    for row in clicks:  # clicked_at, recipient, customer_id, customer_name, link, device, channel
        if row[1] == MOBILE:
            row[1:4] = [ERASED_RECIPIENT, "", ""]
    assert clicks_after == clicks
    for text in PERSONAL:
        assert text not in str(details_after) and text not in str(clicks_after)


def test_nothing_of_the_customer_is_left_in_the_database(client, manager, sent, asha, others):
    # given an email sent to Asha too, STOP replies logged by the org's gateway (one of them hers), and the
    # unsubscribe she asked for by phone
    email_template = Template.objects.create(
        org=sent.org, name="Newsletter", channel=Channel.EMAIL, subject="For {#var#}", body="Hi {#var#}"
    )
    newsletter = CampaignFactory(
        org=sent.org, name="Newsletter", template=email_template, status=Campaign.Status.DISPATCHED
    )
    email = Message.objects.create(
        campaign=newsletter,
        customer=asha,
        channel=Channel.EMAIL,
        recipient=EMAIL,
        subject=f"For {NAME}",
        body=f"Hi {NAME}",
        html_body=f"<p>Hi {NAME}</p>",
        status=Message.Status.DELIVERED,
    )
    gateway = GatewayConfig.objects.create(org=sent.org, channel="sms", kind="http", is_active=False)
    GatewayExchange.objects.create(
        gateway=gateway, gateway_kind="http", operation="inbound", request=f"from=91{NATIONAL}"
    )
    GatewayExchange.objects.create(
        gateway=gateway, gateway_kind="http", operation="inbound", request="from=919810000001"
    )
    customer_unsubscribe(customer=asha, channel="sms", source="manual", note=f"called from {MOBILE}", user=manager)
    assert _rows_mentioning(NATIONAL) and _rows_mentioning(NAME)

    # when her personal data is erased
    result = customer_erase(customer=asha, user=manager)

    # then her number, name, address, id and attributes are in no row of any table
    for text in PERSONAL:
        assert _rows_mentioning(text) == [], text
    # her messages keep what the reports count, with a placeholder recipient and no text
    mine = Message.objects.filter(customer=asha)
    assert mine.count() == 2 == result.messages
    assert set(mine.values_list("recipient", "body", "subject", "html_body")) == {(ERASED_RECIPIENT, "", "", "")}
    email.refresh_from_db()
    assert (email.status, email.campaign_id, email.channel) == (Message.Status.DELIVERED, newsletter.pk, "email")
    # their gateway log and her STOP reply are gone; another number's reply stays
    assert not GatewayExchange.objects.filter(message__customer=asha).exists()
    assert list(GatewayExchange.objects.filter(message=None).values_list("request", flat=True)) == ["from=919810000001"]
    # her clicks stay, with no address and only the kind of device
    clicks = Click.objects.filter(message__customer=asha)
    assert clicks.count() == 3 == result.clicks
    assert set(clicks.values_list("ip_hash", flat=True)) == {""}
    assert set(clicks.values_list("user_agent", flat=True)) == {"erased (android)", ""}
    # the customer row is empty, off every list, without coupons, unsubscribed, and says who erased it and when
    asha.refresh_from_db()
    assert (asha.name, asha.mobile, asha.email, asha.external_id, asha.attributes) == ("", "", "", "", {})
    assert not asha.sms_subscribed and not asha.email_subscribed
    assert asha.erased_by == manager and asha.erased_at is not None and str(asha) == "Erased customer"
    assert not asha.lists.exists() and not asha.coupons.exists()
    assert (result.coupons, result.lists, result.unsubscribes_kept) == (1, 1, ("sms",))
    # the others are untouched
    assert Message.objects.filter(customer__in=others).exclude(recipient__startswith="+91").count() == 0


def test_two_erased_customers_of_one_org_do_not_collide(org, manager, others):
    # given two customers with numbers and external ids (unique per org, except when empty)
    first, second = others[:2]

    # when both are erased
    customer_erase(customer=first, user=manager)
    customer_erase(customer=second, user=manager)

    # then both rows stay, empty
    assert Customer.objects.filter(org=org, mobile="", external_id="", erased_at__isnull=False).count() == 2


def test_their_short_links_still_redirect_and_count(client, manager, sent, asha):
    # given Asha's personal link, as sent
    message = Message.objects.get(campaign=sent, customer=asha)
    code = re.search(r"/s/(\w+)", message.body).group(1)
    customer_erase(customer=asha, user=manager)

    # when it is opened after the erasure, then it still leads to the shop and counts (it holds no personal data)
    response = client.get(f"/s/{code}", HTTP_USER_AGENT=PHONE)
    assert response.status_code == 302 and response["Location"].startswith("https://acme.test/t")
    assert Click.objects.filter(message=message, is_bot=False).count() == 3
