"""API keys of the reporting API: a brand's BI tools read its campaign figures with one of these."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiKey(models.Model):
    """One key of one org. The key itself is shown once, when it is created; only its hash is stored.

    Keys are 32 random bytes from `secrets`, so a fast hash (SHA-256) is right: there is nothing to guess that a slow
    password hash would protect, and a lookup by hash costs one indexed query per call.
    """

    org = models.ForeignKey("campaigns.Org", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. “Power BI dashboard”.")
    prefix = models.CharField(max_length=8, help_text="The first characters after lt_, to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)  # SHA-256 hex of the full key
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)  # to the minute: not written on every call
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (lt_{self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def shown_as(self) -> str:
        """How lists show the key: its beginning only."""
        return f"lt_{self.prefix}…"
