"""Chromium at a phone's width (360 by 740 px): the header folds into a menu, tables scroll with their first column in
view, and a crawl of every page of the URLconf, signed in as a campaign manager, as support staff and signed out,
finds none wider than the screen and none answering an error. Screenshots go to tests/artifacts/phone/."""

import io
import re
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from campaigns.accounts import team, two_step
from campaigns.accounts.notifications import stop_token_for
from campaigns.base.csv_imports import import_job_create
from campaigns.customers import audience
from campaigns.customers.tasks import customers_import_task
from campaigns.lifecycle import services as campaign_services
from campaigns.management.commands import seed_demo
from campaigns.models import Campaign, CustomerList, Membership, Org, Segment, Template, User
from delivery.gateways.email import unsubscribe_token
from delivery.models import GatewayConfig, Message
from insights.api.keys import api_key_create
from insights.webhooks.webhook_setup import click_webhook_create
from tests.factories import HttpGatewayConfigFactory

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts" / "phone"
PHONE = {"width": 360, "height": 740}
PASSWORD = "demo-pass-123"

# Every GET route of the URLconf that the crawl does not open, with the reason. A new page that is in neither this
# list nor the crawl fails the test, so no page escapes it.
SKIPPED = {
    "admin/": "Django's admin (support's logs): its own layout, not ours to restyle",
    "api/v1/": "the reporting API answers JSON, not pages",
    "favicon.ico": "redirects to the icon, not a page",
    "healthz": "the load balancer's health check, plain text",
    "s/<str:code>": "a short link redirects to the brand's site",
    "campaigns/<int:pk>/progress.json": "JSON read by the campaign page's progress bar",
    "campaigns/imports/<str:job_id>/skipped.csv": "a CSV download",
    "campaigns/segments/count/": "JSON read by the segment form",
    "delivery/campaigns/<int:pk>/<str:group>/export.csv": "a CSV download",
    "insights/export.csv": "a CSV download",
    "insights/campaigns/<int:pk>/clicks.csv": "a CSV download",
    "delivery/webhooks/<int:gateway_id>/receipts/": "gateways post receipts here",
    "delivery/webhooks/<int:gateway_id>/inbound/": "gateways post inbound messages here",
}
# Routes that take only POST (a form's action elsewhere): the crawl checks that each answers GET with 405.
POST_ONLY = [
    "accounts/logout/",
    "accounts/two-step/start/",
    "accounts/two-step/confirm/",
    "accounts/two-step/turn-off/",
    "accounts/two-step/recovery-codes/",
    "campaigns/<int:pk>/delete/",
    "campaigns/<int:pk>/duplicate/",
    "campaigns/<int:pk>/launch/",
    "campaigns/<int:pk>/approve/",
    "campaigns/<int:pk>/reject/",
    "campaigns/<int:pk>/withdraw/",
    "campaigns/<int:pk>/pause/",
    "campaigns/<int:pk>/resume/",
    "campaigns/<int:pk>/cancel/",
    "campaigns/<int:pk>/preview/check-links/",
    "campaigns/<int:pk>/preview/test/",
    "campaigns/<int:pk>/preview/empty-fields/",
    "campaigns/<int:pk>/follow-up-list/",
    "campaigns/templates/url-whitelist/<int:org_pk>/<int:pk>/remove/",
    "campaigns/customers/add-to-list/",
    "campaigns/customers/<int:pk>/subscription/",
    "campaigns/customers/<int:pk>/lists/",
    "campaigns/lists/<int:pk>/remove/",
    "campaigns/team/<int:org_pk>/invite/",
    "campaigns/team/<int:org_pk>/invitations/<int:pk>/resend/",
    "campaigns/team/<int:org_pk>/invitations/<int:pk>/cancel/",
    "campaigns/sending-rules/<int:org_pk>/",
    "campaigns/sending-rules/<int:org_pk>/launch-approval/",
    "campaigns/credits/<int:org_pk>/warning/",
    "support/orgs/<int:pk>/link-tracking/",
    "support/orgs/<int:pk>/credits/",
    "support/orgs/<int:pk>/short-links/",
    "support/gateways/<int:pk>/check/",
    "insights/api-keys/<int:pk>/revoke/",
    "insights/webhooks/<int:pk>/url/",
    "insights/webhooks/<int:pk>/rotate-secret/",
    "insights/webhooks/<int:pk>/test/",
    "insights/webhooks/<int:pk>/pause/",
    "insights/webhooks/<int:pk>/resume/",
]


