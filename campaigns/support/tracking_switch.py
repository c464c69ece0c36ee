"""Switching an org's SMS link tracking on or off (support staff only), and what would break if it were on."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import fixed_links
from campaigns.models import Campaign, Channel, Org, Template, User


@dataclass
class FixedLinkTemplate:
    """An SMS template with links outside its variables, and the campaigns (any kind) that use it."""

    template: Template
    links: list[str]
    campaigns: list[Campaign] = field(default_factory=list)


def templates_with_fixed_links(*, org: Org) -> list[FixedLinkTemplate]:
    """Every SMS template of the org with a link in its fixed text: with tracking on these are refused.

    Recurring campaigns, coupon-expiry reminders and resends are campaigns using a template, so they are listed
    under the template they use.
    """
    templates = (
        Template.objects.filter(org=org, channel=Channel.SMS)
        .order_by("name", "pk")
        .prefetch_related(Prefetch("campaigns", queryset=Campaign.objects.order_by("name", "pk")))
    )
    found = []
    for template in templates:
        try:
            links = fixed_links(parse_template(template.body))
        except TemplateError:
            continue  # not a valid template at all; its own page says why
        if links:
            found.append(FixedLinkTemplate(template=template, links=links, campaigns=list(template.campaigns.all())))
    return found


@transaction.atomic
def org_link_tracking_set(*, org: Org, enabled: bool, user: User, confirmed: bool = False) -> Org:
    """Switch tracking on or off, recording who and when.

    Switching on while templates have links outside a variable needs `confirmed`: those templates (and the
    campaigns using them) will be refused until the links are moved into variables.
    """
    if not user.is_staff:
        raise PermissionDenied("Only support staff can switch SMS link tracking.")
    org = Org.objects.select_for_update().get(pk=org.pk)
    if org.sms_link_tracking == enabled:
        return org
    if enabled and not confirmed:
        affected = templates_with_fixed_links(org=org)
        if affected:
            raise ValidationError(
                {
                    "confirm": f"{len(affected)} template(s) of {org.name} have links outside a variable and will be "
                    f"refused once tracking is on. Tick the box to confirm you want to switch it on anyway."
                }
            )
    org.sms_link_tracking = enabled
    org.link_tracking_changed_by = user
    org.link_tracking_changed_at = timezone.now()
    org.save(update_fields=["sms_link_tracking", "link_tracking_changed_by", "link_tracking_changed_at", "updated_at"])
    return org
