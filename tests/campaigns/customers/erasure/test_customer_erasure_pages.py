"""Erasure on the pages, by the command for requests in bulk, and in the admin."""

import io
import re

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from campaigns.customers.erasure import customer_erase
from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.lifecycle import services
from campaigns.models import Customer, User
from delivery.models import Message
from tests.campaigns.customers.erasure.helpers import EMAIL, EXTERNAL_ID, NAME, NATIONAL
from tests.factories import PASSWORD
from tests.helpers import launch

# --- The pages ------------------------------------------------------------------------------------------------------


def test_the_customer_page_leads_to_a_confirmation_that_says_what_goes_and_what_stays(client, manager, sent, asha):
    client.force_login(manager)
    page = client.get(reverse("campaigns:customer-detail", args=[asha.pk])).content.decode()
    assert f'href="{reverse("campaigns:customer-erase", args=[asha.pk])}"' in page

    confirm = client.get(reverse("campaigns:customer-erase", args=[asha.pk])).content.decode()

    removed = confirm.split('id="erased"')[1].split("</ul>")[0]
    kept = confirm.split('id="kept"')[1].split("</ul>")[0]
    assert "mobile number" in removed and "coupons (1)" in removed and "lists (1)" in removed
    assert "gateway log of those messages (2 entries)" in removed
    assert "the 1 message (1 campaign)" in kept and "2 clicks still count" in kept
    assert 'name="csrfmiddlewaretoken"' in confirm and "Erase personal data</button>" in confirm
    asha.refresh_from_db()
    assert asha.erased_at is None  # opening the page changes nothing


