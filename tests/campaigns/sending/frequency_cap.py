"""Helpers of the frequency cap tests."""

from campaigns.models import Org


def cap(org: Org, messages: int | None, days: int = 7) -> None:
    Org.objects.filter(pk=org.pk).update(frequency_cap_messages=messages, frequency_cap_days=days)
