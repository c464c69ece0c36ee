"""What tests/insights/test_reports_replica.py does to the data, each step in a process of its own against the test's
PostgreSQL primary and replica (DATABASE_URL, REPORTS_DATABASE_URL), as a worker of the project would:
`python -m tests.insights.replica_steps seed` or `... launch`. Tasks run in the process (no broker), on the
simulated gateway. Each step prints what the test needs as JSON on its last line."""

import json
import sys

import django


def seed() -> dict:
    """An org with a manager, an API key and six customers, and the campaign "Before the pause" sent to them."""
    from campaigns.models import SenderId
    from delivery.models import Message
    from insights.api.keys import api_key_create
    from linktrack.models import ShortLink
    from linktrack.redirect import codes
    from tests.factories import (
        PASSWORD,
        OrgFactory,
        SenderIdFactory,
        TemplateFactory,
        UserFactory,
        make_customers,
    )

    org = OrgFactory(name="Acme Retail", sms_link_tracking=True, credits=10_000)
    manager = UserFactory(email="manager@acme.test", member_of=org)
    sender = SenderIdFactory(
        org=org, header="ACMERT", category=SenderId.Category.SERVICE_IMPLICIT, dlt_entity_id="1701160000000000001"
    )
    TemplateFactory(
        org=org,
        name="Order shipped",
        sender=sender,
        dlt_template_id="1707160000000000001",
        body="Hi {#var#}, your order has shipped. Track it: {#var#} - Acme",
    )
    make_customers(org, 6)
    campaign = _launched("Before the pause")
    link = ShortLink.objects.get(campaign=campaign)
    messages = Message.objects.filter(campaign=campaign).order_by("pk")
    _key, raw_key = api_key_create(org=org, user=manager, name="BI")
    return {
        "campaign": campaign.pk,
        "paths": ["/s/" + codes.encode(link.pk, message.pk) for message in messages],
        "api_key": raw_key,
        "email": manager.email,
        "password": PASSWORD,
    }


def launch() -> dict:
    """The campaign "During the pause" sent to the same customers; its messages as the primary holds them."""
    from delivery.models import Message

    campaign = _launched("During the pause")
    return {"campaign": campaign.pk, "messages": Message.objects.filter(campaign=campaign).count()}


def _launched(name: str):
    from campaigns.lifecycle import services as campaign_services
    from campaigns.models import Template, User
    from tests.factories import create_campaign

    template = Template.objects.get(name="Order shipped")
    manager = User.objects.get(email="manager@acme.test")
    campaign = create_campaign(template, manager, name=name)
    return campaign_services.campaign_launch(campaign=campaign, user=manager)


if __name__ == "__main__":
    django.setup()
    print(json.dumps({"seed": seed, "launch": launch}[sys.argv[1]]()))
