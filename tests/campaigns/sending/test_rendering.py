"""MessageRenderer: what dispatch hands to a gateway, or the not-sent reason when the message would fail DLT."""

import pytest

from campaigns.models import Campaign, Channel, Customer, Template
from campaigns.sending.renderer import MessageRenderer
from delivery.models import Message
from linktrack.models import ShortLink
from linktrack.redirect import codes
from tests.factories import CampaignFactory


@pytest.fixture(autouse=True)
def _short_domain(org, settings):
    settings.HASHIDS_SALT = "linktrack-test-salt"
    settings.SHORT_LINK_SHOW_SCHEME = False
    org.short_domain = "s.cplry.com"
    org.save(update_fields=["short_domain"])


def _messages(campaign: Campaign, customers: list[Customer]) -> list[Message]:
    channel = campaign.template.channel
    return Message.objects.bulk_create(
        [
            Message(
                campaign=campaign,
                customer=c,
                channel=channel,
                recipient=c.mobile if channel == Channel.SMS else c.email,
            )
            for c in customers
        ]
    )


def _campaign(template: Template, slot_values: list[dict]) -> Campaign:
    return CampaignFactory(org=template.org, name="Test", template=template, slot_values=slot_values)


def test_each_recipient_gets_their_own_short_link_in_the_slot(template, customers):
    # given a campaign of a tracking org whose second slot is a link
    campaign = _campaign(
        template, [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.in/t?o=1#x"}]
    )
    messages = _messages(campaign, customers[:2])
    # when its messages are rendered
    MessageRenderer(campaign).render(messages)
    # then each body carries a short link minted for that recipient, pointing at the destination as written
    link = ShortLink.objects.get(campaign=campaign)
    assert link.destination == "https://acme.in/t?o=1#x"
    for message in messages:
        code = codes.encode(link.pk, message.pk)
        assert (
            message.body == f"Hi {message.customer.name}, your order has shipped. Track it: s.cplry.com/{code} - Acme"
        )
        assert message.status == Message.Status.QUEUED and message.segments == 1
    assert messages[0].body != messages[1].body


def test_nothing_is_rewritten_when_tracking_is_off(template, customers, org):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    campaign = _campaign(template, [{"source": "text", "value": "friend"}, {"source": "url", "value": "www.acme.in"}])
    messages = _messages(campaign, customers[:1])
    MessageRenderer(Campaign.objects.select_related("org", "template").get(pk=campaign.pk)).render(messages)
    assert messages[0].body == "Hi friend, your order has shipped. Track it: www.acme.in - Acme"
    assert not ShortLink.objects.exists()


def test_customer_value_too_long_for_its_variable_is_not_sent(template, customers):
    # given a customer whose name is longer than a DLT variable allows
    customers[0].name = "A" * 31
    customers[0].save()
    campaign = _campaign(template, [{"source": "field", "value": "name"}, {"source": "text", "value": "soon"}])
    messages = _messages(campaign, customers[:2])
    # when rendered
    MessageRenderer(campaign).render(messages)
    # then that message is not sent with the DLT reason, and the other one is rendered
    assert messages[0].status == Message.Status.NOT_SENT
    assert messages[0].reason_code == "dlt_template_mismatch" and messages[0].body == ""
    assert messages[1].status == Message.Status.QUEUED and messages[1].body.startswith("Hi Customer 2,")


def test_link_that_outgrows_its_variable_after_tracking_was_switched_on_is_not_sent(template, customers, org):
    # given a campaign saved while tracking was off, whose 28-character link fits the variable
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    campaign = _campaign(template, [{"source": "text", "value": "friend"}, {"source": "url", "value": "a.in/1"}])
    # when tracking is switched on with a long short domain and the campaign is rendered
    org.sms_link_tracking = True
    org.short_domain = "links.a-very-long-brand-domain.co.in"
    org.save()
    messages = _messages(campaign, customers[:1])
    MessageRenderer(Campaign.objects.select_related("org", "template").get(pk=campaign.pk)).render(messages)
    # then the message is refused, never sent with a value the operator would block
    assert messages[0].status == Message.Status.NOT_SENT and messages[0].reason_code == "dlt_template_mismatch"


def test_numeric_variable_given_letters_by_a_customer_field_is_not_sent(org, sender, customers):
    template = Template.objects.create(org=org, name="OTP", sender=sender, body="Your code is {#numeric#}. Acme")
    customers[0].attributes = {"otp": "12ab"}
    customers[1].attributes = {"otp": "4821"}
    Customer.objects.bulk_update(customers[:2], ["attributes"])
    campaign = _campaign(template, [{"source": "field", "value": "otp"}])
    messages = _messages(campaign, customers[:2])
    MessageRenderer(campaign).render(messages)
    assert (messages[0].status, messages[0].reason_code) == (Message.Status.NOT_SENT, "dlt_template_mismatch")
    assert messages[1].body == "Your code is 4821. Acme"


def test_javascript_link_from_a_customer_field_is_not_sent_even_without_tracking(template, customers, org):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    customers[0].attributes = {"page": "javascript:alert(1)"}
    customers[0].save()
    campaign = _campaign(template, [{"source": "text", "value": "you"}, {"source": "field", "value": "page"}])
    messages = _messages(campaign, customers[:1])
    MessageRenderer(Campaign.objects.select_related("org", "template").get(pk=campaign.pk)).render(messages)
    assert messages[0].reason_code == "unusable_link"


def test_unicode_message_counts_segments_in_utf16_units(org, sender, customers):
    template = Template.objects.create(org=org, name="Hindi", sender=sender, body="नमस्ते {#var#}! " + "क" * 59)
    campaign = _campaign(template, [{"source": "text", "value": "आशा"}])
    messages = _messages(campaign, customers[:1])
    MessageRenderer(campaign).render(messages)
    assert len(messages[0].body) == 71 and messages[0].segments == 2


@pytest.fixture
def email_template(org) -> Template:
    return Template.objects.create(
        org=org,
        name="Newsletter",
        channel=Channel.EMAIL,
        subject="{#var#}, our sale starts",
        body="Hi {#var#}, shop at https://acme.in/sale or {#var#}. Write to help@acme.in",
        html_body=(
            '<p>Hi {#var#}</p><a href="https://acme.in/sale?a=1&amp;b=2">Sale</a> '
            '<a href=\'{#var#}\'>Yours</a> <a href="mailto:help@acme.in">Mail</a> <a href="tel:+911234">Call</a> '
            '<a href="#top">Top</a>'
        ),
    )


def test_email_links_in_text_and_hrefs_are_rewritten_and_mailto_is_left_alone(email_template, org):
    # given an email campaign of a tracking org, with a fixed link and a link in a slot
    customer = Customer.objects.create(org=org, name="Asha <3", email="asha@example.in")
    campaign = _campaign(
        email_template, [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.in/you"}]
    )
    [message] = _messages(campaign, [customer])
    # when rendered
    MessageRenderer(campaign).render([message])
    # then every http(s) link of both parts is a short link with its scheme; mailto:, tel: and #top stay
    links = dict(ShortLink.objects.filter(campaign=campaign).values_list("destination", "pk"))
    assert set(links) == {"https://acme.in/sale", "https://acme.in/sale?a=1&b=2", "https://acme.in/you"}

    def short(destination):
        return f"https://s.cplry.com/{codes.encode(links[destination], message.pk)}"

    assert message.subject == "Asha <3, our sale starts"
    assert message.body == (
        f"Hi Asha <3, shop at {short('https://acme.in/sale')} or {short('https://acme.in/you')}. Write to help@acme.in"
    )
    assert message.html_body == (
        f'<p>Hi Asha &lt;3</p><a href="{short("https://acme.in/sale?a=1&b=2")}">Sale</a> '
        f'<a href="{short("https://acme.in/you")}">Yours</a> <a href="mailto:help@acme.in">Mail</a> '
        '<a href="tel:+911234">Call</a> <a href="#top">Top</a>'
    )
    assert message.status == Message.Status.QUEUED and message.segments == 1


def test_email_href_with_javascript_from_a_customer_field_is_not_sent(email_template, org):
    customer = Customer.objects.create(org=org, name="x", email="x@example.in", attributes={"u": "java\tscript:x()"})
    campaign = _campaign(email_template, [{"source": "text", "value": "Hi"}, {"source": "field", "value": "u"}])
    [message] = _messages(campaign, [customer])
    MessageRenderer(campaign).render([message])
    assert message.status == Message.Status.NOT_SENT and message.reason_code == "unusable_link"


def test_email_without_tracking_keeps_links(email_template, org):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    customer = Customer.objects.create(org=org, name="Asha", email="asha@example.in")
    campaign = _campaign(email_template, [{"source": "text", "value": "Asha"}, {"source": "url", "value": "acme.in"}])
    [message] = _messages(campaign, [customer])
    MessageRenderer(Campaign.objects.select_related("org", "template").get(pk=campaign.pk)).render([message])
    assert 'href="https://acme.in/sale?a=1&amp;b=2"' in message.html_body and "href='acme.in'" in message.html_body
    assert not ShortLink.objects.exists()


def test_email_campaign_values_have_no_dlt_length_limit_but_sms_ones_do(email_template, template):
    from campaigns.dlt.rendering import template_campaign_problems

    long_link = [{"source": "text", "value": "Asha"}, {"source": "url", "value": "https://acme.in/" + "p" * 40}]
    assert template_campaign_problems(org=email_template.org, template=email_template, slot_values=long_link) == []
    org = template.org
    org.sms_link_tracking = False
    problems = template_campaign_problems(org=org, template=template, slot_values=long_link)
    assert [p.slot for p in problems] == [2] and "DLT allows at most 30" in problems[0].message


def test_customer_values_are_tidied_to_single_spaces(template, customers):
    customers[0].name = "  Asha   Rao "
    customers[0].save()
    campaign = _campaign(template, [{"source": "field", "value": "name"}, {"source": "text", "value": "soon"}])
    messages = _messages(campaign, customers[:1])
    MessageRenderer(campaign).render(messages)
    assert messages[0].body == "Hi Asha Rao, your order has shipped. Track it: soon - Acme"


def test_a_value_that_makes_two_spaces_in_a_row_is_not_sent(org, sender, customers):
    from campaigns.dlt.parsing import parse_template
    from campaigns.dlt.rendering import RenderRefused, render_sms

    with pytest.raises(RenderRefused, match="two spaces in a row"):
        render_sms(parsed=parse_template("Hi {#var#}!"), values=[" Asha"], tracking=False, short_url_for=str)
