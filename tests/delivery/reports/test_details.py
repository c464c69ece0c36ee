"""The campaign report's delivery block, View Details, the CSV export and the gateway log page."""

import csv
import io

import pytest
from django.urls import reverse

from delivery.models import GatewayExchange, Message
from delivery.reports.selectors import masked_recipient
from tests.factories import http_config


@pytest.fixture
def mixed(http_gateway, org, customers, send_campaign):
    """10 messages: 2 unsubscribed (not sent), 3 refused by the gateway with 503 (not sent), 5 sent and waiting."""
    for customer in customers[:2]:
        customer.sms_subscribed = False
        customer.save(update_fields=["sms_subscribed"])
    http_gateway.script = [("status", 503)] * 3 + [("ok",)]
    http_config(org, http_gateway.url, max_retries=0)
    campaign = send_campaign()
    sent = list(Message.objects.filter(campaign=campaign, status=Message.Status.SENT).order_by("pk"))
    Message.objects.filter(pk__in=[m.pk for m in sent[:2]]).update(
        status=Message.Status.NOT_DELIVERED, reason_code="undeliverable", gateway_error="UNDELIV:001"
    )
    return campaign


def test_campaign_page_shows_each_outcome_with_a_view_details_link(client, manager, mixed):
    client.force_login(manager)
    page = client.get(reverse("campaigns:detail", args=[mixed.pk])).content.decode()
    assert 'data-figure="not_sent">5<' in page and 'data-percent="not_sent">50.0%<' in page
    # not delivered = 2 failed + 3 still waiting (reason "pending"), as View Details groups them
    assert 'data-figure="not_delivered">5<' in page and 'data-percent="not_delivered">50.0%<' in page
    assert "3 of them still waiting for a receipt" in page
    assert f'href="{reverse("delivery:details", args=[mixed.pk, "not_sent"])}">View Details' in page
    assert f'href="{reverse("delivery:details", args=[mixed.pk, "not_delivered"])}">View Details' in page


def test_view_details_lists_reasons_with_share_masked_sample_and_resend_for_retryable(client, manager, mixed):
    client.force_login(manager)
    page = client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"])).content.decode()
    assert page.index('id="reason-gateway_retries_exhausted"') < page.index('id="reason-unsubscribed"')  # biggest first
    retries = page.split('id="reason-gateway_retries_exhausted"')[1].split("</section>")[0]
    assert "<strong data-percent>30.0%</strong>" in retries and "60.0% of not sent" in retries
    assert "<code>HTTP:503</code> × 3" in retries
    # sample numbers are masked
    message = Message.objects.filter(campaign=mixed, reason_code="gateway_retries_exhausted").order_by("pk").first()
    assert masked_recipient(message.recipient) in retries and message.recipient not in page
    # retryable reasons offer a resend of exactly those recipients; customer choices (unsubscribed) do not
    assert f'href="{reverse("campaigns:resend", args=[mixed.pk])}?reason=gateway_retries_exhausted"' in retries
    assert "Resend to these" not in page.split('id="reason-unsubscribed"')[1].split("</section>")[0]


def test_waiting_messages_are_shown_as_pending_with_the_not_delivered_reasons(client, manager, mixed):
    client.force_login(manager)
    page = client.get(reverse("delivery:details", args=[mixed.pk, "not_delivered"])).content.decode()
    assert 'id="reason-undeliverable"' in page and 'id="reason-pending"' in page
    pending = page.split('id="reason-pending"')[1].split("</section>")[0]
    assert "<strong data-count>3</strong>" in pending and "?reason=no_receipt" in pending


def test_without_a_resend_page_the_details_page_still_works(client, manager, mixed, monkeypatch):
    from django.urls import NoReverseMatch

    from delivery.reports import views

    def no_resend(*args, **kwargs):
        raise NoReverseMatch("campaigns:resend")

    monkeypatch.setattr(views, "reverse", no_resend)
    client.force_login(manager)
    page = client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"]))
    assert page.status_code == 200 and "Resend to these" not in page.content.decode()


