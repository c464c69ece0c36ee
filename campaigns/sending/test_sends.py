"""Proofs: "Send a test" of a draft campaign's message to a few of the manager's own numbers or addresses.

A proof is the real message: rendered as dispatch renders it (the preview's sample customer fills customer fields),
its links real tracked short links when the org's link tracking is on, matched against its DLT template, paid in
credits (one per segment) and handed to the org's gateway as dispatch would. Its messages are Message rows with
`proof` set, which `Message.objects` (every report, count, export, dispatch and the frequency cap) leaves out.
"""

import re
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns.base.history import campaign_event_record
from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.dlt.completeness import template_incomplete_problem
from campaigns.dlt.link_finding import LinkError
from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import (
    RenderRefused,
    absolute_url,
    example_short_url,
    fill_email,
    render_sms,
    rewrite_email,
    slot_value,
)
from campaigns.models import Campaign, CampaignEvent, Channel, Customer, Org, User
from campaigns.sending.holds import HANDOVER_CUT_OFF
from campaigns.sending.message_drafts import MessageDraft
from campaigns.sending.preview import attach_coupons, preview_audience
from campaigns.sending.renderer import MessageRenderer
from campaigns.sending.tasks import proof_hand_over_task
from campaigns.sending.test_hand_over import proof_credits_settle
from delivery import reasons
from delivery.gateways import Exchange
from delivery.models import Message, Proof
from delivery.reports.selectors import masked_recipient
from delivery.services import exchanges_log

PROOF_MAX_RECIPIENTS = 5
_SEPARATORS = re.compile(r"[,;\n]+")


class ProofRefused(Exception):
    """A test that is not sent, and why, in a campaign manager's words."""


def proof_recipients_parse(*, channel: str, text: str) -> list[str]:
    """The numbers (E.164, default country India, as the customer import reads them) or email addresses written one
    a line or separated by commas; a bad entry is refused by name."""
    entries = list(dict.fromkeys(entry.strip() for entry in _SEPARATORS.split(text) if entry.strip()))
    what = "email address" if channel == Channel.EMAIL else "mobile number"
    if not entries:
        raise ProofRefused(f"Enter at least one {what} to send the test to.")
    if len(entries) > PROOF_MAX_RECIPIENTS:
        raise ProofRefused(f"A test goes to at most {PROOF_MAX_RECIPIENTS} recipients; you entered {len(entries)}.")
    recipients = []
    for entry in entries:
        if channel == Channel.EMAIL:
            try:
                validate_email(entry)
            except ValidationError:
                raise ProofRefused(f"'{entry}' is not an email address.") from None
            recipients.append(entry.lower())
        else:
            try:
                recipients.append(normalise_mobile(entry))
            except MobileError as error:
                raise ProofRefused(f"'{entry}' {error}.") from None
    return list(dict.fromkeys(recipients))


def proof_send(*, campaign: Campaign, user: User, recipients: list[str]) -> Proof:
    """Queue the campaign's message to `recipients` as a test; raises ProofRefused (nothing sent, nothing paid) when
    it cannot be. A worker hands it to the gateway (a slow gateway keeps no page waiting); a message the gateway
    refuses shows its reason, its credits given back."""
    if not 1 <= len(recipients) <= PROOF_MAX_RECIPIENTS:
        raise ProofRefused(f"A test goes to 1 to {PROOF_MAX_RECIPIENTS} recipients.")
    campaign = Campaign.objects.select_related("org", "template__sender").get(pk=campaign.pk)
    incomplete = template_incomplete_problem(campaign.template)
    if incomplete:
        raise ProofRefused(f"Not sent: {incomplete}")
    sample = _sample_customer(campaign)
    _refuse_unsendable(campaign, sample)
    proof = _proof_prepare(campaign=campaign, user=user, recipients=recipients, sample=sample)
    transaction.on_commit(lambda: proof_hand_over_task.delay(proof.pk))
    proof.refresh_from_db()  # as it is now: handed over already when tasks run in-process
    return proof


