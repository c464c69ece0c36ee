"""The ground floor: users, orgs, customers, DLT senders and templates, campaigns. Imports no other app."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractUser):
    """Signs in with an email address. Django's `is_staff` marks support staff."""

    username = None
    email = models.EmailField("email address", unique=True)
    # The summary email of a campaign they launched, once it has finished (campaigns.summary_email); turned off on
    # the Notifications page or by the email's own "stop these emails" link.
    campaign_summary_emails = models.BooleanField(
        "email me a summary when a campaign I launched has finished", default=True
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class Org(TimeStamped):
    name = models.CharField(max_length=200, unique=True)
    sms_link_tracking = models.BooleanField(
        default=False, help_text="Replace links in {#var#} slots by tracked short links. Support staff only."
    )
    link_tracking_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    link_tracking_changed_at = models.DateTimeField(null=True, blank=True)
    credits = models.PositiveBigIntegerField(default=0, help_text="One credit is one SMS segment.")
    timezone = models.CharField(max_length=64, default="Asia/Kolkata")
    short_domain = models.CharField(
        max_length=100,
        blank=True,
        help_text="Host of this org's short links (e.g. s.cplry.com), whitelisted on DLT under the org's headers. "
        "Empty: the deployment's SHORT_LINK_BASE_URL.",
    )
    short_link_with_scheme = models.BooleanField(
        default=False, help_text="Show https:// in front of short links in messages."
    )
    # Frequency cap (campaigns.sending_rules): at most this many promotional messages per customer and channel in
    # the last `frequency_cap_days` days; recipients over it are not sent. Empty: no cap.
    frequency_cap_messages = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="At most this many promotional messages per customer in the period. Empty: no limit.",
    )
    frequency_cap_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(30)], help_text="The period, in days."
    )
    # Launch approval (campaigns.approval): a launched campaign waits until a second person of the org approves it.
    launch_needs_approval = models.BooleanField(
        default=False, help_text="A campaign is sent only once a second person of the org has approved its launch."
    )
    launch_approval_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    launch_approval_changed_at = models.DateTimeField(null=True, blank=True)
    # Low-credit alert (campaigns.credit_alerts): the org's campaign managers are emailed once when the balance falls
    # below this (empty: never), claimed with a conditional UPDATE of `credits_alert_sent_at` on the value read; a
    # top-up that brings the balance back to it or above arms the alert again.
    credits_alert_below = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Email the organisation's campaign managers when the credits fall below this. Empty: never.",
    )
    credits_alert_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_cap_messages__isnull=True) | Q(frequency_cap_messages__gte=1),
                name="org_frequency_cap_messages_positive",
            ),
            models.CheckConstraint(
                condition=Q(frequency_cap_days__gte=1, frequency_cap_days__lte=30), name="org_frequency_cap_days_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def credits_below_alert(self) -> bool:
        """Whether the balance is under the level the org asked to be warned at (the campaign list's banner)."""
        return self.credits_alert_below is not None and self.credits < self.credits_alert_below


class CreditTopUp(models.Model):
    """Credits support staff added to an org (or took back, a negative amount), and why: the balance has a history.

    Campaigns spend credits through Org.credits directly (reserved per batch, released for what is not sent)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="credit_top_ups")
    amount = models.BigIntegerField()
    balance_after = models.PositiveBigIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="credittopup_amount_not_zero")]

    def __str__(self) -> str:
        return f"{self.amount:+} credits for {self.org} ({self.created_at:%Y-%m-%d})"


class Membership(TimeStamped):
    class Role(models.TextChoices):
        CAMPAIGN_MANAGER = "campaign_manager", "Campaign manager"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.CAMPAIGN_MANAGER)
    # Who invited the user into the org (campaigns.team); when is `created_at`. Empty for memberships made in the
    # admin before invitations existed, or whose inviter was deleted.
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.get_role_display()})"


class Customer(TimeStamped):
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200, blank=True)
    mobile = models.CharField(max_length=20, blank=True, help_text="E.164, for example +919812345678.")
    email = models.EmailField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    sms_subscribed = models.BooleanField(default=True)
    email_subscribed = models.BooleanField(default=True)
    # Personal data erased on request (campaigns.customer_erasure): name, contacts and attributes are empty, and the
    # row stays so that campaign reports keep counting the messages sent to it.
    erased_at = models.DateTimeField(null=True, blank=True)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        # The unique (org, mobile) and (org, external_id) constraints leave out empty values, so any number of
        # erased customers (whose mobile and external id are empty) live side by side in one org.
        constraints = [
            models.UniqueConstraint(
                fields=["org", "mobile"], condition=~Q(mobile=""), name="customer_unique_org_mobile"
            ),
            models.UniqueConstraint(
                fields=["org", "external_id"],
                condition=~Q(external_id=""),
                name="customer_unique_org_external_id",
            ),
        ]

    def __str__(self) -> str:
        if self.is_erased:
            return "Erased customer"
        return self.name or self.mobile or self.email

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class CustomerList(TimeStamped):
    """A named list of customers a campaign can target (an import, a hand-picked group)."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="customer_lists")
    name = models.CharField(max_length=200)
    customers = models.ManyToManyField(Customer, related_name="lists", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="customerlist_unique_org_name")]

    def __str__(self) -> str:
        return self.name


