"""An idempotent demo: one org, two users, senders, templates, a DLT URL whitelist, 200 customers, two finished
campaigns (SMS and email, so reports show both channels) and purchases after them."""

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from campaigns.customers.attribution import campaign_sales_recount
from campaigns.customers.transaction_rows import TransactionRow
from campaigns.customers.transactions import SOURCE_IMPORT, transactions_store
from campaigns.dlt import trai
from campaigns.lifecycle import services
from campaigns.models import (
    Campaign,
    CampaignEvent,
    Channel,
    Customer,
    Membership,
    Org,
    SenderId,
    Template,
    User,
    WhitelistedUrl,
)
from campaigns.sending.holds import campaign_settle_credits
from delivery.models import Message
from linktrack import services as linktrack_services
from linktrack.celery import app as celery_app
from linktrack.models import Click

ORG_NAME = "Demo Brand"
CAMPAIGN_NAME = "Order shipped (demo)"
EMAIL_CAMPAIGN_NAME = "Festive offers email (demo)"
PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
)
PREVIEW_UA = "WhatsApp/2.24.6.77 A"
# What people clicked on, roughly as an Indian audience does: mostly Android, some iPhones, a few desktops.
CLICK_AGENTS = [
    (PHONE_UA, 60),
    (
        "Mozilla/5.0 (Linux; Android 13; RMX3511) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0 Mobile Safari/537.36",
        20,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        12,
    ),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", 8),
]
SENT_HOURS_AGO = 30
HAND_OVER_MILLISECONDS = 12  # between one message's hand-over and the next
ORDER_TRACKING_URL = "https://demo-brand.example/track"
OFFERS_URL = "https://demo-brand.example/offers/festive"
FIRST_NAMES = ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Isha", "Kabir", "Meera", "Arjun", "Diya"]


