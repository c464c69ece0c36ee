"""Campaign managers record the URLs their org whitelisted on DLT; templates show what TRAI's rules say."""

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Template, WhitelistedUrl
from tests.factories import PASSWORD
from tests.helpers import admin_sign_in


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def _page(org) -> str:
    return reverse("campaigns:url-whitelist", args=[org.pk])


def test_manager_adds_a_dynamic_url_and_sees_it_listed(signed_in, org, manager):
    response = signed_in.post(_page(org), {"url": "https://acme.in/order?id=", "kind": "dynamic"})
    assert response.status_code == 302 and response["Location"] == _page(org)
    entry = WhitelistedUrl.objects.get(org=org)
    assert (entry.url, entry.kind, entry.created_by) == ("https://acme.in/order?id=", "dynamic", manager)
    page = signed_in.get(_page(org)).content.decode()
    assert "<code>https://acme.in/order?id=</code>" in page and "Dynamic URL (fixed prefix)" in page
    assert "is on Acme Retail&#x27;s URL whitelist" in page


def test_a_refused_url_is_explained_next_to_the_field_and_kept(signed_in, org):
    response = signed_in.post(_page(org), {"url": "https://acme.in/p?id=", "kind": "static"})
    assert response.status_code == 400
    assert response.context["form"].errors["kind"][0].startswith("A static URL has no '?'.")
    assert 'value="https://acme.in/p?id="' in response.content.decode()
    assert not WhitelistedUrl.objects.exists()


def test_manager_removes_an_entry(signed_in, org):
    entry = WhitelistedUrl.objects.create(org=org, url="https://acme.in/sale")
    keep = WhitelistedUrl.objects.create(org=org, url="https://acme.in/home")
    response = signed_in.post(reverse("campaigns:url-whitelist-remove", args=[org.pk, entry.pk]), follow=True)
    assert list(WhitelistedUrl.objects.all()) == [keep]
    assert "Launching a campaign whose links only it covered is now refused." in response.content.decode()


def test_removing_the_last_entry_says_links_are_no_longer_checked(signed_in, org):
    entry = WhitelistedUrl.objects.create(org=org, url="https://acme.in/sale")
    response = signed_in.post(reverse("campaigns:url-whitelist-remove", args=[org.pk, entry.pk]), follow=True)
    assert "The whitelist is empty: links are no longer checked before launch." in response.content.decode()


def test_removing_needs_a_post(signed_in, org):
    entry = WhitelistedUrl.objects.create(org=org, url="https://acme.in/sale")
    assert signed_in.get(reverse("campaigns:url-whitelist-remove", args=[org.pk, entry.pk])).status_code == 405
    assert WhitelistedUrl.objects.filter(pk=entry.pk).exists()


def test_another_orgs_whitelist_is_not_found(signed_in, other_org):
    entry = WhitelistedUrl.objects.create(org=other_org, url="https://other.in/")
    assert signed_in.get(_page(other_org)).status_code == 404
    assert signed_in.post(_page(other_org), {"url": "https://mine.in/", "kind": "static"}).status_code == 404
    assert signed_in.post(reverse("campaigns:url-whitelist-remove", args=[other_org.pk, entry.pk])).status_code == 404
    assert list(WhitelistedUrl.objects.values_list("url", flat=True)) == ["https://other.in/"]


def test_another_orgs_entry_under_ones_own_org_is_not_found(signed_in, org, other_org):
    entry = WhitelistedUrl.objects.create(org=other_org, url="https://other.in/")
    response = signed_in.post(reverse("campaigns:url-whitelist-remove", args=[org.pk, entry.pk]))
    assert response.status_code == 404 and WhitelistedUrl.objects.filter(pk=entry.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, org):
    entry = WhitelistedUrl.objects.create(org=org, url="https://acme.in/sale")
    for response in (
        client.get(_page(org)),
        client.post(_page(org), {"url": "https://x.in/", "kind": "static"}),
        client.post(reverse("campaigns:url-whitelist-remove", args=[org.pk, entry.pk])),
    ):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert list(WhitelistedUrl.objects.values_list("url", flat=True)) == ["https://acme.in/sale"]


def test_adding_without_the_csrf_token_is_refused(manager, org):
    client = Client(enforce_csrf_checks=True)
    client.login(username=manager.email, password=PASSWORD)
    response = client.post(_page(org), {"url": "https://acme.in/", "kind": "static"})
    assert response.status_code == 403 and not WhitelistedUrl.objects.exists()


def test_templates_page_links_the_whitelist_and_says_when_nothing_is_recorded(signed_in, org, template):
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert f'href="{_page(org)}"' in page
    assert f'data-whitelist-count="{org.pk}">0<' in page
    assert "Acme Retail has not recorded its DLT URL whitelist" in page


def test_templates_page_warns_when_the_short_domain_is_not_whitelisted(signed_in, org, template):
    WhitelistedUrl.objects.create(org=org, url="https://acme.in/", kind="dynamic")
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert "Tracked links go out as &#x27;127.0.0.1:8000/s/…&#x27;" in page
    WhitelistedUrl.objects.create(org=org, url="127.0.0.1:8000/s/", kind="dynamic")
    page = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert "Tracked links go out as" not in page and f'data-whitelist-count="{org.pk}">2<' in page


def test_template_under_thirty_percent_fixed_text_is_saved_with_a_warning(signed_in, org):
    # given a template that is mostly variables, already registered on DLT
    data = {"org": org.pk, "name": "Short", "channel": "sms", "body": "Hi {#var#} {#var#}"}
    data["dlt_template_id"] = "1707160000000000009"
    # when it is saved
    response = signed_in.post(reverse("campaigns:template-new"), data, follow=True)
    # then it is saved, and the manager is told why the DLT portal may object
    template = Template.objects.get(name="Short")
    page = response.content.decode()
    assert 'class="success">Template &#x27;Short&#x27; saved.' in page
    assert 'class="warning">Short: Fixed text is 6% of this template (4 of 64 characters' in page
    # and the template's own page keeps saying so
    edit = signed_in.get(reverse("campaigns:template-edit", args=[template.pk])).content.decode()
    assert 'data-finding="fixed_share"' in edit


def test_template_with_four_variables_shows_the_justification_warning_on_its_page(signed_in, org, sender):
    body = (
        "Dear {#var#}, your order {#var#} of {#var#} ships on {#var#}. Thank you for shopping with Acme Retail today."
    )
    template = Template.objects.create(org=org, name="Four", sender=sender, body=body)
    page = signed_in.get(reverse("campaigns:template-edit", args=[template.pk])).content.decode()
    assert "This template has 4 variables. TRAI asks for a justification" in page
    listed = signed_in.get(reverse("campaigns:template-list")).content.decode()
    assert f'data-trai="{template.pk}"' in listed and "This template has 4 variables." in listed


def test_admin_lists_whitelisted_urls(client, org, django_user_model):
    admin = django_user_model.objects.create_superuser("admin@linktrack.test", PASSWORD)
    WhitelistedUrl.objects.create(org=org, url="https://acme.in/sale")
    admin_sign_in(client, admin)
    page = client.get(reverse("admin:campaigns_whitelistedurl_changelist")).content.decode()
    assert "https://acme.in/sale" in page
