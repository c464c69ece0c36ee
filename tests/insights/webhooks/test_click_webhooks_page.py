"""The webhooks page sets click webhooks up for the user's own orgs only: address, secret, test event, pause."""

import html
import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from insights.models import ClickWebhook
from insights.webhooks import calls, webhook_setup
from tests.factories import MembershipFactory
from tests.helpers import admin_sign_in
from tests.insights.webhooks.helpers import add_clicks, deliver, is_from_linktrack

# --- The webhooks page ----------------------------------------------------------------------------------------


def test_a_manager_sets_up_the_orgs_webhook_and_sees_its_secret(client, manager, org, campaign, receiver):
    history = add_clicks(campaign, 2)
    client.force_login(manager)

    response = client.post(reverse("insights:webhooks"), {"org": org.pk, "url": receiver.url}, follow=True)

    webhook = ClickWebhook.objects.get(org=org)
    page = response.content.decode()
    assert webhook.url == receiver.url and webhook.created_by == manager and webhook.is_active
    assert webhook.last_click_id == history[-1].pk
    assert webhook.secret.startswith("whsec_") and len(webhook.secret) > 40
    assert f"<code data-secret>{webhook.secret}</code>" in page
    assert response["Cache-Control"] == "no-store"
    assert "Webhook set up for Acme Retail" in page and 'id="new-webhook"' not in page  # one per org
    # and the page explains how to check a signature and that a click may come twice
    assert "X-Linktrack-Signature: t=&lt;unix time&gt;,v1=&lt;signature&gt;" in page
    assert "hmac.compare_digest" in page and "may arrive more than once" in page


def test_the_pages_signature_check_accepts_a_real_call_and_refuses_a_forged_one(client, manager, webhook, receiver):
    # given the code the page gives receivers
    client.force_login(manager)
    page = client.get(reverse("insights:webhooks")).content.decode()
    code = html.unescape(re.search(r'<pre id="verify-signature">(.*?)</pre>', page, re.S).group(1))
    namespace: dict = {}
    exec(code, namespace)
    check = namespace["is_from_linktrack"]

    # when linktrack calls the receiver
    webhook_setup.click_webhook_send_test(webhook=webhook)
    call = receiver.calls[0]
    header = call.headers["X-Linktrack-Signature"]

    # then the call passes, and an altered body, another secret or an old time do not
    assert check(call.body, header, webhook.secret)
    assert not check(b'{"test":false}', header, webhook.secret)
    assert not check(call.body, header, "whsec_guessed")
    old = int(time.time()) - 600
    replayed = calls.signature(secret=webhook.secret, timestamp=old, body=call.body)
    assert not check(call.body, replayed, webhook.secret)


def test_every_webhook_has_its_own_secret(org, other_org, manager, receiver):
    first = webhook_setup.click_webhook_create(org=org, user=manager, url=receiver.url)
    second = webhook_setup.click_webhook_create(org=other_org, user=manager, url=receiver.url)
    assert first.secret != second.secret


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "Enter the address of your endpoint"),
        ("crm.acme.in/hook", "Write the whole address, starting with https://"),
        ("ftp://crm.acme.in/hook", "Write the whole address, starting with https://"),
        ("http://crm.acme.in/hook", "Use https://: clicks carry your customers"),
        ("https://user:secret@crm.acme.in/hook", "Leave the user name and password out of the address"),
        ("https://10.0.0.5/hook", "10.0.0.5 is a private network address: linktrack calls only addresses on the"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://localhost/hook", "localhost is this machine"),
        ("http://127.0.0.1:8000/hook", "Use https://"),
        ("https://crm.acme.in:99999/hook", "This is not a web address"),
        ("https://crm_acme.in/hook", "cannot call this address as written: check its spelling"),
        ("https://crm.acme.in/my hook", "cannot call this address as written: check its spelling"),
    ],
)
def test_an_address_that_cannot_be_used_is_refused_with_the_reason_beside_the_field(
    settings, client, manager, org, url, words
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(manager)

    response = client.post(reverse("insights:webhooks"), {"org": org.pk, "url": url})

    assert response.status_code == 400
    assert words in response.content.decode().replace("&#x27;", "'")
    assert not ClickWebhook.objects.exists()


def test_http_to_this_machine_is_accepted_while_private_addresses_are_allowed(client, manager, org):
    client.force_login(manager)
    response = client.post(reverse("insights:webhooks"), {"org": org.pk, "url": "http://127.0.0.1:9000/hook"})
    assert response.status_code == 302 and ClickWebhook.objects.get().url == "http://127.0.0.1:9000/hook"


def test_changing_the_address_sends_the_clicks_not_yet_delivered_there_and_tries_at_once(
    client, manager, webhook, receiver, campaign
):
    receiver.script = [("status", 500), ("ok",)]
    clicks = [click.pk for click in add_clicks(campaign, 2)]
    deliver(webhook)
    client.force_login(manager)
    new_url = receiver.url.replace("/linktrack/clicks", "/v2/clicks")

    response = client.post(reverse("insights:webhook-url", args=[webhook.pk]), {f"w{webhook.pk}-url": new_url})
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert webhook.url == new_url and webhook.failures_in_a_row == 0 and webhook.next_attempt_at is None

    assert deliver(webhook) == 2
    assert receiver.calls[-1].path.startswith("/v2/clicks") and receiver.calls[-1].click_ids == clicks


def test_a_bad_new_address_is_shown_beside_the_field_and_changes_nothing(settings, client, manager, webhook):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    client.force_login(manager)

    response = client.post(
        reverse("insights:webhook-url", args=[webhook.pk]), {f"w{webhook.pk}-url": "https://192.168.1.20/hook"}
    )

    assert response.status_code == 400
    assert "192.168.1.20 is a private network address" in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.url.startswith("http://127.0.0.1:")


def test_the_test_event_button_posts_a_signed_test_and_says_what_the_endpoint_answered(
    client, manager, webhook, receiver, campaign
):
    add_clicks(campaign, 2)
    cursor = webhook.last_click_id
    client.force_login(manager)

    response = client.post(reverse("insights:webhook-test", args=[webhook.pk]), follow=True)

    call = receiver.calls[0]
    assert call.json == {"test": True}
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)
    page = response.content.decode()
    assert "Test event delivered to" in page and "Your endpoint answered 200 OK in" in page
    webhook.refresh_from_db()
    assert webhook.last_click_id == cursor  # a test moves nothing

    receiver.script = [("status", 401)]
    page = client.post(reverse("insights:webhook-test", args=[webhook.pk]), follow=True).content.decode()
    assert "Test event not delivered to" in page and "answered 401 Unauthorized" in page
    webhook.refresh_from_db()
    assert webhook.failures_in_a_row == 0


