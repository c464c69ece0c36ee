"""Chromium: the campaign page draws its delivery funnel, its clicks after sending and its devices, and Insights its
clicks per day, each as an SVG with a title and its numbers in a table beside it that says what the bars say.
Screenshots go to tests/artifacts/."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from campaigns.models import Campaign, Customer
from tests.factories import PASSWORD, CustomerFactory, make_messages, sent_campaign
from tests.linktrack.helpers import CHROME_ANDROID, IPHONE, SENT, add_click

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, user, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    page.fill("#id_username", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def _chart(page, chart_id: str) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """What the chart's bars say ((category, series) -> value) and what its table says, read from the page."""
    chart = page.locator(f"figure#{chart_id}")
    expect(chart.locator("svg[role=img]")).to_be_visible()
    assert chart.locator("svg > title").text_content()
    assert chart.locator("svg").get_attribute("aria-label")
    bars = {}
    for bar in chart.locator("svg rect").all():
        key = (bar.get_attribute("data-category"), bar.get_attribute("data-series"))
        bars[key] = bar.get_attribute("data-value")
        assert bar.locator("title").text_content() == f"{key[0]}: {bars[key]} {key[1].lower()}"
    chart.locator("details > summary").click()
    table = chart.locator("table")
    expect(table).to_be_visible()
    series = [cell.inner_text() for cell in table.locator("thead th").all()][1:]
    numbers = {}
    for row in table.locator("tbody tr").all():
        category = row.locator("th").inner_text()
        for name, cell in zip(series, row.locator("td").all(), strict=True):
            numbers[(category, name)] = cell.inner_text()
    return bars, numbers


def test_each_chart_is_drawn_with_its_numbers_in_a_table_that_matches_it(
    transactional_db, live_server, browser_page, org, template, manager
):
    # given a finished campaign: 3 delivered, 2 not delivered, 1 not sent; clicks in its first hours and 3 days later
    campaign, link, messages = sent_campaign(template, SENT)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DISPATCHED)
    others = Customer.objects.bulk_create([CustomerFactory.build(org=org, number=n) for n in range(4, 7)])
    make_messages(
        campaign, others[:2], channel="sms", status="not_delivered", reason_code="undeliverable", sent_at=SENT
    )
    make_messages(campaign, others[2:], channel="sms", status="not_sent", reason_code="unsubscribed")
    add_click(link, messages[0], SENT + timedelta(minutes=15))
    add_click(link, messages[1], SENT + timedelta(minutes=45), agent=IPHONE)
    add_click(link, messages[1], SENT + timedelta(hours=2), agent=IPHONE)
    add_click(link, messages[2], SENT + timedelta(days=3), agent=CHROME_ANDROID)
    page = browser_page

    # when the manager opens the campaign page
    _sign_in(page, live_server, manager, f"/campaigns/{campaign.pk}/")

    # then the funnel shows messages, sent, delivered and the rest, its table saying the same
    bars, numbers = _chart(page, "delivery-funnel")
    assert bars == numbers
    assert bars[("Messages", "Messages")] == "6"
    assert bars[("Sent (83.3%)", "Messages")] == "5"
    assert bars[("Delivered (50.0%)", "Messages")] == "3"
    assert bars[("Not delivered (33.3%)", "Messages")] == "2"
    assert bars[("Not sent (16.7%)", "Messages")] == "1"
    labels = [text.text_content() for text in page.locator("#delivery-funnel text[data-value-label]").all()]
    assert labels == ["6", "5", "3", "2", "1", "0"]
    # the clicks: 48 hours hour by hour (2 in the first, 1 in the third), then the day with the late click
    bars, numbers = _chart(page, "click-timeline")
    assert bars == numbers and len(bars) == 49
    hours = list(bars.values())
    assert hours[:3] == ["2", "0", "1"] and hours[-1] == "1"
    assert ("Mon 23 Nov 2026", "Clicks") in bars
    # devices: clicks and recipients who clicked, per kind
    bars, numbers = _chart(page, "click-devices-chart")
    assert bars == numbers
    assert bars[("Android", "Clicks")] == "2" and bars[("iPhone / iPad", "Clicks")] == "2"
    assert bars[("iPhone / iPad", "Recipients who clicked")] == "1"
    _screenshot(page, "charts-campaign-page")

    # when they open Insights for all time, then SMS clicks per day are drawn, Unique and Total each day
    page.goto(f"{live_server.url}/insights/?period=all")
    bars, numbers = _chart(page, "daily-clicks-sms")
    assert bars == numbers
    assert bars[("Fri 20 Nov 2026", "Total")] == "3" and bars[("Fri 20 Nov 2026", "Unique")] == "2"
    assert bars[("Sat 21 Nov 2026", "Total")] == "0"
    assert bars[("Mon 23 Nov 2026", "Total")] == "1"
    _screenshot(page, "charts-insights")
