"""Erasing a customer's personal data on request: nothing of them is left, every campaign's figures stay the same."""

import csv
import io
import re
from datetime import date

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.customers.customer_import import import_customers
from campaigns.customers.erasure import customer_erase
from campaigns.customers.segments import customers_matching
from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.lifecycle import services
from campaigns.models import (
    Campaign,
    Channel,
    Coupon,
    Customer,
    Template,
    Unsubscribe,
    User,
)
from campaigns.sending.preview import campaign_preview
from delivery.models import ERASED_RECIPIENT, GatewayConfig, GatewayExchange, Message
from linktrack.models import Click, ShortLink
from tests.factories import (
    PASSWORD,
    CampaignFactory,
    CustomerFactory,
    CustomerListFactory,
    create_campaign,
    make_customers,
)
from tests.helpers import launch

NAME, MOBILE, NATIONAL, EMAIL, EXTERNAL_ID = (
    "Asha Kulkarni",
    "+919876543210",
    "9876543210",
    "asha.k@example.in",
    "AK-4711",
)
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
PERSONAL = (NAME, NATIONAL, EMAIL, EXTERNAL_ID, "Kothrud")


@pytest.fixture(autouse=True)
def _every_message_delivered(settings):
    # The simulated gateway picks each outcome from the message id, and ids differ from run to run on PostgreSQL:
    # every message here is delivered (with its receipt), and the tests set the outcomes they need themselves.
    settings.SIMULATED_GATEWAY_MIX = "delivered:100"


@pytest.fixture
def asha(org) -> Customer:
    customer = CustomerFactory(
        org=org, name=NAME, mobile=MOBILE, email=EMAIL, external_id=EXTERNAL_ID, attributes={"area": "Kothrud"}
    )
    Coupon.objects.create(customer=customer, code="ASHA10", expires_on=date(2026, 12, 31))
    CustomerListFactory(org=org, name="Loyal").customers.add(customer)
    return customer


@pytest.fixture
def others(org) -> list[Customer]:
    return make_customers(org, 4)


def _click(client, message: Message, agent: str) -> None:
    code = re.search(r"/s/(\w+)", message.body).group(1)
    assert client.get(f"/s/{code}", HTTP_USER_AGENT=agent).status_code == 302


@pytest.fixture
def sent(client, manager, template, asha, others, django_capture_on_commit_callbacks) -> Campaign:
    """A campaign to Asha and four others; Asha's message failed (a receipt said undeliverable) after she clicked it
    from her phone twice, a link preview fetched it, and two others clicked from an iPhone and a desktop."""
    campaign = launch(create_campaign(template, manager, name="Diwali"), manager, django_capture_on_commit_callbacks)
    messages = {m.customer_id: m for m in Message.objects.filter(campaign=campaign)}
    Message.objects.filter(pk=messages[asha.pk].pk).update(
        status=Message.Status.NOT_DELIVERED, reason_code="undeliverable", gateway_error="UNDELIV:001"
    )
    for agent in (PHONE, PHONE, "WhatsApp/2.23.20.0 A"):
        _click(client, messages[asha.pk], agent)
    _click(client, messages[others[0].pk], IPHONE)
    _click(client, messages[others[1].pk], DESKTOP)
    return campaign


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


# --- Left out of every audience ------------------------------------------------------------------------------------


def test_an_erased_customer_is_left_out_of_new_campaigns_and_counted_nowhere(
    manager, template, sent, asha, others, django_capture_on_commit_callbacks
):
    # given Asha erased (her message of the first campaign failed, so a resend would target it)
    customer_erase(customer=asha, user=manager)

    # when a new campaign to every customer is previewed and sent, and a resend of the failed messages too
    campaign = create_campaign(template, manager, name="Winter")
    assert campaign_preview(campaign=campaign).recipients == len(others)
    campaign = launch(campaign, manager, django_capture_on_commit_callbacks)
    # (her failed message was the only undeliverable one, so no resend of it is offered or accepted)
    with pytest.raises(ValidationError, match="cannot be resent from this campaign: undeliverable"):
        services.campaign_resend_create(
            source=sent,
            user=manager,
            name="Diwali again",
            template=template,
            slot_values=sent.slot_values,
            reasons=["undeliverable"],
        )

    # then she gets no message, not even one counted as not sent
    assert Message.objects.filter(campaign=campaign).count() == len(others)
    assert not Message.objects.filter(campaign=campaign, customer=asha).exists()
    assert not Message.objects.filter(campaign=campaign, status=Message.Status.NOT_SENT).exists()
    # and no segment, list or search-based list counts her
    segment = customers_matching(org=asha.org, conditions=[{"attribute": "area", "op": "ne", "value": "Aundh"}])
    assert asha not in segment and segment.count() == len(others)