def _sample_customer(campaign: Campaign) -> Customer:
    """The customer whose fields fill the test: the preview's first sample, with the coupon the preview shows (blank
    fields when the audience is empty)."""
    sample = preview_audience(campaign=campaign).order_by("pk").first() or Customer(org=campaign.org)
    attach_coupons(campaign, [sample])
    return sample


def _refuse_unsendable(campaign: Campaign, sample: Customer) -> None:
    """What rendering would refuse (a DLT mismatch, a value too long, a javascript: link), in words."""
    template, org = campaign.template, campaign.org
    values = [slot_value(slot, sample) for slot in campaign.slot_values]
    short = example_short_url(org)
    try:
        parsed = parse_template(template.body)
        if len(parsed.slots) != len(values):
            raise ProofRefused("The campaign's values do not match its template's variables: edit the campaign.")
        if template.channel == Channel.EMAIL:
            parts = fill_email(
                subject=template.subject, body=template.body, html_body=template.html_body, values=values
            )
            rewrite_email(parts, tracking=org.sms_link_tracking, short_url_for=lambda _: absolute_url(org, short))
        else:
            render_sms(
                parsed=parsed,
                values=values,
                tracking=org.sms_link_tracking,
                short_url_for=lambda _: short,
                max_length=settings.DLT_VARIABLE_MAX_LENGTH,
            )
    except RenderRefused as refused:
        title = reasons.reason_for(refused.reason_code).title
        raise ProofRefused(f"Not sent ({title}): {refused}") from None
    except (TemplateError, LinkError) as error:
        raise ProofRefused(f"Not sent: {error}.") from None


@transaction.atomic
def _proof_prepare(*, campaign: Campaign, user: User, recipients: list[str], sample: Customer) -> Proof:
    """Check the campaign and the hourly limit, write and render the messages, take the credits."""
    # The campaign's row lock makes two tests at once count against the hourly limit one after the other.
    status = Campaign.objects.select_for_update().filter(pk=campaign.pk).values_list("status", flat=True).first()
    if status != Campaign.Status.DRAFT:
        raise ProofRefused("A test can be sent only while the campaign is a draft.")
    _refuse_over_hourly_limit(campaign)
    channel = campaign.template.channel
    proof = Proof.objects.create(campaign=campaign, sent_by=user, recipients=len(recipients))
    messages = Message.with_proofs.bulk_create(
        [
            Message(campaign=campaign, proof=proof, channel=channel, recipient=r, status=Message.Status.QUEUED)
            for r in recipients
        ]
    )
    drafts = []
    for message in messages:
        draft = MessageDraft(sample, message.recipient)
        draft.pk = message.pk
        drafts.append(draft)
    MessageRenderer(campaign).render(drafts)  # short links minted as dispatch mints them, one code per message
    refused = next((draft for draft in drafts if draft.status == Message.Status.NOT_SENT), None)
    if refused is not None:
        raise ProofRefused(f"Not sent: {reasons.reason_for(refused.reason_code).title}.")
    for message, draft in zip(messages, drafts, strict=True):
        message.body, message.subject, message.html_body = draft.body, draft.subject, draft.html_body
        message.segments = draft.segments
    Message.with_proofs.bulk_update(messages, ["body", "subject", "html_body", "segments"])
    needed = sum(message.segments for message in messages)
    org = Org.objects.select_for_update().only("credits", "name").get(pk=campaign.org_id)
    if org.credits < needed:
        raise ProofRefused(
            f"This test needs {needed} credit{'s' if needed != 1 else ''} (one per segment) and {org.name} has "
            f"{org.credits} left. Ask support to add credits."
        )
    Org.objects.filter(pk=org.pk).update(credits=F("credits") - needed)
    Proof.objects.filter(pk=proof.pk).update(credits=needed)
    count = len(recipients)
    campaign_event_record(
        campaign=campaign,
        kind=CampaignEvent.Kind.PROOF_SENT,
        user=user,
        detail=f"to {count} recipient{'s' if count != 1 else ''}",
    )
    return proof


