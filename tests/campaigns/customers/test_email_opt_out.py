"""One-click unsubscribe (RFC 2369 / RFC 8058): an email campaign goes through the SMTP gateway to a real local
aiosmtpd server; the received emails' List-Unsubscribe header and footers are then used as a recipient would."""

import email
import email.policy
import re
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve, reverse

from campaigns.customers.opt_out_views import email_unsubscribe
from campaigns.models import Customer, Template, Unsubscribe
from delivery.gateways.email import (
    bounce_address,
    html_with_unsubscribe_footer,
    unsubscribe_token,
    unsubscribe_token_message_id,
)
from delivery.models import GatewayConfig, Message
from linktrack.models import ShortLink
from tests.factories import create_campaign
from tests.helpers import launch
from tests.local_peers import running_mail_server

SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/diwali"}]
ONE_CLICK = "List-Unsubscribe=One-Click"


class Mailbox:
    """A receiving mail server that accepts every email and keeps it."""

    def __init__(self):
        self.received: dict[str, EmailMessage] = {}

    async def handle_DATA(self, server, session, envelope):
        for recipient in envelope.rcpt_tos:
            self.received[recipient] = email.message_from_bytes(envelope.content, policy=email.policy.default)
        return "250 Message accepted for delivery"


@pytest.fixture
def mailbox(org, settings):
    settings.PUBLIC_BASE_URL = "https://app.acme.test/"
    settings.GATEWAY_ALLOW_PRIVATE_ADDRESSES = True  # the mail server listens on 127.0.0.1
    box = Mailbox()
    with running_mail_server(box) as port:
        GatewayConfig.objects.create(
            org=org,
            channel="email",
            kind=GatewayConfig.Kind.EMAIL,
            settings={"host": "127.0.0.1", "port": port, "from_email": "news@acme.test"},
        )
        yield box


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(
        org=org,
        name="Newsletter",
        channel="email",
        subject="Diwali offers for {#var#}",
        body="Hello {#var#}, this week's offers: {#var#}",
        html_body='<html><body><p>Hello {#var#}, <a href="{#var#}">see the offers</a></p></body></html>',
    )


@pytest.fixture
def readers(org) -> list[Customer]:
    return [
        Customer.objects.create(org=org, name="Asha", email="asha@example.in", mobile="+919810000001"),
        Customer.objects.create(org=org, name="Ravi", email="ravi@example.in", mobile="+919810000002"),
    ]


@pytest.fixture
def send(email_template, manager, django_capture_on_commit_callbacks):
    def send_email_campaign(name: str):
        campaign = create_campaign(email_template, manager, name=name, slot_values=SLOTS)
        return launch(campaign, manager, django_capture_on_commit_callbacks)

    return send_email_campaign


@pytest.fixture
def asha_email(mailbox, readers, send) -> EmailMessage:
    """The Diwali email as Asha's mail server received it."""
    send("Diwali")
    return mailbox.received["asha@example.in"]


def _parts(received: EmailMessage) -> tuple[str, str]:
    text = next(p for p in received.walk() if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in received.walk() if p.get_content_type() == "text/html").get_content()
    return text, html


def _link(received: EmailMessage) -> str:
    return re.fullmatch(r"<(https://[^>]+)>", received["List-Unsubscribe"]).group(1)


def _path(received: EmailMessage) -> str:
    return urlsplit(_link(received)).path


def _asha() -> Customer:
    return Customer.objects.get(email="asha@example.in")


# --- the email ------------------------------------------------------------------------------------------------------


def test_every_campaign_email_carries_its_own_one_click_unsubscribe_link_in_headers_and_both_footers(
    asha_email, mailbox
):
    # given the emails of a campaign as the receiving server got them
    ravi_email = mailbox.received["ravi@example.in"]

    # then each has a List-Unsubscribe https link on the public URL, with the one-click POST header
    link = _link(asha_email)
    assert link.startswith("https://app.acme.test/u/")
    assert asha_email["List-Unsubscribe-Post"] == ONE_CLICK
    assert _link(ravi_email) != link
    # and that link is the footer of the text part, and a link before </body> of the HTML part
    text, html = _parts(asha_email)
    assert text.rstrip().endswith(f"Unsubscribe: {link}")
    assert f'<a href="{link}"' in html
    assert html.index(link) < html.index("</body>")
    # and the link names Asha's message
    message = Message.objects.get(recipient="asha@example.in")
    assert unsubscribe_token_message_id(_path(asha_email).removeprefix("/u/")) == message.pk
    # and the rendered message the campaign keeps is unchanged (the footer is added per email, at send time)
    assert "Unsubscribe" not in message.body + message.html_body


