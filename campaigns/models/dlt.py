"""DLT registrations: sender ids (headers), content templates and the org's whitelisted URLs."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.accounts import Org
from campaigns.models.common import Channel, TimeStamped


class SenderId(TimeStamped):
    """A DLT header (sender id) registered under the org's Principal Entity.

    For a promotional header, `ncpr_category` is the NCPR category (1-8, 0 = others) its messages fall in.
    """

    class Category(models.TextChoices):
        TRANSACTIONAL = "transactional", "Transactional"
        SERVICE_IMPLICIT = "service_implicit", "Service-Implicit"
        SERVICE_EXPLICIT = "service_explicit", "Service-Explicit"
        PROMOTIONAL = "promotional", "Promotional"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="sender_ids")
    header = models.CharField(max_length=6)
    category = models.CharField(max_length=32, choices=Category.choices)
    dlt_entity_id = models.CharField("DLT PE id", max_length=19)
    ncpr_category = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "header"], name="senderid_unique_org_header")]

    def __str__(self) -> str:
        return f"{self.header} ({self.get_category_display()})"

    @property
    def is_promotional(self) -> bool:
        return self.category == self.Category.PROMOTIONAL


class Template(TimeStamped):
    """A DLT content template: fixed text with `{#var#}` slots, registered on the operator's portal."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.SMS)
    sender = models.ForeignKey(SenderId, null=True, blank=True, on_delete=models.PROTECT, related_name="templates")
    dlt_template_id = models.CharField("DLT template id", max_length=19, blank=True)
    subject = models.CharField(max_length=200, blank=True, help_text="Email only.")
    body = models.TextField(help_text="SMS text, or the text part of an email.")
    html_body = models.TextField(blank=True, help_text="Email only: the HTML part.")

    def __str__(self) -> str:
        return self.name

    @property
    def delivery_is_reported(self) -> bool:
        """False for SMS from a promotional (numeric) sender: operators do not report their delivery (TRAI), so a
        message without a receipt has an unknown outcome, not a failed one."""
        return not (self.channel == Channel.SMS and self.sender is not None and self.sender.is_promotional)

    # The same, as a query on messages (delivery.Message): those whose delivery is never reported.
    UNREPORTED_MESSAGES = {
        "channel": Channel.SMS,
        "campaign__template__sender__category": SenderId.Category.PROMOTIONAL,
    }


class WhitelistedUrl(TimeStamped):
    """A URL the org has whitelisted on the DLT portal. Since 1 Oct 2024 operators block SMS whose links are not
    whitelisted (TRAI, Aug 2024).

    A static URL is whitelisted exactly (it has no `?`); a dynamic URL whitelists its fixed prefix, and every link
    that starts with it is covered (`https://acme.in/order?id=` covers `https://acme.in/order?id=42`). An org's
    short domain is whitelisted as a dynamic URL (`s.cplry.com/`), never each short link.
    """

    class Kind(models.TextChoices):
        STATIC = "static", "Static URL"
        DYNAMIC = "dynamic", "Dynamic URL (fixed prefix)"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="whitelisted_urls")
    url = models.CharField("URL", max_length=500)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.STATIC)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "url"], name="whitelistedurl_unique_org_url"),
            models.CheckConstraint(
                condition=Q(kind="dynamic") | ~Q(url__contains="?"), name="whitelistedurl_static_has_no_query"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} ({self.get_kind_display()})"
