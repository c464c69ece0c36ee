"""The summary email: once a campaign has finished, who launched it gets its report without coming back to its page.

When a campaign has finished
    Its credits are settled (campaigns.sending.supervisor, holds.campaign_settle_credits): it was handed to the gateway or
    cancelled, nothing is queued or being handed over any more, and the credits of what was never sent went back.
    Then its receipts: none is still awaited, or RECEIPTS_ARRIVING (15 minutes) has passed since, the moment its
    page stops refreshing itself (campaigns.lifecycle.selectors.campaign_page_is_live). Receipts mostly come within minutes;
    the few that never come would hold the email for RECEIPT_WAIT_HOURS (three days), so they are not waited for:
    the email counts them in "not delivered" and says how many still wait for a receipt, as the page does.

Who gets it, and how often
    Who launched the campaign (the person of its Launched or Scheduled event; for a launch that needed approval, who
    asked for it, not the approver), while they are active, still a member of its org (or support staff) and have
    not turned these emails off (User.campaign_summary_emails). Never a recipient's number or address: the email
    holds figures and reasons only. A campaign without any message (cancelled before sending, an empty audience)
    gets none, and neither do a preview's tests (proofs): they belong to no finished campaign's report.

    A recurring campaign's runs would mail its manager once per run (every hour, for an hourly schedule), so its
    runs go in a digest instead: at most one email a day (the org's calendar day) per recurring campaign, with the
    runs that finished since the last one. A weekly or daily schedule still gets one email per run.

Exactly once
    A pass (campaigns.lifecycle.tasks.campaign_summaries_send_task, every few minutes) claims each campaign with a conditional
    UPDATE of `summary_sent_at` (a recurring campaign: of `runs_summary_sent_at`, on the value it read) and sends
    within the same transaction: two workers, or a redelivered task, send one email. When the mail server fails,
    the claim is rolled back and a later pass tries again, for up to GIVE_UP_AFTER after the campaign finished.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.template.loader import render_to_string
from django.urls import reverse

from campaigns.accounts.notifications import stop_link_for
from campaigns.base import clock
from campaigns.base.click_rates import ClickRate, click_rate
from campaigns.base.history import in_org_time
from campaigns.lifecycle.selectors import RECEIPTS_ARRIVING
from campaigns.models import Campaign, CampaignEvent, Membership, User
from delivery import reasons
from delivery.models import Message, MessageCounts
from delivery.reports.selectors import DeliveryCounts, delivery_counts_from, messages_by_status, reason_of
from linktrack.common.absolute_urls import public_url
from linktrack.counts.click_counts import ClickCounts, click_counts_for_campaigns

logger = logging.getLogger(__name__)

SUBJECT = "campaigns/summary_email_subject.txt"
TEXT = "campaigns/summary_email.txt"
HTML = "campaigns/summary_email.html"
STEP_LIMIT = 100  # campaigns (and recurring campaigns) per pass
RUNS_LISTED = 10  # runs a digest lists one by one; its totals count every run
TOP_REASONS = 3
# A summary the mail server keeps refusing is tried again on every pass for this long after the campaign settled.
GIVE_UP_AFTER = timedelta(days=2)


# --- Finished campaigns --------------------------------------------------------------------------------------------


def finished_campaigns(*, moment: datetime) -> QuerySet[Campaign]:
    """Campaigns (and runs) that have finished and whose summary is still due, in one query."""
    waiting = Message.objects.filter(campaign_id=OuterRef("pk"), status=Message.Status.SENT)
    return Campaign.objects.filter(
        summary_sent_at__isnull=True,
        credits_settled_at__isnull=False,
        credits_settled_at__gte=moment - GIVE_UP_AFTER,
    ).filter(Q(credits_settled_at__lte=moment - RECEIPTS_ARRIVING) | ~Exists(waiting))


def campaign_summaries_send() -> int:
    """One pass: the summary of each finished campaign, one digest per recurring campaign whose runs finished (at
    most one a day). Bounded; safe to run twice or at once. Returns the emails sent."""
    moment = clock.now()
    finished = finished_campaigns(moment=moment)
    one_time = finished.filter(parent__isnull=True, schedule="").order_by("credits_settled_at")
    sent = sum(
        _campaign_summary_send(campaign_id=pk, moment=moment)
        for pk in list(one_time.values_list("pk", flat=True)[:STEP_LIMIT])
    )
    parents = finished.filter(parent__isnull=False).order_by().values_list("parent_id", flat=True).distinct()
    sent += sum(_runs_digest_send(parent_id=pk, moment=moment) for pk in list(parents[:STEP_LIMIT]))
    return sent


def _campaign_summary_send(*, campaign_id: int, moment: datetime) -> bool:
    try:
        with transaction.atomic():
            # The claim's row lock holds a second worker until this one commits; then it finds the summary sent.
            claimed = Campaign.objects.filter(pk=campaign_id, summary_sent_at__isnull=True).update(
                summary_sent_at=moment
            )
            if not claimed:
                return False
            campaign = Campaign.objects.select_related("org", "template__sender").get(pk=campaign_id)
            email = campaign_summary_email(campaign=campaign)
            if email is None:
                return False
            email.send()
    except OSError:  # smtplib's errors included: rolled back, so a later pass sends it
        logger.exception("The summary email of campaign %s could not be sent; it is tried again later", campaign_id)
        return False
    return True


def _runs_digest_send(*, parent_id: int, moment: datetime) -> bool:
    parent = Campaign.objects.select_related("org", "template__sender").get(pk=parent_id)
    last = parent.runs_summary_sent_at
    zone = ZoneInfo(parent.org.timezone)
    if last is not None and last.astimezone(zone).date() >= moment.astimezone(zone).date():
        return False  # today's digest went out: these runs go in tomorrow's
    try:
        with transaction.atomic():
            # Claimed on the value read: of two workers, the one whose UPDATE waits finds it changed.
            claim = Campaign.objects.filter(pk=parent_id, runs_summary_sent_at=last)  # None: IS NULL
            if not claim.update(runs_summary_sent_at=moment):
                return False
            run_ids = list(finished_campaigns(moment=moment).filter(parent_id=parent_id).values_list("pk", flat=True))
            Campaign.objects.filter(pk__in=run_ids, summary_sent_at__isnull=True).update(summary_sent_at=moment)
            email = runs_digest_email(parent=parent, run_ids=run_ids)
            if email is None:  # nothing was sent: a digest may still go out today
                Campaign.objects.filter(pk=parent_id).update(runs_summary_sent_at=last)
                return False
            email.send()
    except OSError:
        logger.exception("The daily summary of the runs of campaign %s could not be sent; tried again later", parent_id)
        return False
    return True


# --- Who gets it ---------------------------------------------------------------------------------------------------


def launched_by(*, campaign: Campaign) -> User | None:
    """Who launched the campaign (a run: its recurring campaign); None when their account was deleted."""
    source = campaign.parent if campaign.parent_id else campaign
    launch = (
        CampaignEvent.objects.filter(
            campaign=source, kind__in=(CampaignEvent.Kind.LAUNCHED, CampaignEvent.Kind.SCHEDULED)
        )
        .select_related("user")
        .order_by("-at", "-pk")
        .first()
    )
    if launch is not None:
        return launch.user
    # Launched before campaigns kept a history.
    return source.approval_requested_by or source.created_by


def summary_recipient(*, campaign: Campaign) -> User | None:
    """Who gets the campaign's summary: who launched it, while they may see the org and want these emails."""
    user = launched_by(campaign=campaign)
    if user is None or not user.is_active or not user.campaign_summary_emails:
        return None
    if not user.is_staff and not Membership.objects.filter(org_id=campaign.org_id, user=user).exists():
        return None  # left the org since: its figures are not theirs to read any more
    return user