def test_the_unsubscribe_link_is_not_a_tracked_short_link(asha_email):
    text, html = _parts(asha_email)
    link = _link(asha_email)

    # the campaign's own link was rewritten into a short link, in both parts
    short_link = ShortLink.objects.get(destination="https://acme.test/diwali")
    assert "https://acme.test/diwali" not in text + html
    assert "/s/" in text and "/s/" in html
    # but the unsubscribe link leads straight to the unsubscribe page, and no short link was made for it
    assert resolve(urlsplit(link).path).func is email_unsubscribe
    assert list(ShortLink.objects.values_list("pk", flat=True)) == [short_link.pk]


def test_with_a_bounce_domain_list_unsubscribe_also_offers_a_signed_mailto_address(mailbox, readers, send, settings):
    settings.EMAIL_BOUNCE_DOMAIN = "bounces.acme.test"

    send("Diwali")

    # the https link first (one-click), then the mailto target the bounce receiver reads
    header = mailbox.received["asha@example.in"]["List-Unsubscribe"]
    link, mailto = re.fullmatch(r"<(https://[^>]+)>, <mailto:([^>?]+)\?subject=unsubscribe>", header).groups()
    token = urlsplit(link).path.rsplit("/", 1)[1]
    assert mailto == f"unsubscribe+{token}@bounces.acme.test"


@pytest.mark.django_db(transaction=True)  # the receiver applies the unsubscribe from its own thread
def test_an_email_to_the_unsubscribe_address_unsubscribes_from_email_and_a_forged_one_is_refused(
    mailbox, readers, send, settings, bounce_server
):
    # given the Diwali email, sent with a bounce domain, and `manage.py receive_bounces` listening for it
    send("Diwali")
    header = mailbox.received["asha@example.in"]["List-Unsubscribe"]
    mailto = re.search(r"<mailto:([^>?]+)\?", header).group(1)

    # when Asha's mail app emails the unsubscribe address (and someone tries an altered one)
    answer = _email(bounce_server, mailto)
    forged = _email(bounce_server, mailto.replace("+", "+1", 1))

    # then she is unsubscribed from email only, recorded as the unsubscribe link; the forged address is refused
    assert answer == (250, b"2.0.0 Unsubscribed")
    asha = _asha()
    assert (asha.email_subscribed, asha.sms_subscribed) == (False, True)
    record = Unsubscribe.objects.get(customer=asha)
    assert record.source == Unsubscribe.Source.EMAIL_LINK and record.note.startswith("by email to the unsubscribe")
    assert forged[0] == 550
    # and a second email changes nothing
    assert _email(bounce_server, mailto) == (250, b"2.0.0 Already unsubscribed")
    assert Unsubscribe.objects.filter(customer=asha).count() == 1


def _email(port: int, to: str) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("mail.example.in")
        smtp.mail("asha@example.in")
        code, text = smtp.rcpt(to)
        if code != 250:
            return code, text
        return smtp.data("Subject: unsubscribe\r\n\r\nunsubscribe\r\n")


# --- the page -------------------------------------------------------------------------------------------------------


def test_opening_the_link_asks_first_and_unsubscribes_nobody(asha_email, client):
    # when a person (or a mail scanner prefetching links) opens the link
    response = client.get(_path(asha_email))

    # then the page asks, naming the masked address and the brand, with a POST button
    assert response.status_code == 200
    page = response.content.decode()
    assert "Unsubscribe a***@example.in from Acme Retail emails?" in page
    assert "asha@example.in" not in page
    assert '<form method="post">' in page and 'type="submit"' in page
    assert response["Cache-Control"] == "private, no-store"
    # and nobody is unsubscribed
    assert Customer.objects.filter(email_subscribed=False).count() == 0
    assert not Unsubscribe.objects.exists()


def test_confirming_on_the_page_unsubscribes_from_email_only_and_records_the_unsubscribe_link(
    asha_email, client, manager
):
    # when Asha confirms on the page
    response = client.post(_path(asha_email))

    # then she is unsubscribed from email, her SMS subscription stays, and Ravi is untouched
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    asha = _asha()
    assert (asha.email_subscribed, asha.sms_subscribed) == (False, True)
    assert Customer.objects.get(email="ravi@example.in").email_subscribed
    record = Unsubscribe.objects.get()
    assert (record.customer, record.channel, record.source) == (asha, "email", "email_link")
    assert "Diwali" in record.note
    # and her customer page shows how in its unsubscribe history
    client.force_login(manager)
    page = client.get(reverse("campaigns:customer-detail", args=[asha.pk])).content.decode()
    assert "<td>Unsubscribe link</td>" in page