@dataclass
class Demo:
    """The demo org (seed_demo) with something on every page: campaigns of each kind and state, a list, a segment,
    an import with a skipped row, gateways, an API key, a webhook, an invitation."""

    org: Org
    manager: User
    support: User
    finished: Campaign
    draft: Campaign
    scheduled: Campaign
    recurring: Campaign
    message: Message
    email_message: Message
    customer_list: CustomerList
    segment: Segment
    template: Template
    import_id: str
    gateway: GatewayConfig
    invitee: User
    invitee_membership: Membership
    two_step_user: User


def _demo(settings) -> Demo:
    settings.DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", stdout=io.StringIO())
    org = Org.objects.get(name=seed_demo.ORG_NAME)
    manager = User.objects.get(email="manager@demo.test")
    finished = Campaign.objects.get(org=org, name=seed_demo.CAMPAIGN_NAME)
    template = finished.template
    customers = list(org.customers.order_by("pk"))
    customer_list = audience.customer_list_create(org=org, name="Diwali shoppers (a long list name to wrap)")
    for customer in customers[:20]:
        audience.customer_lists_add(customer=customer, customer_lists=[customer_list])
    segment = Segment.objects.create(
        org=org,
        name="Clicked lately in Pune",
        conditions=[
            {"attribute": "city", "op": "eq", "value": "Pune"},
            {"behaviour": "clicked", "days": 30, "channel": "sms", "negate": False},
        ],
    )
    slots = [{"source": "field", "value": "name"}, {"source": "url", "value": seed_demo.ORDER_TRACKING_URL}]
    draft = campaign_services.campaign_create(
        org=org, user=manager, name="Diwali early access", template=template, slot_values=slots
    )
    scheduled = campaign_services.campaign_create(
        org=org, user=manager, name="New year sale", template=template, slot_values=slots, audience_list=customer_list
    )
    Campaign.objects.filter(pk=scheduled.pk).update(
        status=Campaign.Status.SCHEDULED, scheduled_at=timezone.now() + timedelta(days=3)
    )
    recurring = campaign_services.campaign_create(
        org=org,
        user=manager,
        name="Weekly reminder",
        template=template,
        slot_values=slots,
        kind=Campaign.Kind.RECURRING,
        schedule="0 10 * * 1",
        audience_segment=segment,
    )
    upload = ContentFile(
        b"mobile,name,external_id,city\n+919812345678,Kabir S.,CUST9001,Pune\nnot-a-number,Isha R.,CUST9002,Delhi\n",
        name="customers.csv",
    )
    import_id = import_job_create(kind="customers", org_id=org.pk, user_id=manager.pk, upload=upload, options={})
    customers_import_task(import_id)
    invitee_membership = team.member_invite(org=org, email="new.colleague@demo.test", invited_by=manager)
    two_step_user = User.objects.create_user("careful@demo.test", PASSWORD)
    authenticator = two_step.authenticator_start(user=two_step_user)
    two_step.authenticator_confirm(
        user=two_step_user,
        code=two_step.totp_code(authenticator.secret, step=two_step.time_step(timezone.now().timestamp())),
    )
    api_key_create(org=org, user=manager, name="Power BI dashboard")
    click_webhook_create(org=org, user=manager, url="https://hooks.demo-brand.example/linktrack/clicks")
    email = Campaign.objects.get(org=org, name=seed_demo.EMAIL_CAMPAIGN_NAME)
    return Demo(
        org=org,
        manager=manager,
        support=User.objects.get(email="support@demo.test"),
        finished=finished,
        draft=draft,
        scheduled=scheduled,
        recurring=recurring,
        message=Message.objects.filter(campaign=finished).exclude(sent_at=None).order_by("pk").first(),
        email_message=Message.objects.filter(campaign=email).order_by("pk").first(),
        customer_list=customer_list,
        segment=segment,
        template=template,
        import_id=import_id,
        gateway=HttpGatewayConfigFactory(org=org),
        invitee=invitee_membership.user,
        invitee_membership=invitee_membership,
        two_step_user=two_step_user,
    )