def test_a_customer_who_unsubscribed_stays_unsubscribed_when_imported_again(org, manager, asha, tmp_path):
    # given Asha unsubscribed from SMS and email, then erased
    customer_unsubscribe(customer=asha, channel="sms", source="stop_reply")
    customer_unsubscribe(customer=asha, channel="email", source="email_link")
    result = customer_erase(customer=asha, user=manager)
    assert set(result.unsubscribes_kept) == {"sms", "email"}
    kept = Unsubscribe.objects.filter(customer=asha)
    assert kept.count() == 2 and "" not in set(kept.values_list("contact_hash", flat=True))

    # when a later import brings her number (typed differently) and address back, with someone new
    path = tmp_path / "again.csv"
    path.write_text(f"mobile,email,name\n098765 43210,{EMAIL.upper()},{NAME}\n9810000077,new@example.in,New\n")
    import_customers(path=path, org_id=org.pk)

    # then a new customer is created for her, unsubscribed from both, and the history says why; the newcomer is not
    again = Customer.objects.get(org=org, mobile=MOBILE)
    assert again.pk != asha.pk and not again.sms_subscribed and not again.email_subscribed
    assert set(again.unsubscribes.values_list("channel", "source")) == {("sms", "import"), ("email", "import")}
    newcomer = Customer.objects.get(org=org, mobile="+919810000077")
    assert newcomer.sms_subscribed and newcomer.email_subscribed


def test_an_unsubscribe_without_a_record_is_kept_too(org, manager, tmp_path):
    # given a customer unsubscribed from SMS by hand in the admin (no unsubscribe record), then erased
    customer = Customer.objects.create(org=org, mobile=MOBILE, sms_subscribed=False)
    assert customer_erase(customer=customer, user=manager).unsubscribes_kept == ("sms",)
    assert customer.unsubscribes.exclude(contact_hash="").count() == 1

    # when the number is imported again, then it stays unsubscribed
    path = tmp_path / "again.csv"
    path.write_text(f"mobile\n{NATIONAL}\n")
    import_customers(path=path, org_id=org.pk)
    assert not Customer.objects.get(org=org, mobile=MOBILE).sms_subscribed


def test_erasure_alone_is_not_an_unsubscribe(org, manager, asha, tmp_path):
    # given Asha erased while subscribed
    assert customer_erase(customer=asha, user=manager).unsubscribes_kept == ()

    # when she is imported again, then she is a new, subscribed customer (nothing of her was kept)
    path = tmp_path / "again.csv"
    path.write_text(f"mobile,name\n{NATIONAL},{NAME}\n")
    import_customers(path=path, org_id=org.pk)
    again = Customer.objects.get(org=org, mobile=MOBILE)
    assert again.sms_subscribed and again.email_subscribed and again.erased_at is None


def test_another_orgs_unsubscribe_does_not_reach_this_org(org, other_org, manager, tmp_path):
    # given the same number unsubscribed and erased in another org
    theirs = Customer.objects.create(org=other_org, mobile=MOBILE)
    customer_unsubscribe(customer=theirs, channel="sms", source="manual")
    customer_erase(customer=theirs, user=None)

    # when this org imports it, then it is subscribed here
    path = tmp_path / "ours.csv"
    path.write_text(f"mobile\n{NATIONAL}\n")
    import_customers(path=path, org_id=org.pk)
    assert Customer.objects.get(org=org, mobile=MOBILE).sms_subscribed


# --- Refused while a campaign still sends to them, idempotent ------------------------------------------------------