def test_a_second_confirmation_changes_nothing_and_says_so(asha_email, client):
    client.post(_path(asha_email))

    response = client.post(_path(asha_email))

    assert response.status_code == 200
    assert "was already unsubscribed from Acme Retail emails" in response.content.decode()
    assert Unsubscribe.objects.count() == 1
    assert "You are unsubscribed" in client.get(_path(asha_email)).content.decode()


def test_a_mail_apps_one_click_post_without_cookie_or_csrf_token_unsubscribes(asha_email):
    # given a mail app's client: no cookie, CSRF checks enforced as for any browser
    mail_app = Client(enforce_csrf_checks=True)

    # when it posts exactly the RFC 8058 body to the List-Unsubscribe link
    response = mail_app.post(_path(asha_email), ONE_CLICK, content_type="application/x-www-form-urlencoded")

    # then it is answered 200 and Asha is unsubscribed from email, once
    assert response.status_code == 200
    assert not _asha().email_subscribed
    assert Unsubscribe.objects.get().source == "email_link"
    # and the multipart form some clients use works too (and changes nothing the second time)
    assert mail_app.post(_path(asha_email), {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert Unsubscribe.objects.count() == 1


def test_the_page_form_posts_with_a_csrf_token_and_a_post_without_one_is_refused(asha_email):
    browser = Client(enforce_csrf_checks=True)

    # a POST without the page's CSRF token (and not the one-click form) is refused and unsubscribes nobody
    refused = browser.post(_path(asha_email), {"List-Unsubscribe": "Yes"})
    assert refused.status_code == 403
    assert _asha().email_subscribed

    # the page's form carries the token, and posting it (with the cookie the page set) works
    page = browser.get(_path(asha_email)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    accepted = browser.post(_path(asha_email), {"csrfmiddlewaretoken": token})
    assert accepted.status_code == 200
    assert not _asha().email_subscribed


def test_forged_or_altered_tokens_get_a_friendly_not_found_page(asha_email, client, readers):
    message = Message.objects.get(recipient="asha@example.in")
    real = _path(asha_email).removeprefix("/u/")
    message_id, _, signature = real.partition(".")
    ravi = Message.objects.get(recipient="ravi@example.in")
    mina = Customer.objects.create(org=message.campaign.org, name="Mina", mobile="+919810000003")
    sms_message = Message.objects.create(campaign=message.campaign, customer=mina, channel="sms", recipient=mina.mobile)
    bounce_token = bounce_address(message_id=message.pk, domain="b.test").partition("+")[2].partition("@")[0]
    forged = [
        f"{message_id}.{'0' * len(signature)}",  # a made-up signature
        f"{message_id}.{signature[:-1]}{'a' if signature[-1] != 'a' else 'b'}",  # one character changed
        f"{ravi.pk}.{signature}",  # Asha's signature on Ravi's message
        f"0{message_id}.{signature}",  # the same id written another way
        bounce_token,  # the return path's token is not an unsubscribe token
        unsubscribe_token(message_id=sms_message.pk),  # not an email
        unsubscribe_token(message_id=999_999_999),  # no such message
        "nonsense",
        message_id,
    ]

    for token in forged:
        response = client.post(f"/u/{token}", {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 404, token
        assert "This unsubscribe link does not work" in response.content.decode()
        assert client.get(f"/u/{token}").status_code == 404

    assert Customer.objects.filter(email_subscribed=False).count() == 0


def test_the_next_email_campaign_records_unsubscribed_as_the_not_sent_reason(asha_email, client, mailbox, send):
    client.post(_path(asha_email))
    mailbox.received.clear()

    campaign = send("Weekend sale")

    asha_message = Message.objects.get(campaign=campaign, recipient="asha@example.in")
    assert (asha_message.status, asha_message.reason_code) == ("not_sent", "unsubscribed")
    assert list(mailbox.received) == ["ravi@example.in"]


# --- the footer of any HTML part ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Hi</p>", '<p>Hi</p><p class="x"><a href="L">Unsubscribe</a></p>'),
        (
            "<body><p>Hi</p></BODY >\n</html>",
            '<body><p>Hi</p><p class="x"><a href="L">Unsubscribe</a></p></BODY >\n</html>',
        ),
    ],
)
def test_the_html_footer_goes_before_the_end_of_the_body_or_at_the_end(markup, expected):
    footer = html_with_unsubscribe_footer(markup, "https://app.acme.test/u/1.ab&c")

    normalized = re.sub(r'<p style="[^"]*">', '<p class="x">', footer)
    normalized = re.sub(r'<a href="[^"]*"[^>]*>', '<a href="L">', normalized)
    assert normalized == expected
    assert 'href="https://app.acme.test/u/1.ab&amp;c"' in footer
