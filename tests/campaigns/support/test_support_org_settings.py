"""Support staff set an org's credits (with a history) and its short domain; campaign managers cannot."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections
from django.urls import reverse

from campaigns.models import CreditTopUp, Org
from campaigns.support.org_settings import org_credits_add, org_short_links_set
from linktrack.redirect.short_links import short_link_base
from tests.factories import OrgFactory
from tests.helpers import admin_sign_in


def _post(client, org, name: str, data: dict, follow=True):
    return client.post(reverse(f"support:{name}", args=[org.pk]), data, follow=follow)


def test_support_adds_credits_with_a_note_and_the_history_shows_who_and_why(client, support, org):
    org.credits = 100
    org.save(update_fields=["credits"])
    client.force_login(support)

    _post(client, org, "org-credits", {"amount": "5000", "note": "Invoice 2026/311"})
    page = _post(client, org, "org-credits", {"amount": "-300", "note": "Double top-up"}).content.decode()

    assert Org.objects.get(pk=org.pk).credits == 4800
    assert "-300 credits for Acme Retail: the balance is 4800." in page
    history = list(CreditTopUp.objects.order_by("pk").values_list("amount", "balance_after", "note", "created_by"))
    assert history == [(5000, 5100, "Invoice 2026/311", support.pk), (-300, 4800, "Double top-up", support.pk)]
    assert '<strong data-figure="credits">4800</strong>' in page and "Invoice 2026/311" in page


@pytest.mark.parametrize(
    ("amount", "error"),
    [("0", "Give a number of credits other than 0."), ("-101", "has 100 credits; its balance cannot go below 0.")],
)
def test_a_zero_or_overdrawing_amount_is_refused_next_to_the_field(client, support, org, amount, error):
    org.credits = 100
    org.save(update_fields=["credits"])
    client.force_login(support)
    response = _post(client, org, "org-credits", {"amount": amount}, follow=False)
    assert response.status_code == 400 and error in response.content.decode()
    assert Org.objects.get(pk=org.pk).credits == 100 and not CreditTopUp.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_top_ups_both_count(postgres, support):
    org = OrgFactory(name="Busy", credits=0)

    def add():
        try:
            org_credits_add(org=org, amount=50, user=support, note="thread")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Org.objects.get(pk=org.pk).credits == 200
    assert sorted(CreditTopUp.objects.values_list("balance_after", flat=True)) == [50, 100, 150, 200]


def test_support_sets_the_short_domain_and_new_links_use_it(client, support, org, settings):
    settings.ALLOWED_HOSTS = ["testserver", ".cplry.com"]
    client.force_login(support)
    page = _post(client, org, "org-short-links", {"short_domain": "https://S.cplry.com/"}).content.decode()
    org.refresh_from_db()
    assert (org.short_domain, org.short_link_with_scheme) == ("s.cplry.com", False)
    assert short_link_base(org=org) == "s.cplry.com/"
    assert "New short links of Acme Retail go out as s.cplry.com/…" in page

    _post(client, org, "org-short-links", {"short_domain": "s.cplry.com", "short_link_with_scheme": "on"})
    assert short_link_base(org=Org.objects.get(pk=org.pk)) == "https://s.cplry.com/"


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        ("s.cplry.com/x", "Give the host name only, like s.cplry.com (no path or port)."),
        ("not a host", "is not a host name, like s.cplry.com."),
        ("bit.ly", "bit.ly is a public link shortener: operators block its links."),
        ("go.acme.in", "This deployment does not answer for go.acme.in: add it (or .acme.in) to ALLOWED_HOSTS"),
    ],
)
def test_a_short_domain_that_would_break_links_is_refused_in_words(client, support, org, settings, domain, error):
    settings.ALLOWED_HOSTS = ["testserver", ".cplry.com", "bit.ly"]
    client.force_login(support)
    response = _post(client, org, "org-short-links", {"short_domain": domain}, follow=False)
    assert response.status_code == 400 and error in response.content.decode()
    assert Org.objects.get(pk=org.pk).short_domain == ""


@pytest.mark.parametrize(
    ("domain", "setting", "value"),
    [
        ("app.cplry.com", "PUBLIC_BASE_URL", "https://app.cplry.com"),
        ("hooks.cplry.com", "WEBHOOK_BASE_URL", "https://hooks.cplry.com/"),
        ("forms.cplry.com", "CSRF_TRUSTED_ORIGINS", ["https://forms.cplry.com"]),
        ("links.cplry.com", "SHORT_LINK_BASE_URL", "https://links.cplry.com/s/"),  # the app serves /s/ there
    ],
)
def test_the_apps_own_host_is_refused_as_a_short_domain(client, support, org, settings, domain, setting, value):
    settings.ALLOWED_HOSTS = ["testserver", ".cplry.com"]
    setattr(settings, setting, value)
    client.force_login(support)
    response = _post(client, org, "org-short-links", {"short_domain": f"https://{domain.upper()}/"}, follow=False)
    assert response.status_code == 400
    assert f"{domain} is this app&#x27;s own address" in response.content.decode()
    assert Org.objects.get(pk=org.pk).short_domain == ""


def test_the_host_the_support_page_is_served_on_is_refused_as_a_short_domain(client, support, org, settings):
    settings.ALLOWED_HOSTS = ["testserver", ".cplry.com"]
    client.force_login(support)
    response = client.post(
        reverse("support:org-short-links", args=[org.pk]), {"short_domain": "ops.cplry.com"}, HTTP_HOST="ops.cplry.com"
    )
    assert response.status_code == 400 and "ops.cplry.com is this app&#x27;s own address" in response.content.decode()
    assert Org.objects.get(pk=org.pk).short_domain == ""


def test_the_service_refuses_the_apps_own_host_too(support, org, settings):
    settings.ALLOWED_HOSTS = ["testserver", ".cplry.com"]
    settings.PUBLIC_BASE_URL = "https://app.cplry.com"
    with pytest.raises(ValidationError) as refused:
        org_short_links_set(org=org, short_domain="app.cplry.com", with_scheme=False, user=support)
    assert "app.cplry.com is this app's own address" in str(refused.value.message_dict["short_domain"])
    with pytest.raises(ValidationError):
        org_short_links_set(
            org=org, short_domain="ops.cplry.com", with_scheme=False, user=support, app_host="ops.cplry.com:443"
        )
    assert Org.objects.get(pk=org.pk).short_domain == ""


def test_the_admin_shows_the_short_domain_without_changing_it(client, support, org, settings):
    settings.PUBLIC_BASE_URL = "https://app.cplry.com"
    support.is_superuser = True
    support.save(update_fields=["is_superuser"])
    admin_sign_in(client, support)
    page = client.get(reverse("admin:campaigns_org_change", args=[org.pk])).content.decode()
    assert 'name="short_domain"' not in page


def test_campaign_managers_cannot_change_credits_or_the_short_domain(client, manager, org):
    before = org.credits
    client.force_login(manager)
    assert _post(client, org, "org-credits", {"amount": "1000"}, follow=False).status_code == 403
    assert _post(client, org, "org-short-links", {"short_domain": "s.cplry.com"}, follow=False).status_code == 403
    org.refresh_from_db()
    assert (org.credits, org.short_domain) == (before, "")
    assert not CreditTopUp.objects.exists()