def test_erasure_is_refused_while_a_campaign_still_sends_to_them(manager, sent, asha):
    # given Asha's message of "Diwali" still waiting to be handed to the gateway
    Message.objects.filter(campaign=sent, customer=asha).update(status=Message.Status.QUEUED, reason_code="")

    # when her personal data is to be erased, then it is refused, naming the campaign, and nothing changes
    with pytest.raises(ValidationError) as refused:
        customer_erase(customer=asha, user=manager)
    assert "“Diwali” is still sending to them" in refused.value.messages[0]
    asha.refresh_from_db()
    assert asha.name == NAME and asha.erased_at is None and asha.coupons.exists()
    assert Message.objects.get(campaign=sent, customer=asha).recipient == MOBILE


def test_erasure_is_refused_while_a_campaign_being_prepared_has_not_reached_them(manager, template, sent, asha):
    # given a campaign to every customer being prepared that has not messaged Asha yet
    preparing = create_campaign(template, manager, name="Flash sale")
    Campaign.objects.filter(pk=preparing.pk).update(status=Campaign.Status.DISPATCHING)

    # then erasing her is refused, naming it
    with pytest.raises(ValidationError, match="“Flash sale” is still sending"):
        customer_erase(customer=asha, user=manager)

    # once it has messaged her (her message final), erasing her is allowed
    Message.objects.create(
        campaign=preparing, customer=asha, channel="sms", recipient=MOBILE, status=Message.Status.NOT_SENT
    )
    assert customer_erase(customer=asha, user=manager).messages == 2


def test_erasing_again_changes_nothing_and_says_so(manager, support, sent, asha):
    # given Asha erased
    first = customer_erase(customer=asha, user=manager)
    asha.refresh_from_db()
    erased_at, updated_at = asha.erased_at, asha.updated_at

    # when she is erased again, by someone else
    again = customer_erase(customer=asha, user=support)

    # then nothing changes and the result says she already was
    assert not first.already_erased and again.already_erased
    assert "already erased" in again.in_words
    asha.refresh_from_db()
    assert (asha.erased_at, asha.updated_at, asha.erased_by) == (erased_at, updated_at, manager)


def test_the_query_count_does_not_grow_with_messages_and_clicks(org, template, django_assert_num_queries):
    # given two customers, one with 3 messages and one with 30, each message with two gateway log entries and two
    # clicks, each customer unsubscribed from SMS, with a coupon and on a list
    few, many = make_customers(org, 2)
    customer_list = CustomerListFactory(org=org, name="All")
    for customer, count in ((few, 3), (many, 30)):
        campaigns = Campaign.objects.bulk_create(
            [
                Campaign(org=org, name=f"C{n}", template=template, status=Campaign.Status.DISPATCHED)
                for n in range(count)
            ]
        )
        links = ShortLink.objects.bulk_create(
            [ShortLink(campaign=campaign, destination="https://acme.test/") for campaign in campaigns]
        )
        messages = Message.objects.bulk_create(
            [
                Message(
                    campaign=campaign,
                    customer=customer,
                    channel="sms",
                    recipient=customer.mobile,
                    body="Hi",
                    status=Message.Status.DELIVERED,
                )
                for campaign in campaigns
            ]
        )
        GatewayExchange.objects.bulk_create(
            [
                GatewayExchange(
                    message=message, gateway_kind="simulated", operation=operation, request=message.recipient
                )
                for message in messages
                for operation in ("submit", "receipt")
            ]
        )
        Click.objects.bulk_create(
            [
                Click(
                    event_id=f"{message.pk}-{n}",
                    short_link=link,
                    campaign_id=message.campaign_id,
                    message=message,
                    channel="sms",
                    clicked_at=timezone.now(),
                    ip_hash="ab" * 32,
                    user_agent=PHONE,
                )
                for message, link in zip(messages, links, strict=True)
                for n in range(2)
            ]
        )
        Coupon.objects.create(customer=customer, code="C", expires_on=date(2026, 12, 31))
        customer_list.customers.add(customer)
        customer_unsubscribe(customer=customer, channel="sms", source="manual")

    # when each is erased, then the same queries do it: savepoint, lock the org's campaigns that may send, lock the
    # customer, messages still sending, unsubscribe channels, their update, messages, gateway log, clicks, coupons,
    # lists, the customer, release
    with django_assert_num_queries(13):
        assert customer_erase(customer=few, user=None).clicks == 6
    with django_assert_num_queries(13):
        assert customer_erase(customer=many, user=None).clicks == 60