def test_erasing_from_the_page_returns_to_a_customer_page_that_offers_no_changes(client, manager, sent, asha):
    client.force_login(manager)
    response = client.post(reverse("campaigns:customer-erase", args=[asha.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("campaigns:customer-detail", args=[asha.pk])
    page = response.content.decode()
    assert "Personal data erased:" in page  # the result, in words
    assert "Personal data erased on " in page and f"by {manager.email}" in page
    assert "<h1>Erased customer</h1>" in page and NAME not in page and NATIONAL not in page
    assert reverse("campaigns:customer-subscription", args=[asha.pk]) not in page
    assert 'id="add-to-lists"' not in page and 'id="erase"' not in page
    # a subscription change or list posted anyway is refused
    client.post(reverse("campaigns:customer-subscription", args=[asha.pk]), {"channel": "sms", "action": "resubscribe"})
    assert not Customer.objects.get(pk=asha.pk).sms_subscribed
    # and the confirmation page is not offered again
    again = client.get(reverse("campaigns:customer-erase", args=[asha.pk]))
    assert again.status_code == 302


def test_the_customer_list_shows_an_erased_customer_and_no_search_finds_them(client, manager, sent, asha):
    customer_erase(customer=asha, user=manager)
    client.force_login(manager)

    listed = client.get(reverse("campaigns:customer-list")).content.decode()
    row = re.search(rf'<tr data-customer="{asha.pk}">(.*?)</tr>', listed, re.S).group(1)
    assert "Erased customer" in row

    for query in (NAME, NATIONAL, EMAIL, EXTERNAL_ID, "erased"):
        found = client.get(reverse("campaigns:customer-list"), {"q": query}).content.decode()
        assert f'data-customer="{asha.pk}"' not in found, query


def test_a_refusal_is_shown_on_the_page(client, manager, sent, asha):
    Message.objects.filter(campaign=sent, customer=asha).update(status=Message.Status.SUBMITTING)
    client.force_login(manager)

    confirm = client.get(reverse("campaigns:customer-erase", args=[asha.pk])).content.decode()
    assert "data-refused" in confirm and "“Diwali”" in confirm and "Erase personal data</button>" not in confirm

    response = client.post(reverse("campaigns:customer-erase", args=[asha.pk]), follow=True)
    assert "“Diwali” is still sending to them" in response.content.decode()
    assert Customer.objects.get(pk=asha.pk).name == NAME


def test_another_orgs_customer_is_a_404_and_support_staff_may_erase(client, outsider, support, asha):
    client.force_login(outsider)
    assert client.get(reverse("campaigns:customer-erase", args=[asha.pk])).status_code == 404
    assert client.post(reverse("campaigns:customer-erase", args=[asha.pk])).status_code == 404
    assert Customer.objects.get(pk=asha.pk).erased_at is None

    client.force_login(support)
    client.post(reverse("campaigns:customer-erase", args=[asha.pk]))
    assert Customer.objects.get(pk=asha.pk).erased_by == support


def test_the_erase_form_needs_its_csrf_token(manager, asha):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=manager.email, password=PASSWORD)
    url = reverse("campaigns:customer-erase", args=[asha.pk])

    assert browser.post(url).status_code == 403
    assert Customer.objects.get(pk=asha.pk).erased_at is None

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', browser.get(url).content.decode()).group(1)
    assert browser.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    assert Customer.objects.get(pk=asha.pk).erased_at is not None


# --- The command for requests in bulk -----------------------------------------------------------------------------


def test_the_command_erases_each_line_and_says_what_became_of_it(org, manager, support, sent, asha, others, tmp_path):
    # given a customer who unsubscribed and was erased earlier, one still being sent to, and a file of requests
    earlier = Customer.objects.create(org=org, mobile="+919810000099", email="old@example.in")
    customer_unsubscribe(customer=earlier, channel="sms", source="stop_reply")
    customer_erase(customer=earlier, user=None)
    busy = others[0]
    Message.objects.filter(customer=busy).update(status=Message.Status.QUEUED)
    path = tmp_path / "requests.txt"
    path.write_text(
        "# requests of this week\n"
        "098765 43210\n"  # Asha, as typed
        "\n"
        "98100 00099\n"  # erased before
        f"{busy.mobile}\n"  # still being sent to
        "9810000055\n"  # nobody
        "not a number\n"
        f"{EMAIL.upper()}\n"  # Asha again, by address: erased on line 2
    )
    out = io.StringIO()

    # when support runs the command (it ends normally)
    call_command("erase_customers", str(path), org=org.name, by=support.email, stdout=out)

    # then each line says what became of it, and a summary ends it
    lines = out.getvalue().splitlines()
    assert lines[0] == "line 2: 098765 43210: erased"
    assert lines[1] == "line 4: 98100 00099: already erased"
    assert lines[2].startswith(f"line 5: {busy.mobile}: refused (") and "“Diwali”" in lines[2]
    assert lines[3] == "line 6: 9810000055: not found (no customer has this number)"
    assert lines[4] == "line 7: not a number: not found (“not a number” is not a phone number)"
    assert lines[5] == f"line 8: {EMAIL.upper()}: already erased"
    assert lines[6] == "6 requests: 1 erased, 2 already erased, 2 not found, 1 refused."
    asha.refresh_from_db()
    busy.refresh_from_db()
    assert asha.erased_by == support and busy.erased_at is None


def test_view_details_the_resend_offer_and_the_resend_leave_an_erased_customer_out(
    client, manager, template, sent, asha, others, django_capture_on_commit_callbacks
):
    # given Asha's and Ravi's messages undeliverable, and Asha erased
    ravi = Message.objects.get(campaign=sent, customer=others[2])
    Message.objects.filter(pk=ravi.pk).update(status=Message.Status.NOT_DELIVERED, reason_code="undeliverable")
    customer_erase(customer=asha, user=manager)
    client.force_login(manager)

    # then View Details names her sample "erased customer", and a resend is offered and sent to Ravi alone
    page = client.get(reverse("delivery:details", args=[sent.pk, "not_delivered"])).content.decode()
    assert "erased customer" in page and "erXXed" not in page
    assert ("undeliverable", 1) in [(code, count) for code, _title, count in services.resend_options(source=sent)]
    resend = services.campaign_resend_create(
        source=sent, user=manager, name="Again", template=template, slot_values=sent.slot_values,
        reasons=["undeliverable"],
    )  # fmt: skip
    launch(resend, manager, django_capture_on_commit_callbacks)
    assert list(Message.objects.filter(campaign=resend).values_list("customer_id", flat=True)) == [others[2].pk]


def test_the_admin_cannot_type_an_erased_customers_data_back_in(client, manager, asha):
    customer_erase(customer=asha, user=manager)
    admin_user = User.objects.create_superuser("admin@acme.test", PASSWORD)
    client.force_login(admin_user)
    url = reverse("admin:campaigns_customer_change", args=[asha.pk])

    assert 'name="mobile"' not in client.get(url).content.decode()
    client.post(url, {"name": "Asha", "mobile": "+919810000099", "org": asha.org_id})
    asha.refresh_from_db()
    assert (asha.name, asha.mobile) == ("", "")
