"""The template page says how long its SMS are, as the preview does: characters, encoding, segments; and warns
above 6 segments (a 10,000-character body, say)."""

from django.urls import reverse

from campaigns.dlt.sms_length import GSM7, UCS2
from campaigns.dlt.template_length import template_length
from tests.factories import TemplateFactory


def test_a_plain_template_is_gsm7_and_its_variables_count_at_their_limit():
    length = template_length("Hi {#var#}, your order has shipped. Track it: {#var#} - Acme")

    assert (length.fixed.encoding, length.fixed.characters, length.fixed.segments) == (GSM7, 46, 1)
    assert (length.at_limit.characters, length.at_limit.segments) == (106, 1)
    assert not length.long


def test_hindi_and_emoji_make_ucs2_counted_in_utf16_units():
    length = template_length("नमस्ते {#var#} 🎉 आपका ऑर्डर भेज दिया गया है, धन्यवाद")

    assert length.fixed.encoding == UCS2
    assert length.fixed.units == length.fixed.characters + 1  # the emoji takes two UTF-16 units
    assert length.at_limit.segments == 2  # 30 more units make it longer than one 70-unit SMS


def test_a_10000_character_body_is_66_segments_and_long():
    length = template_length("A" * 10_000)

    assert (length.fixed.characters, length.fixed.segments) == (10_000, 66)  # 153 per part
    assert length.long


def test_the_template_page_shows_the_length_and_warns_above_6_segments(client, org, manager, sender):
    client.force_login(manager)
    short = TemplateFactory(org=org, sender=sender, name="Hindi", body="नमस्ते {#var#}! 🎉")
    long = TemplateFactory(org=org, sender=sender, name="Essay", body="Dear {#var#}, " + "a" * 1_000)

    page = client.get(reverse("campaigns:template-edit", args=[short.pk])).content.decode()
    fixed = page.split('data-row="fixed">')[1].split("</tr>")[0]
    assert '<td data-length="encoding">UCS-2</td>' in fixed and '<td data-length="segments">1</td>' in fixed
    assert 'id="sms-length-warning" hidden' in page

    page = client.get(reverse("campaigns:template-edit", args=[long.pk])).content.decode()
    assert 'id="sms-length-warning" hidden' not in page
    assert 'Long message: the fixed text alone takes <strong data-length="warn-segments">7</strong> segments' in page


def test_a_refused_save_shows_the_length_of_what_was_typed(client, org, manager, sender):
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:template-new"),
        {
            "org": org.pk,
            "name": "Bad",
            "channel": "sms",
            "sender": sender.pk,
            "dlt_template_id": "12",
            "body": "A" * 200,
        },
    )
    page = response.content.decode()
    fixed = page.split('data-row="fixed">')[1].split("</tr>")[0]
    assert '<td data-length="characters">200</td>' in fixed and '<td data-length="segments">2</td>' in fixed
