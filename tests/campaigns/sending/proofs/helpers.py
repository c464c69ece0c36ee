"""Helpers of the proof tests: a draft campaign to send tests of."""

from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign, Template

SLOTS = [{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/sale"}]
MY_NUMBER = "+919810000001"  # also the number of the first customer of make_customers


def _draft(template: Template, manager, slot_values=None) -> Campaign:
    return campaign_services.campaign_create(
        org=template.org, user=manager, name="Diwali", template=template, slot_values=slot_values or SLOTS
    )
