"""The clock of delivery's services: when messages are handed over and receipts arrive (tests move it here)."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