def test_rotating_the_secret_signs_the_next_calls_with_the_new_one(client, manager, webhook, receiver, campaign):
    old_secret = webhook.secret
    client.force_login(manager)

    page = client.post(reverse("insights:webhook-rotate-secret", args=[webhook.pk]), follow=True).content.decode()

    webhook.refresh_from_db()
    assert webhook.secret != old_secret and f"<code data-secret>{webhook.secret}</code>" in page
    add_clicks(campaign, 1)
    deliver(webhook)
    call = receiver.calls[0]
    assert is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], webhook.secret)
    assert not is_from_linktrack(call.body, call.headers["X-Linktrack-Signature"], old_secret)


def test_another_orgs_webhook_is_a_404_and_stays_out_of_sight(client, outsider, webhook, receiver):
    client.force_login(outsider)

    page = client.get(reverse("insights:webhooks")).content.decode()
    assert webhook.secret not in page and webhook.url not in page and f'data-webhook="{webhook.pk}"' not in page

    for name in ("webhook-pause", "webhook-resume", "webhook-test", "webhook-rotate-secret", "webhook-url"):
        response = client.post(
            reverse(f"insights:{name}", args=[webhook.pk]), {f"w{webhook.pk}-url": "https://x.test/"}
        )
        assert response.status_code == 404, name
    assert receiver.calls == []
    before = (webhook.secret, webhook.url, webhook.is_active)
    webhook.refresh_from_db()
    assert (webhook.secret, webhook.url, webhook.is_active) == before
    # nor can they set one up for the org
    response = client.post(reverse("insights:webhooks"), {"org": webhook.org_id, "url": "https://evil.test/hook"})
    assert response.status_code == 400 and ClickWebhook.objects.count() == 1


def test_support_staff_see_and_pause_every_orgs_webhook_but_not_its_secret(client, support, webhook):
    client.force_login(support)

    page = client.get(reverse("insights:webhooks")).content.decode()
    assert f'data-webhook="{webhook.pk}"' in page and webhook.secret not in page
    assert "Shown to the organisation's own managers only." in page.replace("&#x27;", "'")

    assert client.post(reverse("insights:webhook-pause", args=[webhook.pk])).status_code == 302
    webhook.refresh_from_db()
    assert not webhook.is_active and webhook.stopped_reason.startswith("Paused by support@linktrack.test")


def test_a_member_who_is_also_support_staff_sees_the_secret(client, support, org, webhook):
    MembershipFactory(user=support, org=org)
    client.force_login(support)
    assert webhook.secret in client.get(reverse("insights:webhooks")).content.decode()


def test_the_page_needs_a_login(client, org, webhook):
    response = client.get(reverse("insights:webhooks"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(reverse("insights:webhook-pause", args=[webhook.pk])).status_code == 302
    webhook.refresh_from_db()
    assert webhook.is_active


def test_forms_are_refused_without_the_csrf_token(manager, org, webhook):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    assert client.post(reverse("insights:webhook-pause", args=[webhook.pk])).status_code == 403
    assert client.post(reverse("insights:webhook-rotate-secret", args=[webhook.pk])).status_code == 403
    assert client.post(reverse("insights:webhooks"), {"org": org.pk, "url": "https://a.test/"}).status_code == 403
    before = webhook.secret
    webhook.refresh_from_db()
    assert webhook.is_active and webhook.secret == before
    # and the page's forms carry the token
    assert 'name="csrfmiddlewaretoken"' in client.get(reverse("insights:webhooks")).content.decode()


def test_insights_links_to_the_webhooks_page(client, manager, org):
    client.force_login(manager)
    page = client.get(reverse("insights:overview")).content.decode()
    assert f'id="click-webhooks-link" href="{reverse("insights:webhooks")}"' in page


def test_the_admin_lists_webhooks_read_only_without_the_secret(client, support, webhook):
    admin_sign_in(client, support)
    changelist = client.get(reverse("admin:insights_clickwebhook_changelist"))
    change = client.get(reverse("admin:insights_clickwebhook_change", args=[webhook.pk]))
    assert changelist.status_code == change.status_code == 200
    assert webhook.url in changelist.content.decode()
    for page in (changelist, change):
        assert webhook.secret not in page.content.decode()
    assert (
        client.post(reverse("admin:insights_clickwebhook_delete", args=[webhook.pk]), {"post": "yes"}).status_code
        == 403
    )
