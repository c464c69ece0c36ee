"""A promotional (numeric) sender's SMS are never reported delivered: its campaigns show the click rate of the messages
sent, say why on the page, and the preview and the launch confirmation warn before launch. The figures come from the
counters, never from the message rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import Message
from tests.campaigns.lifecycle.unreported import promotional_template, sent_and_clicked
from tests.factories import create_campaign

WHY = "Operators report no delivery for SMS from promotional (numeric) senders"


@pytest.fixture
def promotional(org):
    return promotional_template(org)


def test_the_campaign_page_shows_the_click_rate_of_sent_messages_and_says_why(client, manager, promotional, customers):
    campaign = sent_and_clicked(promotional, manager, customers, name="Sale", handed_over=8, clickers=2)
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    # 2 clickers of 8 messages sent: 25.0%, not "0.0%" of the none delivered
    assert '<strong data-figure="click_rate">25.0%</strong>of sent' in page
    assert 'id="click-rate-why"' in page and WHY in page


def test_a_service_senders_campaign_keeps_the_click_rate_of_delivered_messages(client, manager, template, customers):
    campaign = sent_and_clicked(template, manager, customers, name="Order", handed_over=8, clickers=2)
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert 'data-figure="click_rate"' not in page  # nothing delivered yet: no rate of delivered messages
    assert WHY not in page


def test_the_list_shows_it_per_sent_message_with_the_reason_and_reads_only_the_counters(
    client, manager, promotional, customers
):
    campaign = sent_and_clicked(promotional, manager, customers, name="Sale", handed_over=8, clickers=2)
    client.force_login(manager)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("campaigns:list")).content.decode()

    row = page[page.index(f'data-campaign="{campaign.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-figure="delivered">not reported' in row
    assert 'data-figure="click_rate">25.0% of sent' in row
    assert 'id="per-sent-why"' in page and WHY in page
    assert not [query for query in queries.captured_queries if '"delivery_message"' in query["sql"]]
    assert not [query for query in queries.captured_queries if '"linktrack_click"' in query["sql"]]


def test_compare_and_insights_show_the_click_rate_of_sent_messages(client, manager, promotional, template, customers):
    sale = sent_and_clicked(promotional, manager, customers, name="Sale", handed_over=4, clickers=1)
    order = sent_and_clicked(template, manager, customers, name="Order", handed_over=4, clickers=1)
    Message.objects.filter(campaign=order).exclude(status=Message.Status.NOT_SENT).update(
        status=Message.Status.DELIVERED, reason_code=""
    )
    client.force_login(manager)

    compare = client.get(reverse("insights:compare"), {"c": [sale.pk, order.pk]}).content.decode()
    insights = client.get(reverse("insights:overview")).content.decode()
    export = b"".join(client.get(reverse("insights:export")).streaming_content).decode()

    assert "25.0% of sent messages: operators report no delivery for this promotional sender" in compare
    assert "Sale</a></td><td>SMS</td>\n      <td>not reported" in insights
    assert "25.0% of sent" in insights and 'id="per-sent-why"' in insights
    assert "Sale,sms,0,1,2,25.0,sent" in export
    assert "Order,sms,4,1,2,25.0,delivered" in export


def test_the_preview_and_the_launch_confirmation_warn_that_no_delivery_will_be_reported(
    client, manager, promotional, template, customers
):
    sale = create_campaign(promotional, manager, name="Sale")
    order = create_campaign(template, manager, name="Order")
    client.force_login(manager)

    preview = client.get(reverse("campaigns:preview", args=[sale.pk])).content.decode()
    confirmation = client.post(reverse("campaigns:launch", args=[sale.pk]), {"when": "now"}).content.decode()
    other = client.get(reverse("campaigns:preview", args=[order.pk])).content.decode()

    for page in (preview, confirmation):
        assert 'id="no-delivery-report"' in page
        assert "567890 is a promotional (numeric) sender: operators report no delivery for its SMS" in page
    assert 'id="no-delivery-report"' not in other
    assert Campaign.objects.get(pk=sale.pk).status == Campaign.Status.DRAFT
