"""linktrack's data: short domains, short links (one per campaign and destination) and clicks."""

from django.db import models

from campaigns.models import Channel


class ShortDomain(models.Model):
    """A host short links were minted for. Requests to it are served codes at the root, for as long as its
    links live, even after the org moved to another domain."""

    host = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.host


class ShortLink(models.Model):
    """A destination of a campaign. Each recipient's code encodes (short link id, message id)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="short_links")
    destination = models.URLField(max_length=2000)
    # The host its codes were minted for (the org's short domain then); empty: the deployment's
    # SHORT_LINK_BASE_URL. A code resolves only there, and links already sent keep working after the org
    # changes its domain.
    short_domain = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this, the code shows a 'link expired' page."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "short_domain", "destination"], name="shortlink_unique_campaign_domain_destination"
            )
        ]

    def __str__(self) -> str:
        return self.destination


class Click(models.Model):
    """Every hit on a short link, bots included (flagged, and left out of the counts)."""

    # The click stream's entry id (or a uuid for a synchronous insert): storing a batch twice changes nothing.
    event_id = models.CharField(max_length=64, unique=True)
    short_link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="clicks")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="clicks")
    message = models.ForeignKey("delivery.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    clicked_at = models.DateTimeField()
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    is_bot = models.BooleanField(default=False)

    class Meta:
        indexes = [
            # Click counts per campaign leave bots out; the id lets a campaign's clicks be read in order, page by page
            # (the click download and the reporting API), without sorting all of them for each page.
            models.Index(fields=["campaign", "is_bot", "id"], name="click_campaign_is_bot_id"),
        ]

    def __str__(self) -> str:
        return f"click on {self.short_link_id} at {self.clicked_at:%Y-%m-%d %H:%M}"
