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

    # The click's own id, given in the web process with its time (the stream's entry id for an event from before
    # clicks had one): storing a batch twice changes nothing. Unique with clicked_at, since on PostgreSQL the table
    # is partitioned by month of clicked_at and a unique key must hold the partition key (migration 0007); a click's
    # time is fixed with its id, so the same click always has the same pair.
    event_id = models.CharField(max_length=64)
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
        constraints = [models.UniqueConstraint(fields=["event_id", "clicked_at"], name="click_unique_event_clicked_at")]

    def __str__(self) -> str:
        return f"click on {self.short_link_id} at {self.clicked_at:%Y-%m-%d %H:%M}"


class ClickRetention(models.Model):
    """Clicks dropped after CLICK_RETENTION_MONTHS (linktrack.click_partitions): every stored click before
    `kept_from` is gone, in whole months, while the click counters keep their figures. Checking or rebuilding the
    counters looks only at the days from then on (linktrack.counts.rebuild)."""

    kept_from = models.DateTimeField()
    dropped_at = models.DateTimeField(auto_now_add=True)
    dropped = models.TextField(blank=True)  # what went, in words (the months' partitions, or rows on SQLite)

    def __str__(self) -> str:
        return f"clicks before {self.kept_from:%Y-%m-%d} dropped on {self.dropped_at:%Y-%m-%d}"


# Click counters: what every report reads instead of counting raw clicks. The click flush adds to them in the
# transaction that stores a batch of clicks (linktrack.counts.counters), as rows of changes ("deltas") that a
# periodic job merges; readers add rows up, so a hot link never makes two flushes wait for the same row. Days and
# hours are on the org's clock. People only: bots and link previews are never counted.


class DailyClicks(models.Model):
    """Total Click Count of a link on a day."""

    org_id = models.IntegerField()
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    short_link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    total = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["org_id", "day"], name="dailyclicks_org_day"),
            models.Index(fields=["campaign", "day"], name="dailyclicks_campaign_day"),
        ]

    def __str__(self) -> str:
        return f"{self.total} clicks on link {self.short_link_id} on {self.day}"


class UniqueClickers(models.Model):
    """Clickers who clicked on `day` and last before on `previous_day` (None: never before), of a link or, with no
    link, of the whole campaign. The distinct clickers of days D1..D2 are the rows of those days whose previous day
    is None or before D1: each clicker has exactly one such row, their first day in the period. A clicker is a
    recipient (their message); a hit without a recipient is a visitor of one day (previous day always None).

    `clickers` may be negative in a change row: a click stored late, on a day between two known ones, moves the
    later day's row from one previous day to another.
    """

    org_id = models.IntegerField()
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    short_link = models.ForeignKey(ShortLink, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    previous_day = models.DateField(null=True, blank=True)
    clickers = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["org_id", "day"], name="uniqueclickers_org_day"),
            models.Index(fields=["campaign", "day"], name="uniqueclickers_campaign_day"),
        ]

    def __str__(self) -> str:
        return f"{self.clickers} clickers on {self.day} (before: {self.previous_day or 'never'})"


class HourlyClicks(models.Model):
    """A campaign's clicks in an hour of the org's clock on a kind of device (linktrack.counts.devices), with the
    recipients who clicked on such a device for the first time in it and the hour's first click."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()  # the hour's start on the org's clock
    device = models.CharField(max_length=8)
    clicks = models.IntegerField()
    new_recipients = models.IntegerField()
    first_click_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["campaign", "hour"], name="hourlyclicks_campaign_hour")]

    def __str__(self) -> str:
        return f"{self.clicks} clicks on {self.device} at {self.hour:%Y-%m-%d %H:%M}"


class ClickerDay(models.Model):
    """What the flush needs to know to count a clicker once: the days each clicker clicked each link. `clicker` is
    "m<message id>" for a recipient, "v<hash of ip and agent>" for a visitor without one."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    clicker = models.CharField(max_length=40)
    message_id = models.BigIntegerField(null=True, blank=True)  # for segments and follow-up lists
    short_link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clicker", "short_link", "day"], name="clickerday_unique_clicker_link_day")
        ]
        indexes = [
            models.Index(fields=["message_id", "day"], name="clickerday_message_day"),
            models.Index(fields=["campaign", "message_id"], name="clickerday_campaign_message"),
        ]

    def __str__(self) -> str:
        return f"{self.clicker} clicked link {self.short_link_id} on {self.day}"


class ClickerDevice(models.Model):
    """The kinds of device each recipient clicked on (recipients per device)."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    clicker = models.CharField(max_length=40)
    device = models.CharField(max_length=8)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clicker", "device"], name="clickerdevice_unique")]

    def __str__(self) -> str:
        return f"{self.clicker} clicked on {self.device}"
