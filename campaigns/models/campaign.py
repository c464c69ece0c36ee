"""Campaigns (one-time, recurring, coupon-expiry reminder, resend) and their history events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from campaigns.models.accounts import Org
from campaigns.models.common import TimeStamped
from campaigns.models.customers import CustomerList, Segment
from campaigns.models.dlt import Template


class Campaign(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        ACTIVE = "active", "Recurring: active"
        DISPATCHING = "dispatching", "Sending"
        PAUSED = "paused", "Paused"
        DISPATCHED = "dispatched", "Finished"
        CANCELLED = "cancelled", "Cancelled"
        # Last, so that lists of the statuses (the reporting API's) only grow: it comes after a draft.
        AWAITING_APPROVAL = "awaiting_approval", "Waiting for approval"

    # Not finished: it may still send (or, a draft, be launched). Finished (every message handed to the gateway) and
    # cancelled are finished.
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
    # Customers in the audience when it was launched (counted again when it starts): the total its page's progress
    # reads from the first moment. A few may get no message (one message per number), so once everything is
    # prepared the messages are the total.
    audience_size = models.PositiveIntegerField(null=True, blank=True)

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
    # Tries at preparing its messages since one last prepared a batch: each start counts one, a batch done sets it
    # back to 0. A dispatch that keeps failing (an error, a worker that dies) is paused after DISPATCH_MAX_TRIES.
    dispatch_tries = models.PositiveSmallIntegerField(default=0)
    # Preparation runs as batch tasks that any worker takes (campaigns.sending.dispatch): the number of the latest
    # plan of them, and how many of its batches are still to be done (plus one while the plan is being queued).
    dispatch_plan = models.PositiveIntegerField(default=0)
    dispatch_batches_left = models.PositiveIntegerField(default=0)
    # Credits taken from the org for this campaign's messages, and when what was not sent was given back.
    credits_charged = models.PositiveBigIntegerField(default=0)
    credits_settled_at = models.DateTimeField(null=True, blank=True)

    # Launch approval (campaigns.lifecycle.approval): who asked for the launch of a campaign waiting for approval, when, and
    # the time they asked it to be sent at (empty: now, or a recurring campaign on its schedule). Emptied when the
    # request is rejected or withdrawn; kept once approved.
    approval_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    approval_scheduled_at = models.DateTimeField(null=True, blank=True)

    # Summary email (campaigns.lifecycle.summary_email), claimed with a conditional UPDATE so it goes out once: when this
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


class DispatchBatchDone(models.Model):
    """A batch of a campaign's dispatch plan that has counted itself done (Campaign.dispatch_batches_left). A broker
    may hand a batch task out twice (redelivered after a worker died before its acknowledgement left, though its
    work had committed): the second run finds its row here and does not count down again, which would mark the
    campaign prepared with its last batch still to do."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    plan = models.PositiveIntegerField()
    number = models.PositiveIntegerField()  # the batch's place in its plan, from 1

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "plan", "number"], name="dispatchbatchdone_unique_batch")
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id}, plan {self.plan}, batch {self.number}"


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
            # The campaign page reads a campaign's latest events (campaigns.base.history.campaign_history).
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