# --- What it says --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReasonCount:
    group: str  # "Not sent", "Not delivered"
    title: str  # the catalogue's words
    count: int


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's (or a digest's runs') figures as the email gives them; links absolute on PUBLIC_BASE_URL."""

    name: str
    sent_at: str  # on the org's clock
    counts: DeliveryCounts
    reasons: list[ReasonCount]
    clicks: ClickCounts
    link: str
    details: list[tuple[str, str]] = field(default_factory=list)  # (group title, View Details link)
    delivery_reported: bool = True  # False: SMS from a promotional sender (Template.delivery_is_reported)

    @property
    def rate(self) -> ClickRate:
        """Unique clickers per delivered message (per message sent where delivery is never reported), as the
        campaign page gives it."""
        return click_rate(
            unique_clicks=self.clicks.unique,
            delivered=self.counts.delivered,
            sent=self.counts.sent,
            delivery_reported=self.delivery_reported,
        )

    @property
    def click_rate(self) -> float | None:
        return self.rate.percent


@dataclass(frozen=True)
class SummaryEmail:
    recipient: str
    subject: str
    text: str
    html: str
    stop_link: str

    def send(self) -> None:
        message = EmailMultiAlternatives(
            self.subject,
            self.text,
            settings.DEFAULT_FROM_EMAIL,
            [self.recipient],
            # Mail apps show their own "unsubscribe" for it, which POSTs to the stop link (RFC 2369, RFC 8058).
            headers={"List-Unsubscribe": f"<{self.stop_link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
        )
        message.attach_alternative(self.html, "text/html")
        message.send()


def campaign_summary_email(*, campaign: Campaign) -> SummaryEmail | None:
    """The summary email of a finished campaign, or None when nobody is to get one or it sent no message."""
    recipient = summary_recipient(campaign=campaign)
    if recipient is None:
        return None
    report = _reports([campaign])[0]
    if not report.counts.total:
        return None
    context = {
        "org": campaign.org,
        "org_name": campaign.org.name,
        "time_zone": campaign.org.timezone,
        "channel": campaign.template.get_channel_display(),
        "report": report,
    }
    return _email(recipient=recipient, context=context)


def runs_digest_email(*, parent: Campaign, run_ids: list[int]) -> SummaryEmail | None:
    """The digest of a recurring campaign's finished runs (the latest listed one by one, every one in the totals),
    or None when nobody is to get it or the runs sent no message."""
    recipient = summary_recipient(campaign=parent)
    if recipient is None or not run_ids:
        return None
    runs = list(
        Campaign.objects.filter(pk__in=run_ids)
        .select_related("org", "template__sender")
        .order_by("-launched_at", "-pk")
    )
    by_status = _statuses_by_campaign(run_ids)
    runs = [run for run in runs if by_status.get(run.pk)]  # a run with no message (no coupon due, say) says nothing
    if not runs:
        return None
    listed = _reports(runs[:RUNS_LISTED])
    sent_ids = [run.pk for run in runs]
    clicks = click_counts_for_campaigns(campaign_ids=sent_ids)
    total_statuses: Counter[str] = Counter()
    for run in runs:
        total_statuses.update(by_status[run.pk])
    reported = parent.template.delivery_is_reported
    first, last = runs[-1], runs[0]
    period = in_org_time(first.launched_at, first) if first.launched_at else ""
    if len(runs) > 1 and last.launched_at:
        period = f"{period} to {in_org_time(last.launched_at, last)}"
    totals = CampaignReport(
        name=parent.name,
        sent_at=period,
        counts=delivery_counts_from(dict(total_statuses), delivery_reported=reported),
        reasons=_top_reasons(sent_ids, delivery_reported=reported),
        clicks=ClickCounts(total=sum(c.total for c in clicks.values()), unique=sum(c.unique for c in clicks.values())),
        link=_campaign_link(parent),
        delivery_reported=reported,
    )
    context = {
        "org": parent.org,
        "org_name": parent.org.name,
        "time_zone": parent.org.timezone,
        "channel": parent.template.get_channel_display(),
        "report": totals,
        "runs": listed,
        "runs_count": len(runs),
        "runs_not_listed": len(runs) - len(listed),
    }
    return _email(recipient=recipient, context=context)


def _reports(campaigns: list[Campaign]) -> list[CampaignReport]:
    """Each campaign's report: four queries whatever the number of campaigns, plus one per campaign for reasons."""
    ids = [campaign.pk for campaign in campaigns]
    by_status = _statuses_by_campaign(ids)
    clicks = click_counts_for_campaigns(campaign_ids=ids)
    reports = []
    for campaign in campaigns:
        # SMS from a promotional sender: no receipt is coming, so those still waiting count as unknown.
        reported = campaign.template.delivery_is_reported
        counts = delivery_counts_from(by_status.get(campaign.pk, {}), delivery_reported=reported)
        started = campaign.launched_at or campaign.dispatched_at
        details = [
            (reasons.GROUP_TITLES[group], public_url(reverse("delivery:details", args=[campaign.pk, group])))
            for group, count in ((reasons.NOT_DELIVERED, counts.not_delivered), (reasons.NOT_SENT, counts.not_sent))
            if count
        ]
        reports.append(
            CampaignReport(
                name=campaign.name,
                sent_at=in_org_time(started, campaign) if started else "",
                counts=counts,
                reasons=_top_reasons([campaign.pk], delivery_reported=reported),
                clicks=clicks.get(campaign.pk, ClickCounts(total=0, unique=0)),
                link=_campaign_link(campaign),
                details=details,
                delivery_reported=reported,
            )
        )
    return reports


def _statuses_by_campaign(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    return messages_by_status(campaign_ids=campaign_ids)


def _top_reasons(campaign_ids: list[int], *, delivery_reported: bool = True) -> list[ReasonCount]:
    """The most common reasons of "not sent" and "not delivered" together, in the catalogue's words, grouped as
    View Details groups them (a message still waiting for a receipt is "not delivered: pending", unless no receipt is
    coming: then its outcome is unknown, not a failure)."""
    failed = (Message.Status.NOT_SENT, Message.Status.NOT_DELIVERED)
    if delivery_reported:
        failed += (Message.Status.SENT,)
    rows = (
        MessageCounts.objects.filter(campaign_id__in=campaign_ids, status__in=failed)
        .values_list("status", "reason_code")
        .annotate(n=Sum("messages"))
        .order_by()
    )
    counts: Counter[str] = Counter()
    for status, reason_code, n in rows:
        if not n:
            continue
        code = reason_of(Message(status=status, reason_code=reason_code))
        if code not in reasons.REASONS:  # a gateway's own code: the generic reason of its group, as View Details
            code = reason_of(Message(status=status, reason_code=""))
        counts[code] += n
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_REASONS]
    return [
        ReasonCount(
            group=reasons.GROUP_TITLES[reasons.reason_for(code).group], title=reasons.reason_for(code).title, count=n
        )
        for code, n in top
    ]


def _email(*, recipient: User, context: dict) -> SummaryEmail:
    stop_link = stop_link_for(user=recipient)
    context = {
        **context,
        "stop_link": stop_link,
        "notifications_link": public_url(reverse("notifications:settings")),
        "receipt_wait_hours": f"{settings.RECEIPT_WAIT_HOURS:g}",
    }
    return SummaryEmail(
        recipient=recipient.email,
        subject=" ".join(render_to_string(SUBJECT, context).split()),
        text=render_to_string(TEXT, context),
        html=render_to_string(HTML, context),
        stop_link=stop_link,
    )


def _campaign_link(campaign: Campaign) -> str:
    return public_url(reverse("campaigns:detail", kwargs={"pk": campaign.pk}))