def _refuse_over_hourly_limit(campaign: Campaign) -> None:
    limit = settings.PROOF_SENDS_PER_HOUR
    since = timezone.now() - timedelta(hours=1)
    recent = list(
        Proof.objects.filter(campaign=campaign, sent_at__gte=since)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
    )
    if len(recent) < limit:
        return
    again = recent[len(recent) - limit] + timedelta(hours=1)
    local = again.astimezone(ZoneInfo(campaign.org.timezone))
    raise ProofRefused(
        f"This campaign has sent {len(recent)} tests in the last hour, the most allowed ({limit} an hour). "
        f"The next one can be sent at {local:%H:%M}."
    )


def proofs_recover() -> int:
    """Tests whose hand-over was lost, for the supervisor: messages queued for QUEUED_STALE_SECONDS get their task
    again (sending claims, so a task still running is harmless); messages "submitting" for SUBMITTING_STALE_SECONDS
    lost their worker mid hand-over: they may have been sent (unknown, "handover_cut_off", kept in the gateway log)
    and are charged, since handing a test over twice could make a second SMS. Looks at tests of the last two days;
    returns the messages acted on."""
    now = timezone.now()
    recent_proofs = Proof.objects.filter(sent_at__gte=now - timedelta(days=2)).values("pk")
    recent = Message.with_proofs.filter(proof__isnull=False, proof_id__in=recent_proofs)
    queued = recent.filter(
        status=Message.Status.QUEUED, created_at__lt=now - timedelta(seconds=settings.QUEUED_STALE_SECONDS)
    )
    waiting = Counter(queued.values_list("proof_id", flat=True))
    # Each test once per QUEUED_STALE_SECONDS: while no worker runs, the supervisor's passes pile no tasks up.
    due = [p for p in sorted(waiting) if cache.add(f"campaigns:proof-requeued:{p}", 1, settings.QUEUED_STALE_SECONDS)]
    for proof_id in due:
        proof_hand_over_task.delay(proof_id)
    stuck = recent.filter(
        status=Message.Status.SUBMITTING, updated_at__lt=now - timedelta(seconds=settings.SUBMITTING_STALE_SECONDS)
    )
    with transaction.atomic():
        stuck_ids = list(stuck.select_for_update(skip_locked=True).values_list("pk", "proof_id"))
        Message.with_proofs.filter(pk__in=[pk for pk, _ in stuck_ids]).update(
            status=Message.Status.UNKNOWN, reason_code=HANDOVER_CUT_OFF, finished_at=now, updated_at=now
        )
        error = "hand-over cut off: the worker handing this test to the gateway stopped before recording its answer"
        exchanges_log(
            config=None, gateway_kind="", exchanges=[(pk, Exchange("submit", error=error)) for pk, _ in stuck_ids]
        )
    for proof_id in sorted({proof_id for _, proof_id in stuck_ids}):
        proof_credits_settle(proof_id=proof_id)
    return sum(waiting[proof_id] for proof_id in due) + len(stuck_ids)


def proof_outcome_in_words(proof: Proof) -> tuple[list[str], list[str], list[str]]:
    """(handed over, not sent, still waiting for a worker) lines for the page's notice: each recipient masked, a
    failure with its reason's title."""
    sent, not_sent, waiting = [], [], []
    for message in Message.with_proofs.filter(proof=proof).order_by("pk"):
        recipient = masked_recipient(message.recipient)
        if message.status == Message.Status.NOT_SENT:
            not_sent.append(f"{recipient}: {reasons.reason_for(message.reason_code).title}")
        elif message.status in (Message.Status.QUEUED, Message.Status.SUBMITTING):
            waiting.append(recipient)
        else:
            sent.append(recipient)
    return sent, not_sent, waiting
