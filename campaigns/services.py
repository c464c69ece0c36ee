"""Business operations on campaigns. Views and tasks call these; they hold no logic themselves."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, Org, Template, User
from campaigns.rendering import campaign_problems
from campaigns.tasks import campaign_dispatch_task


@transaction.atomic
def campaign_create(*, org: Org, user: User, name: str, template: Template, slot_values: list[dict]) -> Campaign:
    if template.org_id != org.pk:
        raise ValidationError("This template belongs to another organisation.")
    problems = campaign_problems(org=org, body=template.body, slot_values=slot_values)
    if problems:
        raise ValidationError([str(p) for p in problems])
    campaign = Campaign(org=org, name=name, template=template, slot_values=slot_values, created_by=user)
    campaign.full_clean()
    campaign.save()
    return campaign


def campaign_launch(*, campaign: Campaign, user: User) -> Campaign:
    """Start sending. Launching twice (double click, two tabs) starts one dispatch."""
    with transaction.atomic():
        problems = campaign_problems(org=campaign.org, body=campaign.template.body, slot_values=campaign.slot_values)
        if problems:
            raise ValidationError([str(p) for p in problems])
        claimed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.DRAFT).update(
            status=Campaign.Status.DISPATCHING, launched_at=timezone.now()
        )
        if claimed:
            transaction.on_commit(lambda: campaign_dispatch_task.delay(campaign.pk))
    campaign.refresh_from_db()
    return campaign