class Segment(TimeStamped):
    """A saved filter on customer attributes and behaviour, evaluated when a campaign is dispatched.

    `conditions` is a list, all of which must hold, of {"attribute": "city", "op": "eq" | "ne" | "in" | "contains",
    "value": ...} and {"behaviour": "clicked" | "sent" | "undelivered", "days" or "messages": N, "channel": ...,
    "negate": bool} (campaigns.audience.segment_conditions_clean).
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=200)
    conditions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="segment_unique_org_name")]

    def __str__(self) -> str:
        return self.name


class NdncEntry(TimeStamped):
    """A number on the national Do-Not-Disturb register (NCPR), as imported by the org.

    `blocked_categories` holds NCPR categories 1-8 the number refuses; 0 means fully blocked.
    """

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="ndnc_entries")
    mobile = models.CharField(max_length=20)
    blocked_categories = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "mobile"], name="ndncentry_unique_org_mobile")]

    def __str__(self) -> str:
        return self.mobile


class Coupon(TimeStamped):
    """A customer's coupon; coupon-expiry reminder campaigns message customers whose coupon expires soon."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="coupons")
    code = models.CharField(max_length=40)
    expires_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "code"], name="coupon_unique_customer_code")]
        # Reminder runs look coupons up by expiry date.
        indexes = [models.Index(fields=["expires_on"], name="coupon_expires_on")]

    def __str__(self) -> str:
        return self.code


class Unsubscribe(TimeStamped):
    """Who unsubscribed from which channel, how and when (the flags on Customer are the current state)."""

    class Source(models.TextChoices):
        STOP_REPLY = "stop_reply", "STOP reply"
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"
        EMAIL_LINK = "email_link", "Unsubscribe link"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="unsubscribes")
    channel = models.CharField(max_length=8)
    source = models.CharField(max_length=16, choices=Source.choices)
    note = models.CharField(max_length=200, blank=True)
    # Once the customer's personal data is erased while they are unsubscribed: the hash of the number (SMS) or
    # address (email) they unsubscribed, so a customer imported again with it stays unsubscribed (never the value).
    contact_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            # The customer import looks up the hashes of the numbers and addresses it creates customers with.
            models.Index(fields=["contact_hash"], condition=~Q(contact_hash=""), name="unsubscribe_contact_hash"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} from {self.channel}"

    @staticmethod
    def hash_contact(*, org_id: int, channel: str, contact: str) -> str:
        """SHA-256 hex of an org's normalised number (E.164) or address (lower case) on a channel."""
        value = contact.strip().lower() if channel == Channel.EMAIL else contact.strip()
        return hashlib.sha256(f"{org_id}:{channel}:{value}".encode()).hexdigest()


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class SenderId(TimeStamped):
    """A DLT header (sender id) registered under the org's Principal Entity.

    For a promotional header, `ncpr_category` is the NCPR category (1-8, 0 = others) its messages fall in.
    """

    class Category(models.TextChoices):
        TRANSACTIONAL = "transactional", "Transactional"
        SERVICE_IMPLICIT = "service_implicit", "Service-Implicit"
        SERVICE_EXPLICIT = "service_explicit", "Service-Explicit"
        PROMOTIONAL = "promotional", "Promotional"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="sender_ids")
    header = models.CharField(max_length=6)
    category = models.CharField(max_length=32, choices=Category.choices)
    dlt_entity_id = models.CharField("DLT PE id", max_length=19)
    ncpr_category = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "header"], name="senderid_unique_org_header")]

    def __str__(self) -> str:
        return f"{self.header} ({self.get_category_display()})"

    @property
    def is_promotional(self) -> bool:
        return self.category == self.Category.PROMOTIONAL