def _manager_pages(demo: Demo) -> list[str]:
    finished, draft = demo.finished.pk, demo.draft.pk
    code = demo.message.body.rsplit("/", 1)[-1].split()[0]
    return [
        reverse("home"),
        reverse("campaigns:list"),
        reverse("campaigns:new"),
        reverse("campaigns:detail", args=[finished]),
        reverse("campaigns:detail", args=[draft]),
        reverse("campaigns:detail", args=[demo.scheduled.pk]),
        reverse("campaigns:detail", args=[demo.recurring.pk]),
        reverse("campaigns:edit", args=[draft]),
        reverse("campaigns:preview", args=[draft]),
        reverse("campaigns:resend", args=[finished]),
        reverse("campaigns:link-settings", args=[finished]),
        reverse("delivery:details", args=[finished, "not_sent"]),
        reverse("delivery:details", args=[finished, "not_delivered"]),
        reverse("delivery:details", args=[finished, "unknown"]),
        reverse("delivery:message", args=[demo.message.pk]),
        reverse("delivery:message", args=[demo.email_message.pk]),
        reverse("campaigns:template-list"),
        reverse("campaigns:template-new"),
        reverse("campaigns:template-edit", args=[demo.template.pk]),
        reverse("campaigns:template-import"),
        reverse("campaigns:url-whitelist", args=[demo.org.pk]),
        reverse("campaigns:customer-list"),
        reverse("campaigns:customer-detail", args=[demo.message.customer_id]),
        reverse("campaigns:customer-erase", args=[demo.message.customer_id]),
        reverse("campaigns:customer-import"),
        reverse("campaigns:import-progress", args=[demo.import_id]),
        reverse("campaigns:list-index"),
        reverse("campaigns:list-new"),
        reverse("campaigns:list-detail", args=[demo.customer_list.pk]),
        reverse("campaigns:list-edit", args=[demo.customer_list.pk]),
        reverse("campaigns:list-delete", args=[demo.customer_list.pk]),
        reverse("campaigns:segment-index"),
        reverse("campaigns:segment-new"),
        reverse("campaigns:segment-detail", args=[demo.segment.pk]),
        reverse("campaigns:segment-edit", args=[demo.segment.pk]),
        reverse("campaigns:segment-delete", args=[demo.segment.pk]),
        reverse("campaigns:ndnc"),
        reverse("campaigns:team"),
        reverse("campaigns:team-member-remove", args=[demo.org.pk, demo.invitee_membership.pk]),
        reverse("campaigns:sending-rules"),
        reverse("campaigns:credits"),
        reverse("insights:overview"),
        reverse("insights:compare")
        + f"?campaigns={finished}&campaigns={Campaign.objects.get(org=demo.org, name=seed_demo.EMAIL_CAMPAIGN_NAME).pk}",
        reverse("insights:api-keys"),
        reverse("insights:webhooks"),
        reverse("notifications:settings"),
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("two_step"),
        reverse("short-link-inspect", args=[code]),
    ]


def _support_pages(demo: Demo) -> list[str]:
    return [
        reverse("campaigns:list"),
        reverse("campaigns:customer-list"),
        reverse("campaigns:template-list"),
        reverse("campaigns:team"),
        reverse("campaigns:credits"),
        reverse("insights:overview"),
        reverse("support:orgs"),
        reverse("support:org", args=[demo.org.pk]),
        reverse("support:message-lookup") + f"?q={demo.message.pk}",
        reverse("support:gateway-new", args=[demo.org.pk, "http"]),
        reverse("support:gateway-new", args=[demo.org.pk, "smpp"]),
        reverse("support:gateway-new", args=[demo.org.pk, "email"]),
        reverse("support:gateway", args=[demo.gateway.pk]),
        reverse("delivery:message-log", args=[demo.message.pk]),
    ]


