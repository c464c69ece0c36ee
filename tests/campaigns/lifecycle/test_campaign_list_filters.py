"""The campaign list's search and filters: name, status (with "Active"), channel and type, combined."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.lifecycle.views import CAMPAIGNS_PER_PAGE
from campaigns.models import Campaign, Channel, Template

Status, Kind = Campaign.Status, Campaign.Kind


@pytest.fixture(name="email_template")
def email_template_fixture(org) -> Template:
    return Template.objects.create(
        org=org, name="Newsletter", channel=Channel.EMAIL, subject="News", body="Hi {#var#}, read {#var#}"
    )


def _campaign(template: Template, name: str, **fields) -> Campaign:
    if fields.get("kind") == Kind.COUPON_REMINDER:
        fields.setdefault("coupon_days", 3)
    return Campaign.objects.create(org=template.org, template=template, name=name, **fields)


def _listed(client, **filters) -> str:
    response = client.get(reverse("campaigns:list"), filters)
    assert response.status_code == 200
    return response.content.decode()


def _names(page: str) -> set[str]:
    return set(re.findall(r'<tr data-campaign="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', page))


def _field(page: str, name: str) -> str:
    start = page.index(f'data-filter="{name}"')
    return page[start : page.index("</div>", start)]


def test_search_finds_names_containing_the_words_in_any_case(client, manager, template):
    for name in ("Diwali Sale", "Pre-diwali teaser", "Monsoon offer"):
        _campaign(template, name)
    client.force_login(manager)

    page = _listed(client, q="DIWALI")

    assert _names(page) == {"Diwali Sale", "Pre-diwali teaser"}
    assert 'value="DIWALI"' in _field(page, "q")


def test_status_filter_lists_campaigns_in_that_status(client, manager, template):
    _campaign(template, "Still a draft")
    _campaign(template, "On hold", status=Status.PAUSED)
    _campaign(template, "Sent", status=Status.DISPATCHED)
    client.force_login(manager)

    page = _listed(client, status=Status.PAUSED)

    assert _names(page) == {"On hold"}
    assert f'<option value="{Status.PAUSED}" selected>' in _field(page, "status")


def test_active_means_launched_and_not_finished(client, manager, template):
    for status in Status:
        requested = {"approval_requested_at": timezone.now()} if status == Status.AWAITING_APPROVAL else {}
        _campaign(template, f"In state {status.label}", status=status, **requested)
    client.force_login(manager)

    page = _listed(client, status="in_progress")

    assert _names(page) == {
        "In state Waiting for approval",
        "In state Scheduled",
        "In state Recurring: active",
        "In state Sending",
        "In state Paused",
    }


def test_channel_filter_uses_the_templates_channel_and_the_table_shows_it(client, manager, template, email_template):
    _campaign(template, "Text blast")
    _campaign(email_template, "Mail blast")
    client.force_login(manager)

    email_page = _listed(client, channel=Channel.EMAIL)
    sms_page = _listed(client, channel=Channel.SMS)

    assert _names(email_page) == {"Mail blast"} and _names(sms_page) == {"Text blast"}
    assert "<th>Channel</th>" in email_page and 'data-column="channel">Email</td>' in email_page
    assert 'data-column="channel">SMS</td>' in sms_page


def test_type_filter_lists_campaigns_of_that_kind(client, manager, template):
    source = _campaign(template, "Original", status=Status.DISPATCHED)
    _campaign(template, "Weekly", kind=Kind.RECURRING, schedule="0 10 * * 1")
    _campaign(template, "Coupon nudge", kind=Kind.COUPON_REMINDER)
    _campaign(template, "Second chance", kind=Kind.RESEND, resend_of=source)
    client.force_login(manager)

    assert _names(_listed(client, kind=Kind.ONE_TIME)) == {"Original"}
    assert _names(_listed(client, kind=Kind.RECURRING)) == {"Weekly"}
    assert _names(_listed(client, kind=Kind.COUPON_REMINDER)) == {"Coupon nudge"}
    assert _names(_listed(client, kind=Kind.RESEND)) == {"Second chance"}


def test_filters_combine_so_every_one_must_hold(client, manager, template, email_template):
    _campaign(template, "Diwali SMS sending", status=Status.DISPATCHING)
    _campaign(template, "Diwali SMS draft")
    _campaign(email_template, "Diwali email sending", status=Status.DISPATCHING)
    _campaign(template, "Diwali SMS weekly", status=Status.ACTIVE, kind=Kind.RECURRING, schedule="0 10 * * 1")
    _campaign(template, "Monsoon SMS sending", status=Status.DISPATCHING)
    client.force_login(manager)

    page = _listed(client, q="diwali", status="in_progress", channel=Channel.SMS, kind=Kind.ONE_TIME)

    assert _names(page) == {"Diwali SMS sending"}


def test_pages_keep_the_filters(client, manager, template):
    for number in range(CAMPAIGNS_PER_PAGE + 1):
        _campaign(template, f"Sale {number:03d}", status=Status.PAUSED)
    _campaign(template, "Sale draft")
    client.force_login(manager)

    first = _listed(client, q="sale", status=Status.PAUSED)
    older = re.search(r'<a href="\?([^"]+)">Older</a>', first).group(1).replace("&amp;", "&")
    second = client.get(f"{reverse('campaigns:list')}?{older}").content.decode()
    newer = re.search(r'<a href="\?([^"]+)">Newer</a>', second).group(1).replace("&amp;", "&")

    assert sorted(older.split("&")) == ["page=2", "q=sale", "status=paused"]
    assert _names(second) == {"Sale 000"} and "Page 2 of 2" in second
    assert sorted(newer.split("&")) == ["page=1", "q=sale", "status=paused"]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("status", "bogus", "“bogus” is not a campaign status: choose one from the list."),
        ("channel", "fax", "“fax” is not a channel: choose one from the list."),
        ("kind", "weekly", "“weekly” is not a campaign type: choose one from the list."),
    ],
)
def test_an_invalid_value_is_shown_beside_its_field_and_the_other_filters_still_apply(
    client, manager, template, field, value, words
):
    _campaign(template, "Diwali sale")
    _campaign(template, "Monsoon offer")
    client.force_login(manager)

    page = _listed(client, q="diwali", **{field: value})

    assert words in _field(page, field)
    assert "errorlist" not in _field(page, "q")
    assert _names(page) == {"Diwali sale"}


def test_another_orgs_campaigns_are_never_listed_whatever_the_filters(client, manager, template, other_org, outsider):
    theirs = Template.objects.create(org=other_org, name="Theirs", body="Hi {#var#}")
    _campaign(theirs, "Diwali of another brand", status=Status.PAUSED)
    _campaign(template, "Diwali of ours", status=Status.PAUSED)
    client.force_login(manager)

    for filters in (
        {},
        {"q": "another brand"},
        {"q": "diwali", "status": Status.PAUSED},
        {"status": "in_progress", "channel": Channel.SMS, "kind": Kind.ONE_TIME},
        {"status": "bogus", "q": "brand"},
    ):
        page = _listed(client, **filters)
        assert "Diwali of another brand" not in _names(page), filters
        assert other_org.name not in page, filters

    assert _names(_listed(client, q="diwali", status=Status.PAUSED)) == {"Diwali of ours"}


def test_no_match_says_so_with_a_link_that_clears_the_filters(client, manager, template):
    _campaign(template, "Diwali sale")
    client.force_login(manager)

    page = _listed(client, q="christmas", channel=Channel.EMAIL)

    assert "No campaigns match these filters." in page and "No campaigns yet." not in page
    assert f'<a href="{reverse("campaigns:list")}">Clear the filters</a>' in page


def test_an_org_without_campaigns_reads_no_campaigns_yet(client, manager):
    client.force_login(manager)

    page = _listed(client)

    assert "No campaigns yet." in page and "match these filters" not in page


def test_a_filtered_list_counts_its_matches(client, manager, template):
    _campaign(template, "Diwali sale")
    _campaign(template, "Diwali teaser")
    _campaign(template, "Monsoon offer")
    client.force_login(manager)

    assert "Campaigns matching these filters: 2." in _listed(client, q="diwali")
    assert "Campaigns matching these filters" not in _listed(client)
