"""Campaign managers create and edit DLT templates; errors show next to the field, with the position."""

import pytest
from django.urls import reverse

from campaigns.models import Template
from tests.factories import CampaignFactory


def _form(**fields) -> dict:
    data = {
        "org": "",
        "name": "Welcome",
        "channel": "sms",
        "sender": "",
        "dlt_template_id": "",
        "subject": "",
        "body": "Hi {#var#}, welcome to Acme",
        "html_body": "",
    }
    data.update(fields)
    return data


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def test_manager_creates_a_template_for_their_org(signed_in, org, sender):
    response = signed_in.post(
        reverse("campaigns:template-new"),
        _form(org=org.pk, sender=sender.pk, dlt_template_id="1707160000000000009"),
    )
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:template-list")
    template = Template.objects.get(name="Welcome")
    assert (template.org, template.sender, template.body) == (org, sender, "Hi {#var#}, welcome to Acme")


def test_the_template_list_says_where_links_become_short_links(signed_in, org):
    # the placeholder is written out, not taken for a template comment
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert "Links inside {#var#} variables become tracked short links" in page


def test_malformed_variable_is_shown_next_to_the_body_with_its_position(signed_in, org):
    response = signed_in.post(reverse("campaigns:template-new"), _form(org=org.pk, body="Hi {#var1#}, welcome"))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["body"]
    assert errors["body"][0].startswith("'{#var1#}' looks like a variable but is not one")
    assert errors["body"][0].endswith("(at character 4).")
    assert not Template.objects.exists()
    # and what the manager typed is kept
    assert "Hi {#var1#}, welcome" in response.content.decode()


def test_link_in_fixed_text_is_refused_when_tracking_is_on(signed_in, org):
    response = signed_in.post(reverse("campaigns:template-new"), _form(org=org.pk, body="Shop www.acme.in {#var#}"))
    errors = response.context["form"].errors["body"]
    assert errors == [
        "The link 'www.acme.in' is in the fixed text of the template, outside a {#var#} variable. With link "
        "tracking on, links are replaced by short links, and a changed fixed text no longer matches the DLT "
        "template, so operators would block every message. Move the link into a {#var#} variable."
    ]
    assert not Template.objects.exists()


def test_link_in_fixed_text_is_accepted_when_tracking_is_off(signed_in, org):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    response = signed_in.post(reverse("campaigns:template-new"), _form(org=org.pk, body="Shop www.acme.in {#var#}"))
    assert response.status_code == 302 and Template.objects.filter(body="Shop www.acme.in {#var#}").exists()


def test_email_template_with_javascript_href_is_refused_next_to_the_html(signed_in, org):
    response = signed_in.post(
        reverse("campaigns:template-new"),
        _form(org=org.pk, channel="email", subject="Hi {#var#}", html_body='<a href="javascript:alert(1)">x</a>'),
    )
    errors = response.context["form"].errors
    assert list(errors) == ["html_body"]
    assert errors["html_body"][0].startswith("'javascript:alert(1)' links are not allowed")


def test_email_template_keeps_fixed_links_they_are_rewritten_per_message(signed_in, org):
    response = signed_in.post(
        reverse("campaigns:template-new"),
        _form(org=org.pk, channel="email", subject="Sale", html_body='<a href="https://acme.in/sale">Sale</a>'),
    )
    assert response.status_code == 302
    assert Template.objects.get(name="Welcome").html_body == '<a href="https://acme.in/sale">Sale</a>'


def test_manager_cannot_create_a_template_for_another_org(signed_in, other_org):
    response = signed_in.post(reverse("campaigns:template-new"), _form(org=other_org.pk))
    assert "org" in response.context["form"].errors and not Template.objects.exists()


def test_manager_edits_their_template(signed_in, template):
    response = signed_in.post(
        reverse("campaigns:template-edit", args=[template.pk]),
        _form(name="Shipped", body="Hello {#var#}, shipped. Track: {#var#} - Acme", sender=template.sender_id),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.body) == ("Shipped", "Hello {#var#}, shipped. Track: {#var#} - Acme")


def test_changing_the_variables_of_a_template_in_use_is_refused(signed_in, template):
    CampaignFactory(org=template.org, name="Shipping update", template=template)
    response = signed_in.post(
        reverse("campaigns:template-edit", args=[template.pk]), _form(body="Hi {#var#}, shipped - Acme")
    )
    assert response.status_code == 200
    assert "campaigns use this template (Shipping update)" in response.context["form"].errors["body"][0]
    template.refresh_from_db()
    assert template.body == "Hi {#var#}, your order has shipped. Track it: {#var#} - Acme"


def test_another_orgs_template_is_not_found(client, outsider, template):
    client.force_login(outsider)
    assert client.get(reverse("campaigns:template-edit", args=[template.pk])).status_code == 404
    assert client.post(reverse("campaigns:template-edit", args=[template.pk]), _form()).status_code == 404
    assert "Order shipped" not in client.get(reverse("campaigns:template-list")).content.decode()


def test_anonymous_user_is_sent_to_login(client, template):
    for url in (
        reverse("campaigns:template-list"),
        reverse("campaigns:template-new"),
        reverse("campaigns:template-edit", args=[template.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_manager_sees_the_tracking_state_and_how_to_ask_for_a_change(signed_in, org):
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert f'data-tracking="{org.pk}">on<' in page
    assert "Only support staff can switch link tracking: to have it switched off, contact support." in page
    assert reverse("support:orgs") not in page


def test_template_form_is_csrf_protected(manager, org):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.post(reverse("campaigns:template-new"), _form(org=org.pk)).status_code == 403


def test_template_list_shows_links_outside_variables(signed_in, org, sender):
    org.sms_link_tracking = False
    org.save(update_fields=["sms_link_tracking"])
    template = Template.objects.create(org=org, name="Sale", sender=sender, body="Sale at acme.in/sale, {#var#}")
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert f'data-fixed-links="{template.pk}"><code>acme.in/sale</code>' in page
    assert "Would be refused if link tracking were switched on." in page