# --- The pages ------------------------------------------------------------------------------------------------------


def test_the_customer_page_leads_to_a_confirmation_that_says_what_goes_and_what_stays(client, manager, sent, asha):
    client.force_login(manager)
    page = client.get(reverse("campaigns:customer-detail", args=[asha.pk])).content.decode()
    assert f'href="{reverse("campaigns:customer-erase", args=[asha.pk])}"' in page

    confirm = client.get(reverse("campaigns:customer-erase", args=[asha.pk])).content.decode()

    removed = confirm.split('id="erased"')[1].split("</ul>")[0]
    kept = confirm.split('id="kept"')[1].split("</ul>")[0]
    assert "mobile number" in removed and "coupons (1)" in removed and "lists (1)" in removed
    assert "gateway log of those messages (2 entries)" in removed
    assert "the 1 message (1 campaign)" in kept and "2 clicks still count" in kept
    assert 'name="csrfmiddlewaretoken"' in confirm and "Erase personal data</button>" in confirm
    asha.refresh_from_db()
    assert asha.erased_at is None  # opening the page changes nothing


def test_erasing_from_the_page_returns_to_a_customer_page_that_offers_no_changes(client, manager, sent, asha):
    client.force_login(manager)
    response = client.post(reverse("campaigns:customer-erase", args=[asha.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("campaigns:customer-detail", args=[asha.pk])
    page = response.content.decode()
    assert "Personal data erased:" in page  # the result, in words
    assert "Personal data erased on " in page and f"by {manager.email}" in page
    assert "<h1>Erased customer</h1>" in page and NAME not in page and NATIONAL not in page
    assert reverse("campaigns:customer-subscription", args=[asha.pk]) not in page
    assert 'id="add-to-lists"' not in page and 'id="erase"' not in page
    # a subscription change or list posted anyway is refused
    client.post(reverse("campaigns:customer-subscription", args=[asha.pk]), {"channel": "sms", "action": "resubscribe"})
    assert not Customer.objects.get(pk=asha.pk).sms_subscribed
    # and the confirmation page is not offered again
    again = client.get(reverse("campaigns:customer-erase", args=[asha.pk]))
    assert again.status_code == 302


def test_the_customer_list_shows_an_erased_customer_and_no_search_finds_them(client, manager, sent, asha):
    customer_erase(customer=asha, user=manager)
    client.force_login(manager)

    listed = client.get(reverse("campaigns:customer-list")).content.decode()
    row = re.search(rf'<tr data-customer="{asha.pk}">(.*?)</tr>', listed, re.S).group(1)
    assert "Erased customer" in row

    for query in (NAME, NATIONAL, EMAIL, EXTERNAL_ID, "erased"):
        found = client.get(reverse("campaigns:customer-list"), {"q": query}).content.decode()
        assert f'data-customer="{asha.pk}"' not in found, query


def test_a_refusal_is_shown_on_the_page(client, manager, sent, asha):
    Message.objects.filter(campaign=sent, customer=asha).update(status=Message.Status.SUBMITTING)
    client.force_login(manager)

    confirm = client.get(reverse("campaigns:customer-erase", args=[asha.pk])).content.decode()
    assert "data-refused" in confirm and "“Diwali”" in confirm and "Erase personal data</button>" not in confirm

    response = client.post(reverse("campaigns:customer-erase", args=[asha.pk]), follow=True)
    assert "“Diwali” is still sending to them" in response.content.decode()
    assert Customer.objects.get(pk=asha.pk).name == NAME


def test_another_orgs_customer_is_a_404_and_support_staff_may_erase(client, outsider, support, asha):
    client.force_login(outsider)
    assert client.get(reverse("campaigns:customer-erase", args=[asha.pk])).status_code == 404
    assert client.post(reverse("campaigns:customer-erase", args=[asha.pk])).status_code == 404
    assert Customer.objects.get(pk=asha.pk).erased_at is None

    client.force_login(support)
    client.post(reverse("campaigns:customer-erase", args=[asha.pk]))
    assert Customer.objects.get(pk=asha.pk).erased_by == support


def test_the_erase_form_needs_its_csrf_token(manager, asha):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=manager.email, password=PASSWORD)
    url = reverse("campaigns:customer-erase", args=[asha.pk])

    assert browser.post(url).status_code == 403
    assert Customer.objects.get(pk=asha.pk).erased_at is None

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(url).content.decode()).group(1)
    assert browser.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    assert Customer.objects.get(pk=asha.pk).erased_at is not None


# --- The command for requests in bulk -----------------------------------------------------------------------------


def test_the_command_erases_each_line_and_says_what_became_of_it(org, manager, support, sent, asha, others, tmp_path):
    # given a customer who unsubscribed and was erased earlier, one still being sent to, and a file of requests
    earlier = Customer.objects.create(org=org, mobile="+919810000099", email="old@example.in")
    customer_unsubscribe(customer=earlier, channel="sms", source="stop_reply")
    customer_erase(customer=earlier, user=None)
    busy = others[0]
    Message.objects.filter(customer=busy).update(status=Message.Status.QUEUED)
    path = tmp_path / "requests.txt"
    path.write_text(
        "# requests of this week\n"
        "098765 43210\n"  # Asha, as typed
        "\n"
        "98100 00099\n"  # erased before
        f"{busy.mobile}\n"  # still being sent to
        "9810000055\n"  # nobody
        "not a number\n"
        f"{EMAIL.upper()}\n"  # Asha again, by address: erased on line 2
    )
    out = io.StringIO()

    # when support runs the command (it ends normally)
    call_command("erase_customers", str(path), org=org.name, by=support.email, stdout=out)

    # then each line says what became of it, and a summary ends it
    lines = out.getvalue().splitlines()
    assert lines[0] == "line 2: 098765 43210: erased"
    assert lines[1] == "line 4: 98100 00099: already erased"
    assert lines[2].startswith(f"line 5: {busy.mobile}: refused (") and "“Diwali”" in lines[2]
    assert lines[3] == "line 6: 9810000055: not found (no customer has this number)"
    assert lines[4] == "line 7: not a number: not found (“not a number” is not a phone number)"
    assert lines[5] == f"line 8: {EMAIL.upper()}: already erased"
    assert lines[6] == "6 requests: 1 erased, 2 already erased, 2 not found, 1 refused."
    asha.refresh_from_db()
    busy.refresh_from_db()
    assert asha.erased_by == support and busy.erased_at is None


def test_view_details_the_resend_offer_and_the_resend_leave_an_erased_customer_out(
    client, manager, template, sent, asha, others, django_capture_on_commit_callbacks
):
    # given Asha's and Ravi's messages undeliverable, and Asha erased
    ravi = Message.objects.get(campaign=sent, customer=others[2])
    Message.objects.filter(pk=ravi.pk).update(status=Message.Status.NOT_DELIVERED, reason_code="undeliverable")
    customer_erase(customer=asha, user=manager)
    client.force_login(manager)

    # then View Details names her sample "erased customer", and a resend is offered and sent to Ravi alone
    page = client.get(reverse("delivery:details", args=[sent.pk, "not_delivered"])).content.decode()
    assert "erased customer" in page and "erXXed" not in page
    assert ("undeliverable", 1) in [(code, count) for code, _title, count in services.resend_options(source=sent)]
    resend = services.campaign_resend_create(
        source=sent, user=manager, name="Again", template=template, slot_values=sent.slot_values,
        reasons=["undeliverable"],
    )  # fmt: skip
    launch(resend, manager, django_capture_on_commit_callbacks)
    assert list(Message.objects.filter(campaign=resend).values_list("customer_id", flat=True)) == [others[2].pk]


def test_the_admin_cannot_type_an_erased_customers_data_back_in(client, manager, asha):
    customer_erase(customer=asha, user=manager)
    admin_user = User.objects.create_superuser("admin@acme.test", PASSWORD)
    client.force_login(admin_user)
    url = reverse("admin:campaigns_customer_change", args=[asha.pk])

    assert 'name="mobile"' not in client.get(url).content.decode()
    client.post(url, {"name": "Asha", "mobile": "+919810000099", "org": asha.org_id})
    asha.refresh_from_db()
    assert (asha.name, asha.mobile) == ("", "")
