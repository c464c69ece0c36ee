"""Frequency cap on the pages: the Sending rules page sets it, the campaign preview states it."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from campaigns.models import Org
from campaigns.sending import rules as sending_rules
from tests.campaigns.sending.frequency_cap import cap
from tests.factories import create_campaign

# --- the Sending rules page -----------------------------------------------------------------------------------


def _rules_url(org: Org | None = None) -> str:
    return reverse("campaigns:sending-rules") + (f"?org={org.pk}" if org else "")


def _change_url(org: Org) -> str:
    return reverse("campaigns:sending-rules-change", args=[org.pk])


def test_the_campaign_list_links_to_the_sending_rules(client, manager):
    client.force_login(manager)

    html = client.get(reverse("campaigns:list")).content.decode()

    assert f'href="{reverse("campaigns:sending-rules")}"' in html


def test_a_manager_sets_the_limit_and_the_page_says_it(client, manager, org):
    client.force_login(manager)
    assert "No limit" in client.get(_rules_url()).content.decode()

    response = client.post(_change_url(org), {"frequency_cap_messages": "2", "frequency_cap_days": "7"})

    assert response.status_code == 302 and response.url == _rules_url(org)
    org.refresh_from_db()
    assert (org.frequency_cap_messages, org.frequency_cap_days) == (2, 7)
    page = client.get(response.url).content.decode()
    assert "At most 2 promotional messages per customer in 7 days: recipients over it are not sent" in page
    assert 'name="frequency_cap_messages" value="2"' in page


def test_an_empty_limit_turns_it_off(client, manager, org):
    cap(org, 3, days=5)
    client.force_login(manager)

    response = client.post(_change_url(org), {"frequency_cap_messages": "", "frequency_cap_days": "5"})

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.frequency_cap_messages is None
    assert "No limit" in client.get(response.url).content.decode()


@pytest.mark.parametrize(
    "messages, days, field, words",
    [
        ("0", "7", "frequency_cap_messages", "Give a number of messages from 1 to 50, or leave it empty for no limit."),
        (
            "51",
            "7",
            "frequency_cap_messages",
            "Give a number of messages from 1 to 50, or leave it empty for no limit.",
        ),
        (
            "two",
            "7",
            "frequency_cap_messages",
            "Give a number of messages from 1 to 50, or leave it empty for no limit.",
        ),
        ("2", "0", "frequency_cap_days", "Give a number of days from 1 to 30."),
        ("2", "31", "frequency_cap_days", "Give a number of days from 1 to 30."),
        ("2", "", "frequency_cap_days", "Give a number of days from 1 to 30."),
    ],
)
def test_a_limit_out_of_range_is_refused_in_words_next_to_its_field(client, manager, org, messages, days, field, words):
    client.force_login(manager)

    response = client.post(_change_url(org), {"frequency_cap_messages": messages, "frequency_cap_days": days})

    assert response.status_code == 400
    field_html = response.content.decode().split(f'id="field-{field}"')[1].split("</div>")[0]
    assert words in field_html
    org.refresh_from_db()
    assert (org.frequency_cap_messages, org.frequency_cap_days) == (None, 7)


def test_the_service_refuses_a_limit_out_of_range_in_words(org):
    with pytest.raises(ValidationError) as refused:
        sending_rules.frequency_cap_set(org=org, messages=51, days=31)

    assert refused.value.message_dict == {
        "frequency_cap_messages": [sending_rules.MESSAGES_IN_WORDS],
        "frequency_cap_days": [sending_rules.DAYS_IN_WORDS],
    }


def test_another_orgs_sending_rules_are_not_found(client, outsider, org):
    client.force_login(outsider)

    assert client.get(_rules_url(org)).status_code == 404
    response = client.post(_change_url(org), {"frequency_cap_messages": "1", "frequency_cap_days": "7"})

    assert response.status_code == 404
    org.refresh_from_db()
    assert org.frequency_cap_messages is None


def test_support_staff_set_the_limit_of_any_org(client, support, org, other_org):
    client.force_login(support)

    assert client.get(_rules_url(other_org)).status_code == 200
    response = client.post(_change_url(other_org), {"frequency_cap_messages": "4", "frequency_cap_days": "30"})

    assert response.status_code == 302
    other_org.refresh_from_db()
    assert (other_org.frequency_cap_messages, other_org.frequency_cap_days) == (4, 30)


def test_signing_in_is_required(client, org):
    assert client.get(_rules_url()).status_code == 302
    client.post(_change_url(org), {"frequency_cap_messages": "1", "frequency_cap_days": "7"})
    org.refresh_from_db()
    assert org.frequency_cap_messages is None


def test_a_change_without_the_csrf_token_is_refused(manager, org):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    assert 'name="csrfmiddlewaretoken"' in browser.get(_rules_url()).content.decode()

    response = browser.post(_change_url(org), {"frequency_cap_messages": "1", "frequency_cap_days": "7"})

    assert response.status_code == 403
    org.refresh_from_db()
    assert org.frequency_cap_messages is None


# --- the campaign preview -------------------------------------------------------------------------------------


def test_the_preview_of_a_promotional_campaign_states_the_limit(client, manager, org, promotional_template, people):
    cap(org, 2, days=7)
    campaign = create_campaign(promotional_template, manager)
    client.force_login(manager)

    html = client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()

    line = html.split('id="frequency-cap">')[1].split("</p>")[0]
    assert "At most 2 promotional messages per customer in 7 days: recipients over it are not sent." in line
    assert _rules_url(org) in line


def test_the_preview_of_a_service_campaign_says_the_limit_does_not_apply(client, manager, org, template, people):
    cap(org, 1, days=1)
    client.force_login(manager)

    html = client.get(reverse("campaigns:preview", args=[create_campaign(template, manager).pk])).content.decode()

    assert (
        escape(
            "The limit of 1 promotional message per customer in 1 day does not apply: this campaign's sender is not "
            "promotional."
        )
        in html
    )


def test_the_preview_without_a_limit_says_nothing_of_it(client, manager, promotional_template, people):
    client.force_login(manager)

    html = client.get(reverse("campaigns:preview", args=[create_campaign(promotional_template, manager).pk]))

    assert 'id="frequency-cap"' not in html.content.decode()
