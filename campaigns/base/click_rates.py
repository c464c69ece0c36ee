"""A campaign's click rate: unique clickers per delivered message, or per message sent where delivery is never
reported (SMS from a promotional, numeric sender: Template.delivery_is_reported), since there nothing counts as
delivered and a rate per delivered message would read 0.0% however many people clicked."""

from dataclasses import dataclass

from campaigns.models import Channel, SenderId, Template

PER_DELIVERED, PER_SENT = "delivered", "sent"
# Why a rate is per message sent, on every page that shows one.
PER_SENT_WHY = (
    "Operators report no delivery for SMS from promotional (numeric) senders, so nothing counts as delivered: the "
    "click rate of such a campaign is of the messages sent (handed to the gateway), not of those delivered."
)


def no_delivery_report_warning(template: Template) -> str:
    """What the preview and the launch confirmation say before a launch whose delivery will never be reported;
    "" for any other template."""
    if template.delivery_is_reported:
        return ""
    return (
        f"{template.sender.header} is a promotional (numeric) sender: operators report no delivery for its SMS, so "
        "this campaign's messages will end as “Unknown: operator shares no delivery details”, none as delivered, "
        "and its click rate will be of the messages sent."
    )


@dataclass(frozen=True)
class ClickRate:
    percent: float | None  # None: nothing delivered (per sent: nothing sent) yet
    per: str  # PER_DELIVERED or PER_SENT

    @property
    def per_sent(self) -> bool:
        return self.per == PER_SENT

    def __str__(self) -> str:
        return "–" if self.percent is None else f"{self.percent}%"


def click_rate(*, unique_clicks: int, delivered: int, sent: int, delivery_reported: bool) -> ClickRate:
    """Unique clickers per delivered message in percent; per message sent (handed to the gateway) when
    `delivery_reported` is false."""
    per, base = (PER_DELIVERED, delivered) if delivery_reported else (PER_SENT, sent)
    return ClickRate(percent=round(100 * unique_clicks / base, 1) if base else None, per=per)


def delivery_reported(*, channel: str, sender_category: str | None) -> bool:
    """Template.delivery_is_reported from a template's channel and its sender's category (as read with values())."""
    return not (channel == Channel.SMS and sender_category == SenderId.Category.PROMOTIONAL)
