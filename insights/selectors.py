"""Click counts: bots and link previews are stored but never counted."""

from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from linktrack.models import Click


@dataclass(frozen=True)
class ClickCounts:
    total: int  # human hits
    unique: int  # distinct recipients with a human hit


def click_counts(*, campaign_id: int) -> ClickCounts:
    human = Click.objects.filter(campaign_id=campaign_id, is_bot=False)
    with_recipient = human.aggregate(
        total=Count("pk"), recipients=Count("message_id", distinct=True, filter=Q(message__isnull=False))
    )
    # A link without a recipient counts distinct visitors: hashed IP + user agent, per day.
    anonymous_visitors = (
        human.filter(message__isnull=True)
        .annotate(day=TruncDate("clicked_at"))
        .values("ip_hash", "user_agent", "day")
        .distinct()
        .count()
    )
    return ClickCounts(total=with_recipient["total"], unique=with_recipient["recipients"] + anonymous_visitors)