def test_csv_export_streams_every_affected_recipient_in_full(client, manager, mixed):
    client.force_login(manager)
    response = client.get(reverse("delivery:export", args=[mixed.pk, "not_sent"]))
    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 5
    assert {r["reason_code"] for r in rows} == {"unsubscribed", "gateway_retries_exhausted"}
    expected = set(Message.objects.filter(campaign=mixed, status="not_sent").values_list("recipient", flat=True))
    assert {r["recipient"] for r in rows} == expected
    one_reason = client.get(reverse("delivery:export", args=[mixed.pk, "not_sent"]) + "?reason=unsubscribed")
    rows = list(csv.DictReader(io.StringIO(b"".join(one_reason.streaming_content).decode())))
    assert [r["reason"] for r in rows] == ["Customer unsubscribed"] * 2


def test_the_export_names_its_file_from_the_campaign_group_and_reason(client, manager, mixed):
    client.force_login(manager)
    url = reverse("delivery:export", args=[mixed.pk, "not_sent"])
    assert client.get(url)["Content-Disposition"] == f'attachment; filename="campaign-{mixed.pk}-not_sent.csv"'
    one_reason = client.get(url + "?reason=unsubscribed")
    assert one_reason["Content-Disposition"] == f'attachment; filename="campaign-{mixed.pk}-not_sent-unsubscribed.csv"'


@pytest.mark.parametrize(
    "reason",
    [
        'x";filename="evil.bat',  # would add a second file name to the header
        "x\r\nSet-Cookie: a=b",  # would break the header (a 500)
        "exploded",  # not in the catalogue
        "undeliverable",  # in the catalogue, but not a reason for "not sent"
    ],
)
def test_a_reason_not_in_the_groups_catalogue_is_not_found(client, manager, mixed, reason):
    client.force_login(manager)
    response = client.get(reverse("delivery:export", args=[mixed.pk, "not_sent"]), {"reason": reason})
    assert response.status_code == 404
    assert "Content-Disposition" not in response


def test_another_orgs_campaign_details_and_export_are_not_found(client, outsider, mixed):
    client.force_login(outsider)
    assert client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"])).status_code == 404
    assert client.get(reverse("delivery:export", args=[mixed.pk, "not_sent"])).status_code == 404


def test_an_unknown_group_is_not_found(client, manager, mixed):
    client.force_login(manager)
    assert client.get(reverse("delivery:details", args=[mixed.pk, "exploded"])).status_code == 404


def test_anonymous_users_are_sent_to_sign_in(client, mixed):
    response = client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_support_staff_see_any_org_and_the_gateway_log_of_a_message(client, support, mixed):
    client.force_login(support)
    page = client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"])).content.decode()
    message = Message.objects.filter(campaign=mixed, reason_code="gateway_retries_exhausted").order_by("pk").first()
    message_url = reverse("delivery:message", args=[message.pk])
    assert f'href="{message_url}"' in page
    log = client.get(message_url).content.decode()
    assert "HTTP 503" in log and "sk-live-SECRET-123" not in log and "Authorization: Bearer ***" in log
    assert GatewayExchange.objects.filter(message=message).count() == 1


def test_campaign_managers_cannot_read_gateway_logs(client, manager, mixed):
    client.force_login(manager)
    message = Message.objects.filter(campaign=mixed).first()
    response = client.get(reverse("delivery:message-log", args=[message.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "gateway log" not in client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"])).content.decode()


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [
        ("+919812345612", "+91 98XXXXXX12"),
        ("+14155552671", "+1 41XXXXXX71"),
        ("raj.kumar@example.com", "ra*******@example.com"),
        ("12", "XX"),
    ],
)
def test_recipients_are_masked_leaving_country_code_and_a_few_digits(recipient, masked):
    assert masked_recipient(recipient) == masked


def test_details_page_queries_do_not_grow_with_recipients(client, manager, mixed, django_assert_max_num_queries):
    client.force_login(manager)
    with django_assert_max_num_queries(12):
        client.get(reverse("delivery:details", args=[mixed.pk, "not_sent"]))
