"""Two campaigns of one org dispatched at the same moment on PostgreSQL never spend more credits than it has."""

from campaigns.models import Campaign, Org
from delivery.models import Message
from tests.campaigns.helpers import dispatch_at_once
from tests.factories import create_campaign, make_customers


def test_concurrent_campaigns_of_one_org_never_overspend(postgres, transactional_db, template, manager, settings):
    # given 15 credits, 12 customers and two campaigns to all of them, dispatched in batches of 3
    settings.DISPATCH_BATCH_SIZE = 3
    Org.objects.filter(pk=template.org_id).update(credits=15)
    make_customers(template.org, 12)
    campaigns = [create_campaign(template, manager, name=f"Campaign {n}") for n in (1, 2)]
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(status=Campaign.Status.DISPATCHING)

    # when both dispatch at the same time in two threads (two database connections)
    errors = dispatch_at_once(campaigns)

    # then exactly 15 messages were paid for and handed over, the rest are "out of credits", the org has 0 left
    assert errors == []
    messages = Message.objects.filter(campaign__in=campaigns)
    assert messages.count() == 24
    assert messages.exclude(gateway_message_id="").count() == 15
    assert messages.filter(reason_code="out_of_credits").count() == 9
    assert Org.objects.get(pk=template.org_id).credits == 0
    charged = sum(Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).values_list("credits_charged", flat=True))
    assert charged == 15
