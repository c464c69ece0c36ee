"""The low-credit alert: an org asks to be warned when its credits fall below N, and its campaign managers get one
email when they do, before campaigns start recording recipients as "not sent: out of credits".

The setting
    Org.credits_alert_below, empty (off) by default, set on the Credits page by the org's managers or support staff
    (campaigns.credits.views). Changing it arms the alert again: an org already below the new level is told at the
    next pass.

Once per fall
    A pass (campaigns.credits.tasks.credit_alerts_send_task, every 5 minutes) emails every org below its level whose
    alert is armed: never sent, or sent before a top-up that brought the balance back to the level or above
    (CreditTopUp.balance_after). Campaigns giving back unused credits, or a paused campaign's credits coming back,
    do not arm it again: only support adding credits does, as only that is a decision to keep sending. A top-up
    that leaves the balance under the level does not arm it either, and the balance is read at each pass, so a
    top-up followed by a new fall between two passes still gets its email.

Exactly once
    Each org is claimed with a conditional UPDATE of `credits_alert_sent_at` on the value the pass read (and on the
    balance still being below the level): of two workers, the one whose UPDATE waits finds the value changed and
    sends nothing. The claim commits before the email goes: the org's row is the one every dispatch batch locks to
    take credits, and it is not held while a mail server answers. When the mail server refuses, the claim is given
    back (again on the value it set) for a later pass, unless some managers were told already; a worker that dies
    between the claim and the email loses that email.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse

from campaigns.base import clock
from campaigns.models import CreditTopUp, Org, User
from linktrack.common.absolute_urls import public_url

logger = logging.getLogger(__name__)

SUBJECT = "campaigns/credit_alert_email_subject.txt"
BODY = "campaigns/credit_alert_email.txt"
STEP_LIMIT = 100  # orgs per pass
LEVEL_MAX = 10**12
LEVEL_IN_WORDS = f"Give a number of credits from 1 to {LEVEL_MAX:,}, or leave it empty for no warning."


def credits_alert_set(*, org: Org, below: int | None) -> Org:
    """Set (None: switch off) the level under which the org's managers are emailed; a new level arms the alert."""
    if below is not None and not 1 <= below <= LEVEL_MAX:
        raise ValidationError({"credits_alert_below": LEVEL_IN_WORDS})
    Org.objects.filter(pk=org.pk).exclude(credits_alert_below=below).update(
        credits_alert_below=below, credits_alert_sent_at=None
    )
    org.refresh_from_db(fields=["credits", "credits_alert_below", "credits_alert_sent_at"])
    return org


def orgs_to_alert():
    """Orgs below their level whose alert is armed, in one query."""
    topped_up = CreditTopUp.objects.filter(
        org=OuterRef("pk"),
        amount__gt=0,
        created_at__gt=OuterRef("credits_alert_sent_at"),
        balance_after__gte=OuterRef("credits_alert_below"),
    )
    return Org.objects.filter(credits_alert_below__isnull=False, credits__lt=F("credits_alert_below")).filter(
        Q(credits_alert_sent_at__isnull=True) | Exists(topped_up)
    )


def credit_alerts_send(*, moment: datetime | None = None) -> int:
    """One pass: the alert of each org that fell below its level. Bounded; safe to run twice or at once. Returns the
    orgs whose managers were emailed."""
    moment = moment or clock.now()
    due = list(orgs_to_alert().order_by("pk").values_list("pk", "credits_alert_sent_at")[:STEP_LIMIT])
    return sum(_org_alert_send(org_id=pk, last=last, moment=moment) for pk, last in due)


def _org_alert_send(*, org_id: int, last: datetime | None, moment: datetime) -> bool:
    # Claimed on the value read, and only while still below: a second worker's UPDATE finds it changed.
    claimed = Org.objects.filter(pk=org_id, credits_alert_sent_at=last, credits__lt=F("credits_alert_below")).update(
        credits_alert_sent_at=moment
    )
    if not claimed:
        return False
    org = Org.objects.get(pk=org_id)
    recipients = alert_recipients(org=org)
    if not recipients:
        return False
    subject, body = credit_alert_email(org=org)
    sent = 0
    for recipient in recipients:  # one email each: colleagues need not see who else was told
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
            sent += 1
        except OSError:  # smtplib's errors included
            logger.exception("The low-credit email of org %s to %s could not be sent", org_id, recipient)
    if not sent:  # nobody was told: a later pass tries again (once someone was, the others are not sent it twice)
        Org.objects.filter(pk=org_id, credits_alert_sent_at=moment).update(credits_alert_sent_at=last)
    return bool(sent)


def alert_recipients(*, org: Org) -> list[str]:
    """The org's campaign managers who can sign in; never support staff, who are no member of it."""
    return list(
        User.objects.filter(memberships__org=org, is_active=True).order_by("email").values_list("email", flat=True)
    )


def credit_alert_email(*, org: Org) -> tuple[str, str]:
    context = {
        "org_name": org.name,
        "credits": f"{org.credits:,}",
        "level": f"{org.credits_alert_below:,}",
        "link": public_url(f"{reverse('campaigns:credits')}?org={org.pk}"),
    }
    subject = " ".join(render_to_string(SUBJECT, context).split())
    return subject, render_to_string(BODY, context)
