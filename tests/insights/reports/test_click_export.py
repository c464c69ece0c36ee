"""A campaign's clicks download as CSV: one row per click by a person, in the org's time, safe in a spreadsheet."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse

from campaigns.models import Customer
from linktrack.common.csv_export import spreadsheet_safe
from tests.factories import sent_campaign
from tests.linktrack.helpers import IPHONE, SENT, add_click


@pytest.fixture
def sent(template):
    return sent_campaign(template, SENT)


def download(client, campaign) -> list[dict]:
    response = client.get(reverse("insights:campaign-clicks-export", args=[campaign.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="campaign-{campaign.pk}-clicks.csv"'
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_click_by_a_person_is_a_row_and_previews_are_left_out(client, manager, sent):
    campaign, link, messages = sent
    Customer.objects.filter(pk=messages[1].customer_id).update(name='=HYPERLINK("http://evil.test","Open")')
    add_click(link, messages[0], SENT + timedelta(minutes=15))
    add_click(link, messages[0], SENT + timedelta(minutes=20), agent=IPHONE)
    add_click(link, messages[1], SENT + timedelta(hours=2))
    add_click(link, messages[2], SENT + timedelta(minutes=1), agent="WhatsApp/2.23.20.0 A", bot=True)
    add_click(link, None, SENT + timedelta(days=1))  # a hit whose recipient is not known
    client.force_login(manager)

    rows = download(client, campaign)

    assert len(rows) == 4  # the Total Click Count, as the campaign page shows it
    assert rows[0] == {
        "clicked_at": "2026-11-20T10:20:00+05:30",
        "recipient": messages[0].recipient,
        "customer_id": "C1",
        "customer_name": "Customer 1",
        "link": "https://acme.test/sale",
        "device": "Android",
        "channel": "sms",
    }
    assert rows[1]["device"] == "iPhone / iPad" and rows[1]["clicked_at"] == "2026-11-20T10:25:00+05:30"
    assert rows[2]["customer_name"] == '\'=HYPERLINK("http://evil.test","Open")'
    assert rows[3]["recipient"] == "" and rows[3]["clicked_at"] == "2026-11-21T10:05:00+05:30"
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Download every click (CSV)</a>: time, recipient, link and device of each of the 4 clicks." in page


def test_another_orgs_campaign_clicks_are_a_404_and_visitors_sign_in_first(client, outsider, sent):
    campaign, link, messages = sent
    add_click(link, messages[0], SENT)
    url = reverse("insights:campaign-clicks-export", args=[campaign.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    client.force_login(outsider)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("+919812345678", "+919812345678"),
        ("+91 98123 45678", "+91 98123 45678"),
        ("-5", "-5"),
        ("Asha = VIP", "Asha = VIP"),
        ("", ""),
        (42, 42),
        (None, None),
    ],
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(value, written):
    assert spreadsheet_safe(value) == written