class Template(TimeStamped):
    """A DLT content template: fixed text with `{#var#}` slots, registered on the operator's portal."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    sender = models.ForeignKey(SenderId, null=True, blank=True, on_delete=models.PROTECT, related_name="templates")
    dlt_template_id = models.CharField("DLT template id", max_length=19, blank=True)
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(help_text="SMS text, or the text part of an email.")
    html_body = models.TextField(blank=True, help_text="Email only: the HTML part.")

    def __str__(self) -> str:
        return self.name


class WhitelistedUrl(TimeStamped):
    """A URL the org has whitelisted on the DLT portal. Since 1 Oct 2024 operators block SMS whose links are not
    whitelisted (TRAI, Aug 2024).

    A static URL is whitelisted exactly (it has no `?`); a dynamic URL whitelists its fixed prefix, and every link
    that starts with it is covered (`https://acme.in/order?id=` covers `https://acme.in/order?id=42`). An org's
    short domain is whitelisted as a dynamic URL (`s.cplry.com/`), never each short link.
    """

    class Kind(models.TextChoices):
        STATIC = "static", "Static URL"
        DYNAMIC = "dynamic", "Dynamic URL (fixed prefix)"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="whitelisted_urls")
    url = models.CharField("URL", max_length=500)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STATIC)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "url"], name="whitelistedurl_unique_org_url"),
            models.CheckConstraint(
                condition=Q(kind="dynamic") | ~Q(url__contains="?"), name="whitelistedurl_static_has_no_query"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.get_kind_display()})"


class Campaign(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        ACTIVE = "active", "Recurring: active"
        DISPATCHING = "dispatching", "Sending"
        PAUSED = "paused", "Paused"
        DISPATCHED = "dispatched", "Handed to the gateway"
        CANCELLED = "cancelled", "Cancelled"
        # Last, so that lists of the statuses (the reporting API's) only grow: it comes after a draft.
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"

    # Not finished: it may still send (or, a draft, be launched). Handed to the gateway and cancelled are finished.
    UNFINISHED_STATUSES = (
        Status.DRAFT,
        Status.AWAITING_APPROVAL,
        Status.SCHEDULED,
        Status.ACTIVE,
        Status.DISPATCHING,
        Status.PAUSED,
    )

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", "One-time"
        RECURRING = "recurring", "Recurring"
        COUPON_REMINDER = "coupon_reminder", "Coupon-expiry reminder"
        RESEND = "resend", "Resend"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ONE_TIME)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="campaigns")
    # One entry per slot of the template, in order: {"source": "text" | "field" | "url", "value": "..."}.
    slot_values = models.JSONField(default=list, blank=True)
    # Appended to every tracked link's destination at redirect time, e.g. {"utm_source": "sms"}.
    utm_params = models.JSONField(default=dict, blank=True)
    # Tracked links stop leading to their destination after this (None: never); an expired link leads to
    # `expired_link_url` when there is one, else to a page saying the link has expired. Clicks after it never count.
    links_expire_at = models.DateTimeField(null=True, blank=True)
    expired_link_url = models.URLField(max_length=2000, blank=True)
    # Who receives it: a list, a segment, or (neither) every customer of the org.
    audience_list = models.ForeignKey(
        CustomerList, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    audience_segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    # The audience in words when it was chosen ("list Diwali, segment Mumbai"): kept after a list is deleted.
    audience_description = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    launched_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    # When to start: a one-time campaign at `scheduled_at`; a held promotional campaign when the window opens.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # Recurring (and recurring coupon reminders): a cron expression in the org's time zone; each run is a child.
    schedule = models.CharField(max_length=100, blank=True, help_text="Cron expression, e.g. '0 10 * * 1'.")
    next_run_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    # Coupon-expiry reminder: customers whose coupon expires this many days after the run's date.
    coupon_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # Resend: the finished campaign whose recipients are sent again, and which outcomes qualify.
    resend_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="resends")
    resend_reasons = models.JSONField(default=list, blank=True)

    # Why the campaign is paused or held, in the manager's words (shown on its page).
    hold_reason = models.CharField(max_length=300, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    # The dispatcher touches this after each batch; a stale one means its worker died and dispatch is restarted.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Credits taken from the org for this campaign's messages, and when what was not sent was given back.
    credits_charged = models.PositiveBigIntegerField(default=0)
    credits_settled_at = models.DateTimeField(null=True, blank=True)

    # Launch approval (campaigns.approval): who asked for the launch of a campaign waiting for approval, when, and
    # the time they asked it to be sent at (empty: now, or a recurring campaign on its schedule). Emptied when the
    # request is rejected or withdrawn; kept once approved.
    approval_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approval_scheduled_at = models.DateTimeField(null=True, blank=True)

    # Summary email (campaigns.summary_email), claimed with a conditional UPDATE so it goes out once: when this
    # campaign's summary was sent to who launched it, or decided against (nobody to send it to, emails turned off,
    # no message, finished before summaries existed). A run's summary goes in its recurring campaign's daily digest,
    # and the recurring campaign keeps when its last digest was sent (at most one a day, on the org's calendar).
    summary_sent_at = models.DateTimeField(null=True, blank=True)
    runs_summary_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="awaiting_approval") | Q(approval_requested_at__isnull=False),
                name="campaign_awaiting_approval_was_requested",
            ),
            models.CheckConstraint(
                condition=~Q(kind="coupon_reminder") | Q(coupon_days__isnull=False),
                name="campaign_coupon_reminder_has_days",
            ),
            models.CheckConstraint(
                condition=~Q(kind="resend") | Q(resend_of__isnull=False), name="campaign_resend_has_source"
            ),
        ]
        indexes = [
            # The supervisor looks for due, running and unsettled campaigns by status.
            models.Index(fields=["status", "scheduled_at"], name="campaign_status_scheduled"),
            # The summary email's pass looks for settled campaigns whose summary is still due, by settling time.
            models.Index(
                fields=["credits_settled_at"],
                condition=Q(summary_sent_at__isnull=True, credits_settled_at__isnull=False),
                name="campaign_summary_due",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def describe_audience(audience_list: "CustomerList | None", audience_segment: "Segment | None") -> str:
        words = f"list {audience_list.name}" if audience_list else "every customer"
        return f"{words}, segment {audience_segment.name}" if audience_segment else words

    @property
    def audience_deleted(self) -> bool:
        """Whether the list or segment the campaign was set up with has been deleted since."""
        words = self.audience_description
        return (words.startswith("list ") and self.audience_list_id is None) or (
            ", segment " in words and self.audience_segment_id is None
        )

    @property
    def audience_in_words(self) -> str:
        """The audience under its current names; the names it had when chosen once it has been deleted."""
        if self.audience_deleted:
            return self.audience_description
        return self.describe_audience(self.audience_list, self.audience_segment)

    @property
    def channel(self) -> str:
        return self.template.channel

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_recurring(self) -> bool:
        return bool(self.schedule) and self.parent_id is None

    @property
    def can_pause(self) -> bool:
        return self.status == self.Status.DISPATCHING

    @property
    def can_resume(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def can_cancel(self) -> bool:
        return self.status in (
            self.Status.AWAITING_APPROVAL,
            self.Status.SCHEDULED,
            self.Status.ACTIVE,
            self.Status.DISPATCHING,
            self.Status.PAUSED,
        )


class CampaignEvent(models.Model):
    """One thing that happened to a campaign: who did it (None: linktrack itself) and, in words, what and why.

    A campaign's history on its page. Recorded per change of the campaign, never per message or batch."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Changed"
        LAUNCHED = "launched", "Launched"
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"
        STARTED = "started", "Started"
        NOT_STARTED = "not_started", "Not started, back to draft"
        PAUSED = "paused", "Paused"
        AUTO_PAUSED = "auto_paused", "Paused automatically"
        RESUMED = "resumed", "Resumed"
        CANCELLED = "cancelled", "Cancelled"
        DISPATCH_RESTARTED = "dispatch_restarted", "Sending restarted"
        HANDED_OVER = "handed_over", "Handed to the gateway"
        RUN_STARTED = "run_started", "Run started"
        RUN_SKIPPED = "run_skipped", "Run skipped"
        LINK_SETTINGS_CHANGED = "link_settings_changed", "Link settings changed"
        DUPLICATED_FROM = "duplicated_from", "Copied"
        RESEND_CREATED = "resend_created", "Resend made"
        APPROVAL_REQUESTED = "approval_requested", "Sent for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Not approved, back to draft"
        WITHDRAWN = "withdrawn", "Approval request withdrawn, back to draft"
        PROOF_SENT = "proof_sent", "Test sent"

    # Only a person does these: without a user, that person's account has been deleted since.
    BY_A_PERSON = frozenset(
        {
            Kind.CREATED,
            Kind.EDITED,
            Kind.LAUNCHED,
            Kind.SCHEDULED,
            Kind.PAUSED,
            Kind.RESUMED,
            Kind.CANCELLED,
            Kind.LINK_SETTINGS_CHANGED,
            Kind.DUPLICATED_FROM,
            Kind.RESEND_CREATED,
            Kind.APPROVAL_REQUESTED,
            Kind.APPROVED,
            Kind.REJECTED,
            Kind.WITHDRAWN,
            Kind.PROOF_SENT,
        }
    )

    # Not indexed alone: the (campaign, -at) index below serves lookups by campaign too.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events", db_index=False)
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # The campaign page reads a campaign's latest events (campaigns.history.campaign_history).
            models.Index(fields=["campaign", "-at"], name="campaignevent_campaign_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.at:%Y-%m-%d %H:%M})"

    @property
    def by(self) -> str:
        """Who did it, as the campaign page says it."""
        if self.user is not None:
            return self.user.email
        return "a deleted user" if self.kind in self.BY_A_PERSON else "linktrack"
