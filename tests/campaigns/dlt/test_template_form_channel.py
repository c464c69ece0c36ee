"""The template form shows, checks and saves only the chosen channel's fields (an SMS's sender and DLT template id,
an email's subject and HTML part), and shows every mistake at once."""

import pytest
from django.urls import reverse

from campaigns.models import Template
from tests.factories import SenderIdFactory


def _form(org, **fields) -> dict:
    data = {
        "org": org.pk,
        "name": "Welcome",
        "channel": "sms",
        "sender": "",
        "dlt_template_id": "",
        "subject": "",
        "body": "Hi {#var#}, welcome to Acme",
        "html_body": "",
    }
    return data | fields


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def test_an_email_template_reads_no_sms_field(signed_in, org, other_org):
    # given an email template posted with what the SMS fields held before the channel was switched
    foreign_sender = SenderIdFactory(org=other_org, header="OTHERS")

    response = signed_in.post(
        reverse("campaigns:template-new"),
        _form(
            org,
            channel="email",
            sender=foreign_sender.pk,
            dlt_template_id="12",
            subject="Welcome to Acme",
            html_body="<p>Hi {#var#}</p>",
        ),
    )

    # then it is saved without them: no error about a sender or a DLT id it does not have
    assert response.status_code == 302
    template = Template.objects.get(name="Welcome")
    assert (template.channel, template.sender, template.dlt_template_id) == ("email", None, "")
    assert template.subject == "Welcome to Acme"


def test_an_sms_template_reads_no_email_field(signed_in, org, sender):
    response = signed_in.post(
        reverse("campaigns:template-new"),
        _form(org, sender=sender.pk, dlt_template_id="1707160000000000009", subject="x" * 500, html_body="<p>"),
    )

    assert response.status_code == 302
    template = Template.objects.get(name="Welcome")
    assert (template.subject, template.html_body, template.sender) == ("", "", sender)


def test_the_form_marks_each_channels_fields_for_the_page_to_show_only_the_chosen_ones(signed_in, org):
    page = signed_in.get(reverse("campaigns:template-new")).content.decode()

    assert page.count('data-shown-if="channel:sms"') == 2
    assert page.count('data-shown-if="channel:email"') == 2
    assert "linktrack/shown_if.js" in page


def test_a_template_with_three_mistakes_shows_all_three_next_to_their_fields_and_at_the_top(signed_in, org):
    response = signed_in.post(
        reverse("campaigns:template-new"),
        _form(org, name="", dlt_template_id="12345", body="Hi {#var1#}, welcome"),
    )

    errors = response.context["form"].errors
    assert response.status_code == 200 and not Template.objects.exists()
    assert set(errors) == {"name", "dlt_template_id", "body"}
    page = response.content.decode()
    summary = page[page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))]
    assert summary.count("<li>") == 3
    assert "A DLT template id is 19 digits" in summary
