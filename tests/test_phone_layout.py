"""Chromium at a phone's width (360 by 740 px): the header folds into a menu, tables scroll with their first column in
view, and a crawl of every page of the URLconf, signed in as a campaign manager, as support staff and signed out,
finds none wider than the screen, none answering an error or landing elsewhere, and none breaking an axe-core rule.
Screenshots go to tests/artifacts/phone/."""

import io
import re
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

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
from tests.accessibility import axe_serve, axe_violations
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import HttpGatewayConfigFactory, create_campaign

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
    "campaigns/transactions/window/",
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
    others: list[Campaign]
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
    coupon_reminder = campaign_services.campaign_create(
        org=org,
        user=manager,
        name="Coupon expires soon",
        template=template,
        slot_values=slots,
        kind=Campaign.Kind.COUPON_REMINDER,
        schedule="0 9 * * *",
        coupon_days=3,
    )
    sending = campaign_services.campaign_create(
        org=org, user=manager, name="Flash sale", template=template, slot_values=slots
    )
    Campaign.objects.filter(pk=sending.pk).update(
        status=Campaign.Status.DISPATCHING, launched_at=timezone.now(), audience_size=len(customers)
    )
    retryable = campaign_services.resend_options(source=finished)
    assert retryable, "the demo campaign has no outcome to resend"
    resend = campaign_services.campaign_resend_create(
        source=finished,
        user=manager,
        name="Order shipped (resend)",
        template=template,
        slot_values=finished.slot_values,
        reasons=[retryable[0][0]],
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
        others=[coupon_reminder, sending, resend],
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
        *(reverse("campaigns:detail", args=[campaign.pk]) for campaign in demo.others),
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
        reverse("campaigns:transactions"),
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
        + f"?c={finished}&c={Campaign.objects.get(org=demo.org, name=seed_demo.EMAIL_CAMPAIGN_NAME).pk}",
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
        reverse("support:message-lookup") + "?" + urlencode({"q": demo.message.customer.mobile}),
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


def _route_of(url: str) -> str:
    return resolve(urlsplit(url).path).route


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


def _problems(page, path: str, shot: str, status: int = 200, redirects: bool = False) -> list[str]:
    """Open `path`; what is wrong with it at a phone's width: an error (a status other than `status` once redirects
    are followed), landing on another route's page (unless it `redirects`; a sign-in link leading on to its form on
    the same route is its own page), more width than the screen, axe's findings."""
    response = page.goto(path)
    if not redirects and _route_of(page.url) != _route_of(path):
        return [f"{path} led to {page.url}, not to its own page"]
    stop = page.locator("[data-stop-updates]")
    if stop.count():  # a page following work in progress: stopped, so it does not reload while it is checked
        stop.click()
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    if response is None or response.status != status:
        return [f"{path} answered {response.status if response else 'nothing'}"]
    problems = axe_violations(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        wide = page.evaluate(_WIDE_ELEMENTS, PHONE["width"])
        problems.append(f"{path} is {width} px wide: {', '.join(wide)}")
    return problems


def _phone(chromium, live_server):
    context = chromium.new_context(viewport=PHONE, base_url=live_server.url)
    axe_serve(context, live_server.url)
    return context


def _sign_in(context, email: str, password: str = PASSWORD):
    page = context.new_page()
    page.goto(reverse("login"))
    page.fill("#id_username", email)
    page.fill("#id_password", password)
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
            redirects = path == reverse("home")  # to the campaign list
            problems.extend(_problems(page, path, _shot_name(who, path, shots), redirects=redirects))
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
        problems.extend(_problems(page, path, _shot_name("signed-out", path, shots)))
    # a short link that does not exist gets the friendly "this link does not work" page
    not_found = reverse("short-link", args=["NOSUCHCODE"])
    visited.add(_route_of(not_found))
    problems.extend(_problems(page, not_found, "signed-out-short-link-not-found", status=404))
    # the code page of two-step sign-in follows the password
    page.goto(reverse("login"))
    page.fill("#id_username", demo.two_step_user.email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(reverse("two_step_sign_in")))
    visited.add(_route_of(reverse("two_step_sign_in")))
    problems.extend(_problems(page, page.url, "signed-out-two-step-code"))
    context.close()

    # then every route was opened (or is skipped with a reason), and no page was wider than the screen or failed
    forgotten = sorted(set(_routes()) - visited - set(SKIPPED))
    assert not forgotten, f"Routes neither crawled nor skipped with a reason in {__name__}: {forgotten}"
    assert set(SKIPPED) <= set(_routes()), f"Skipped routes the URLconf no longer has: {set(SKIPPED) - set(_routes())}"
    assert not problems, "Pages that do not fit a 360 px phone, failed or broke an axe rule:\n" + "\n".join(problems)


def test_on_a_phone_the_header_is_a_menu_that_opens_and_closes_by_touch_and_keyboard(
    transactional_db, live_server, chromium, manager
):
    # given a manager signed in on a phone
    context = chromium.new_context(viewport=PHONE, base_url=live_server.url)
    page = _sign_in(context, manager.email, password=FACTORY_PASSWORD)
    button, menu = page.locator(".site-header .menu-button"), page.locator("#site-menu")

    # then the navigation is folded behind the Menu button, which says so
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # when they tap it, the navigation opens below the header, every link on its own line
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    lefts = menu.locator(":scope > a").evaluate_all("links => links.map((a) => a.getBoundingClientRect().left)")
    assert len(lefts) == 6 and len(set(lefts)) == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # when they press Escape, it closes and the focus is back on the button; Enter opens it again, Tab reaches a link
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="Campaigns")).to_be_focused()

    # when they follow a link, the next page starts with the menu folded again
    menu.get_by_role("link", name="Insights").click()
    expect(page.locator("h1")).to_contain_text("Insights")
    expect(page.locator("#site-menu")).to_be_hidden()

    # when the same page is on a laptop's screen, there is no Menu button and the navigation is shown
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator(".site-header .menu-button")).to_be_hidden()
    expect(page.locator("#site-menu")).to_be_visible()
    context.close()


def test_a_wide_table_scrolls_inside_its_box_with_its_first_column_in_view(
    transactional_db, live_server, chromium, manager, template
):
    # given campaigns in the list, on a phone
    for name in ("Diwali sale", "New year sale"):
        create_campaign(template, manager, name=name)
    context = chromium.new_context(viewport=PHONE, base_url=live_server.url)
    page = _sign_in(context, manager.email, password=FACTORY_PASSWORD)
    box = page.locator(".table-scroll:has(table#campaigns)")
    first = box.locator("tbody tr").first.locator("td").first
    last = box.locator("tbody tr").first.locator("td").last

    # then the table is wider than the screen, but only its box scrolls, not the page
    assert box.evaluate("(e) => e.scrollWidth > e.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    start = {"first": first.bounding_box()["x"], "last": last.bounding_box()["x"]}

    # when the box is scrolled to its end (by keyboard: it takes the focus)
    box.focus()
    expect(box).to_be_focused()
    box.evaluate("(e) => e.scrollTo(e.scrollWidth, 0)")

    # then the other columns have moved under the first, which stays where it was, in view
    expect(first).to_contain_text("New year sale")
    assert last.bounding_box()["x"] < start["last"]
    assert first.bounding_box()["x"] == start["first"] >= 0
    assert box.evaluate("(e) => e.scrollLeft") > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS.parent / "phone-table-scrolled.png"))
    context.close()
