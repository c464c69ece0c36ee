"""`<short link>+` shows where a link leads and who sent it, without going there or counting a click."""

from datetime import timedelta

from django.utils import timezone

from linktrack.models import Click, ShortLink
from linktrack.redirect import codes
from tests.factories import CampaignFactory, make_messages
from tests.linktrack.helpers import PHONE_UA, link_for, path_for


def test_a_plus_after_the_code_shows_the_destination_and_sender_and_counts_nothing(client, link, messages):
    path = path_for(link, messages[0])

    response = client.get(path + "+", HTTP_USER_AGENT=PHONE_UA)

    page = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    assert "This link leads to shop.acme.test" in page and "<strong data-sender>Acme Retail</strong>" in page
    # the address the redirect would go to, UTM parameters included, and a way to go on through the link itself
    assert "https://shop.acme.test/sale?x=1&amp;utm_source=sms&amp;utm_campaign=diwali#top" in page
    assert f'href="{path}"' in page
    assert not Click.objects.exists()


def test_on_a_short_domain_the_plus_works_at_the_root(client, acme_on_own_domain, template, customers):
    campaign = CampaignFactory(template=template)
    code = codes.encode(link_for(campaign).pk, make_messages(campaign, customers[:1])[0].pk)

    response = client.get(f"/{code}+", HTTP_HOST="s.acme.test")

    assert response.status_code == 200 and f'href="/{code}"' in response.content.decode()
    assert client.get(f"/{code}+", HTTP_HOST="s.other.test").status_code == 404  # minted for s.acme.test only
    assert not Click.objects.exists()


def test_bad_and_forged_codes_get_the_friendly_page(client, link, messages, template, customers):
    assert client.get("/s/NOTACODE1+").status_code == 404
    other = CampaignFactory(template=template, name="Other")
    forged = codes.encode(link.pk, make_messages(other, customers[1:2])[0].pk)
    assert client.get(f"/s/{forged}+").status_code == 404


def test_an_expired_link_says_so(client, link, messages):
    ShortLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get(path_for(link, messages[0]) + "+")
    assert expired.status_code == 404 and 'data-problem="expired"' in expired.content.decode()


def test_inspecting_is_read_only(client, link, messages):
    assert client.post(path_for(link, messages[0]) + "+").status_code == 405