def _signed_out_pages(demo: Demo) -> list[str]:
    invitee_uid = urlsafe_base64_encode(force_bytes(demo.invitee.pk))
    manager_uid = urlsafe_base64_encode(force_bytes(demo.manager.pk))
    return [
        reverse("login"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        reverse("campaigns:team-join", args=[invitee_uid, default_token_generator.make_token(demo.invitee)]),
        reverse("notifications:stop", args=[stop_token_for(user=demo.manager)]),
        reverse("email-unsubscribe", args=[unsubscribe_token(message_id=demo.email_message.pk)]),
        # a valid link leads on to the form for the new password (on the same route)
        reverse("password_reset_confirm", args=[manager_uid, default_token_generator.make_token(demo.manager)]),
    ]


def _routes(patterns=None, prefix: str = "") -> list[str]:
    """Every route of the URLconf, as Django writes it (`campaigns/<int:pk>/`), admin and the API as one each."""
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += [route] if route in SKIPPED else _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            routes.append(route)
    return routes


def _route_of(path: str) -> str:
    return resolve(path.split("?", 1)[0]).route


# The elements that reach past the screen's right edge and are not inside something that scrolls on its own (a
# table's scroll container): what makes the page too wide, for the failure message.
_WIDE_ELEMENTS = """(limit) => {
  const scrolls = (e) => getComputedStyle(e).overflowX !== "visible";
  const inScroller = (e) => { for (let p = e.parentElement; p; p = p.parentElement) if (scrolls(p)) return true; return false; };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > limit + 1 && !inScroller(e))
    .slice(-4).map((e) => name(e) + " " + Math.round(e.getBoundingClientRect().width) + "px");
}"""


def _too_wide_or_failing(page, path: str, shot: str) -> str | None:
    """Open `path`; what is wrong with it at a phone's width (None: nothing)."""
    response = page.goto(path)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    if response is None or response.status >= 400:
        return f"{path} answered {response.status if response else 'nothing'}"
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = page.evaluate(_WIDE_ELEMENTS, PHONE["width"])
        return f"{path} is {width} px wide: {', '.join(wide)}"
    return None


def _phone(chromium, live_server):
    return chromium.new_context(viewport=PHONE, base_url=live_server.url)


def _sign_in(context, email: str):
    page = context.new_page()
    page.goto(reverse("login"))
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("header")).to_contain_text(email)
    return page


def _shot_name(who: str, path: str, taken: set[str]) -> str:
    """A screenshot's name: who, then the page's URL name, numbered when a page is shot more than once."""
    name = f"{who}-{resolve(path.split('?', 1)[0]).view_name.replace(':', '-')}"
    number = 1
    while f"{name}-{number}" in taken:
        number += 1
    taken.add(f"{name}-{number}")
    return f"{name}-{number}"


def test_every_page_fits_a_phone_and_answers(transactional_db, live_server, chromium, settings):
    # given the demo with something on every page, and every route of the URLconf
    demo = _demo(settings)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    problems, visited, shots = [], set(), set()

    # when a manager, support staff and someone signed out open every page at a phone's width
    crawls = [
        ("manager", demo.manager.email, _manager_pages(demo)),
        ("support", demo.support.email, _support_pages(demo)),
    ]
    for who, email, paths in crawls:
        context = _phone(chromium, live_server)
        page = _sign_in(context, email)
        for path in paths:
            visited.add(_route_of(path))
            problems.append(_too_wide_or_failing(page, path, _shot_name(who, path, shots)))
        if who == "support":  # who may reach every route
            for route in POST_ONLY:
                path = "/" + re.sub(r"<int:\w+>", "1", re.sub(r"<str:\w+>", "x", route))
                status = page.request.get(path, max_redirects=0).status
                if status != 405:
                    problems.append(f"{path} is listed as taking only POST but answered GET with {status}")
                visited.add(route)
        context.close()
    context = _phone(chromium, live_server)
    page = context.new_page()
    for path in _signed_out_pages(demo):
        visited.add(_route_of(path))
        problems.append(_too_wide_or_failing(page, path, _shot_name("signed-out", path, shots)))
    # the code page of two-step sign-in follows the password
    page.goto(reverse("login"))
    page.fill("#id_username", demo.two_step_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(reverse("two_step_sign_in")))
    visited.add(_route_of(reverse("two_step_sign_in")))
    problems.append(_too_wide_or_failing(page, page.url, "signed-out-two-step-code"))
    context.close()

    # then every route was opened (or is skipped with a reason), and no page was wider than the screen or failed
    forgotten = sorted(set(_routes()) - visited - set(SKIPPED))
    assert not forgotten, f"Routes neither crawled nor skipped with a reason in {__name__}: {forgotten}"
    problems = [problem for problem in problems if problem]
    assert not problems, "Pages that do not fit a 360 px phone or failed:\n" + "\n".join(problems)