class Command(BaseCommand):
    help = "Create (or refresh) the demo org, its users, templates, URL whitelist, customers and one finished campaign."

    def handle(self, *args, **options):
        password = settings.DEMO_PASSWORD
        org, manager = self._org_and_users(password)
        templates = self._senders_and_templates(org)
        self._url_whitelist(org, manager)
        self._customers(org)
        slots = [{"source": "field", "value": "name"}]
        campaign = self._finished_campaign(
            org, manager, templates["order"], CAMPAIGN_NAME, [*slots, {"source": "url", "value": ORDER_TRACKING_URL}]
        )
        self._finished_campaign(
            org, manager, templates["newsletter"], EMAIL_CAMPAIGN_NAME, [*slots, {"source": "url", "value": OFFERS_URL}]
        )
        self._transactions(org)
        url = self._working_short_url(campaign)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Campaign manager: manager@demo.test / {password}")
        self.stdout.write(f"  Support staff:    support@demo.test / {password}")
        self.stdout.write(f"  A short URL that works: {url}")

    def _org_and_users(self, password: str) -> tuple[Org, User]:
        org, _ = Org.objects.get_or_create(name=ORG_NAME, defaults={"sms_link_tracking": True, "credits": 100_000})
        manager, _ = User.objects.get_or_create(email="manager@demo.test", defaults={"first_name": "Maya"})
        support, _ = User.objects.get_or_create(
            email="support@demo.test", defaults={"first_name": "Sam", "is_staff": True}
        )
        for user in (manager, support):
            # A new hash (a new salt) would change the session's auth hash and sign out every browser on each
            # `make run`: the password is set only when it is not already this one.
            if not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=manager, org=org)
        return org, manager

    def _senders_and_templates(self, org: Org) -> dict[str, Template]:
        service, _ = SenderId.objects.get_or_create(
            org=org,
            header="DEMOBR",
            defaults={"category": SenderId.Category.SERVICE_IMPLICIT, "dlt_entity_id": "1701170000000000001"},
        )
        promo, _ = SenderId.objects.get_or_create(
            org=org,
            header="500123",
            defaults={"category": SenderId.Category.PROMOTIONAL, "dlt_entity_id": "1701170000000000001"},
        )
        transactional, _ = SenderId.objects.get_or_create(
            org=org,
            header="DEMOTX",
            defaults={"category": SenderId.Category.TRANSACTIONAL, "dlt_entity_id": "1701170000000000001"},
        )
        specs = {
            "order": (
                "Order shipped",
                service,
                "1707170000000000101",
                "Hi {#var#}, your Demo Brand order has shipped. Track it here: {#var#} - Demo Brand",
            ),
            "sale": (
                "Weekend sale",
                promo,
                "1707170000000000102",
                "Flat {#var#} off on everything this weekend! Shop now: {#var#} T&C apply. Demo Brand",
            ),
            "otp": (
                "Login code",
                transactional,
                "1707170000000000103",
                "{#var#} is your Demo Brand login code. Do not share it with anyone. - Demo Brand",
            ),
        }
        templates = {}
        for key, (name, sender, dlt_id, body) in specs.items():
            templates[key], _ = Template.objects.get_or_create(
                org=org, name=name, defaults={"sender": sender, "dlt_template_id": dlt_id, "body": body}
            )
        templates["newsletter"], _ = Template.objects.get_or_create(
            org=org,
            name="Festive offers (email)",
            defaults={
                "channel": Channel.EMAIL,
                "subject": "{#var#}, the Demo Brand festive sale is on",
                "body": "Hi {#var#}, this week's offers are waiting for you: {#var#}",
                "html_body": '<p>Hi {#var#},</p><p><a href="{#var#}">See this week\'s offers</a></p>',
            },
        )
        return templates

    def _url_whitelist(self, org: Org, manager: User) -> None:
        """What the demo brand whitelisted on DLT: its short links (a dynamic URL, so every code is covered), the
        order tracking page and the offers pages, so launches pass the whitelist check."""
        entries = [
            (trai.short_link_prefix(org), WhitelistedUrl.Kind.DYNAMIC),
            ("https://demo-brand.example/track", WhitelistedUrl.Kind.STATIC),
            ("https://demo-brand.example/offers/", WhitelistedUrl.Kind.DYNAMIC),
        ]
        for url, kind in entries:
            WhitelistedUrl.objects.get_or_create(org=org, url=url, defaults={"kind": kind, "created_by": manager})

    def _customers(self, org: Org) -> None:
        rng = random.Random(42)
        existing = set(Customer.objects.filter(org=org).values_list("external_id", flat=True))
        new = []
        for n in range(1, 201):
            external_id = f"CUST{n:04d}"
            if external_id in existing:
                continue
            name = f"{rng.choice(FIRST_NAMES)} {chr(65 + n % 26)}."
            # Two numbers are invalid and three customers unsubscribed, so the report has something to explain.
            mobile = f"+91123{n:04d}" if n in (17, 133) else f"+9198{rng.randrange(10**7, 10**8)}"
            new.append(
                Customer(
                    org=org,
                    external_id=external_id,
                    name=name,
                    mobile=mobile,
                    email=f"customer{n}@demo.test",
                    sms_subscribed=n not in (5, 88, 150),
                )
            )
        Customer.objects.bulk_create(new)

    def _finished_campaign(
        self, org: Org, manager: User, template: Template, name: str, slot_values: list[dict]
    ) -> Campaign:
        existing = Campaign.objects.filter(org=org, name=name).first()
        if existing is not None:
            return existing
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True  # the demo is finished when this command returns
        try:
            # ... so its tasks run here and now, not on the embedded mode's background threads
            with override_settings(TASKS_IN_BACKGROUND_THREAD=False):
                with transaction.atomic():
                    campaign = services.campaign_create(
                        org=org, user=manager, name=name, template=template, slot_values=slot_values
                    )
                services.campaign_launch(campaign=campaign, user=manager)
        finally:
            celery_app.conf.task_always_eager = eager
        self._clicks(campaign)
        # Its credits settled at once, as the supervisor would a minute after it finished, so the demo is complete.
        with transaction.atomic():
            campaign_settle_credits(campaign_id=campaign.pk)
        campaign.refresh_from_db()
        Campaign.objects.filter(pk=campaign.pk).update(credits_settled_at=campaign.dispatched_at + timedelta(minutes=1))
        return campaign

    def _clicks(self, campaign: Campaign) -> None:
        rng = random.Random(7)
        delivered = list(Message.objects.filter(campaign=campaign, status=Message.Status.DELIVERED).order_by("pk"))
        for message in rng.sample(delivered, k=min(60, len(delivered))):
            resolved = linktrack_services.resolve(_code_in(message.body))
            target, message_id = resolved
            for user_agent in [PREVIEW_UA] + [PHONE_UA] * rng.randint(1, 3):
                linktrack_services.click_record(
                    target=target,
                    message_id=message_id,
                    ip=f"10.0.0.{message.pk % 250}",
                    user_agent=user_agent,
                    method="GET",
                )
        linktrack_services.clicks_flush()
        self._as_if_sent_yesterday(campaign)

    def _as_if_sent_yesterday(self, campaign: Campaign) -> None:
        """The demo reads as a campaign sent SENT_HOURS_AGO: its receipts came seconds after, its clicks over the
        hours after, most in the first two, on various phones. Only times and (human) agents move: the counts stay
        as recorded."""
        rng = random.Random(11)
        sent_at = timezone.now() - timedelta(hours=SENT_HOURS_AGO)
        # Handed over one after the other in a couple of seconds; receipts came seconds after, a few much later, as
        # operators report them.
        messages = list(Message.objects.filter(campaign=campaign).exclude(sent_at=None).order_by("pk"))
        for number, message in enumerate(messages):
            message.sent_at = sent_at + timedelta(milliseconds=HAND_OVER_MILLISECONDS * number)
            if message.finished_at is not None:
                message.finished_at = message.sent_at + timedelta(seconds=1 + rng.expovariate(1 / 6))
        Message.objects.bulk_update(messages, ["sent_at", "finished_at"])
        Message.objects.filter(campaign=campaign).update(created_at=sent_at)
        # It and its history happened then too: created a few minutes before the launch, the rest at it.
        created_at = sent_at - timedelta(minutes=5)
        Campaign.objects.filter(pk=campaign.pk).update(
            created_at=created_at, launched_at=sent_at, dispatched_at=messages[-1].sent_at if messages else sent_at
        )
        events = CampaignEvent.objects.filter(campaign=campaign)
        events.filter(kind=CampaignEvent.Kind.CREATED).update(at=created_at)
        events.exclude(kind=CampaignEvent.Kind.CREATED).update(at=sent_at)
        agents, weights = zip(*CLICK_AGENTS, strict=True)
        clicks = list(Click.objects.filter(campaign=campaign).order_by("pk"))
        phone_of: dict[int, str] = {}  # each recipient clicks on one phone
        for click in clicks:
            delay = min(rng.expovariate(1 / 90), 60 * (SENT_HOURS_AGO - 1))  # minutes; half within about an hour
            click.clicked_at = sent_at + timedelta(minutes=2 + delay)
            if not click.is_bot:
                click.user_agent = phone_of.setdefault(click.message_id, rng.choices(agents, weights)[0])
        Click.objects.bulk_update(clicks, ["clicked_at", "user_agent"])
        # The clicks moved in time after they were counted: count them again where they now are.
        linktrack_services.click_counters_build(org_id=campaign.org_id, everything=True)

    def _transactions(self, org: Org) -> None:
        """Purchases after the demo campaigns, so their pages set those who clicked against those who did not: most
        who clicked bought within hours of their click, a fifth of the others after their message. Stored as the
        import stores them (a second seed finds them all unchanged)."""
        rng = random.Random(17)
        now = timezone.now()
        first_click: dict[int, datetime] = {}  # customer -> their first click by a person
        for customer_id, clicked_at in (
            Click.objects.filter(campaign__org=org, is_bot=False, message__isnull=False)
            .order_by("clicked_at")
            .values_list("message__customer_id", "clicked_at")
        ):
            first_click.setdefault(customer_id, clicked_at)
        reached = (
            Message.objects.filter(campaign__org=org, status=Message.Status.DELIVERED)
            .order_by("customer_id", "finished_at")
            .values_list("customer_id", "customer__external_id", "finished_at")
        )
        rows, seen = [], set()
        for customer_id, external_id, delivered_at in reached:
            if customer_id in seen:
                continue
            seen.add(customer_id)
            clicked_at = first_click.get(customer_id)
            if not rng.random() < (0.8 if clicked_at else 0.2):
                continue
            after = clicked_at or delivered_at
            bought_at = min(after + timedelta(minutes=rng.randint(5, 20 * 60)), now)
            rows.append(
                TransactionRow(
                    line=len(rows) + 1,
                    transaction_id=f"DEMO-{customer_id:05d}",
                    time=bought_at,
                    amount=Decimal(rng.randrange(29900, 499900)) / 100,
                    external_id=external_id,
                    store="Online store" if rng.random() < 0.7 else "Bandra West",
                    sales_channel="online",
                )
            )
        stored = transactions_store(org=org, rows=rows, source=SOURCE_IMPORT)
        campaign_sales_recount(stored.campaigns)

    def _working_short_url(self, campaign: Campaign) -> str:
        message = Message.objects.filter(campaign=campaign).exclude(body="").order_by("pk").first()
        return settings.SHORT_LINK_BASE_URL + _code_in(message.body)


def _code_in(body: str) -> str:
    base = settings.SHORT_LINK_BASE_URL.split("://", 1)[-1]
    return body.split(base, 1)[1].split()[0]
