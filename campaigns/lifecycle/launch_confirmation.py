"""What a launch will do, shown before anything is sent: the audience, the credits it takes and the balance after,
when it goes, the sender and the template. The launch page asks for this confirmation; the services launch without
it (tests, approval and the API call them directly)."""

from dataclasses import dataclass, field
from datetime import datetime

from campaigns.base import clock
from campaigns.base.history import in_org_time
from campaigns.dlt import trai
from campaigns.models import Campaign, Channel, Org
from campaigns.sending.preview import campaign_preview
from campaigns.sending.starts import campaign_launch_refusals, next_run_after


@dataclass(frozen=True)
class LaunchConfirmation:
    recipients: int
    credits: int  # one per SMS segment as sent (one per email); a recurring campaign: one run
    balance: int
    when: str  # "Now", "At 23 Nov 2026 18:30 (Asia/Kolkata)", "On the schedule …"
    sender: str
    template: str
    sample: str  # the first recipient's message as sent ("" when it cannot be shown)
    not_sendable: int = 0
    needs_approval: bool = False
    per_run: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def balance_after(self) -> int:
        return self.balance - self.credits

    @property
    def short_of_credits(self) -> int:
        return max(self.credits - self.balance, 0)


def launch_confirmation(*, campaign: Campaign, scheduled_at: datetime | None) -> LaunchConfirmation:
    """The launch in figures and words; raises ValidationError (in words) when the launch itself would be refused,
    so nobody confirms what cannot happen."""
    moment = clock.now()
    campaign_launch_refusals(campaign=campaign, scheduled_at=scheduled_at, moment=moment)
    preview = campaign_preview(campaign=campaign)
    template, org = campaign.template, campaign.org
    sms = template.channel == Channel.SMS
    sample = ""
    if sms and preview.after is not None:
        sample = preview.after.text
    elif not sms and preview.email_after is not None:
        sample = f"{preview.email_after.subject}\n\n{preview.email_after.text}"
    return LaunchConfirmation(
        recipients=preview.recipients,
        credits=preview.credits_after if sms else preview.recipients,
        balance=Org.objects.values_list("credits", flat=True).get(pk=org.pk),
        when=_when_in_words(campaign, scheduled_at, moment),
        sender=_sender_in_words(campaign),
        template=f"{template.name} (DLT template id {template.dlt_template_id})" if sms else template.name,
        sample=sample,
        not_sendable=preview.not_sendable,
        needs_approval=org.launch_needs_approval,
        per_run=bool(campaign.schedule),
        warnings=trai.campaign_launch_warnings(campaign=campaign),
    )


def _when_in_words(campaign: Campaign, scheduled_at: datetime | None, moment: datetime) -> str:
    zone = campaign.org.timezone
    if campaign.schedule:
        first = next_run_after(schedule=campaign.schedule, moment=moment, tz=zone)
        return f"On the schedule {campaign.schedule} ({zone}); the first run at {in_org_time(first, campaign)}"
    if scheduled_at is not None:
        return f"At {in_org_time(scheduled_at, campaign)} ({zone})"
    return "Now"


def _sender_in_words(campaign: Campaign) -> str:
    template = campaign.template
    if template.channel == Channel.EMAIL:
        return f"The address of {campaign.org.name}'s email gateway, subject “{template.subject}”"
    sender = template.sender
    return f"{sender.header} ({sender.get_category_display()})" if sender else "none"
