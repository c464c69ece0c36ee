"""Render a campaign's messages for dispatch: fill each customer's slots (campaigns.dlt.rendering) and mint the
tracked short links that replace the links in them, one per destination."""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.conf import settings

from campaigns.dlt.link_finding import LinkError
from campaigns.dlt.parsing import TemplateError, parse_template
from campaigns.dlt.rendering import (
    LINK_REFUSED_REASON,
    RenderRefused,
    SmsCampaignRendering,
    absolute_url,
    email_destinations,
    fill_email,
    rewrite_email,
    slot_value,
)
from campaigns.dlt.sms_length import sms_length
from campaigns.models import Campaign, Channel
from linktrack.services import pair_encoder, short_link_base, short_links_for

if TYPE_CHECKING:
    from delivery.models import Message


class MessageRenderer:
    """Renders messages of one campaign; remembers the short link of each destination it has minted."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        self.template = parse_template(campaign.template.body)
        self.tracking = campaign.org.sms_link_tracking
        self.short_link_ids: dict[str, int] = {}
        # Read once per campaign rather than once per link: they are the same for every message.
        self.max_length = settings.DLT_VARIABLE_MAX_LENGTH
        self.short_link_base = short_link_base(org=campaign.org)
        self.encoder = pair_encoder()
        self._encoders: dict[str, Callable[[int], str]] = {}  # the code encoder of each minted link

    def render(self, messages: list["Message"]) -> None:
        """Sets body (and subject, html_body for email) and segments, or marks the message not sent.

        Dispatch passes its own lighter records of messages: anything with `pk`, `customer`, the content fields and
        `mark_not_sent` will do.
        """
        if self.campaign.template.channel == Channel.EMAIL:
            values_by_message = {m.pk: [slot_value(s, m.customer) for s in self.campaign.slot_values] for m in messages}
            self._render_email(messages, values_by_message)
            return
        sms = SmsCampaignRendering(
            parsed=self.template,
            slot_values=self.campaign.slot_values,
            tracking=self.tracking,
            max_length=self.max_length,
        )
        if self.tracking:
            self._mint(sms.destinations([m.customer for m in messages]))
        for message in messages:
            try:
                message.body = sms.render(message.customer, self._short_url_for(message.pk))
            except RenderRefused as refused:
                message.mark_not_sent(refused.reason_code)
                continue
            message.segments = sms_length(message.body).segments

    def _render_email(self, messages: list["Message"], values_by_message: dict) -> None:
        template = self.campaign.template
        filled = {}
        for message in messages:
            try:
                filled[message.pk] = fill_email(
                    subject=template.subject,
                    body=template.body,
                    html_body=template.html_body,
                    values=values_by_message[message.pk],
                )
                destinations = email_destinations(filled[message.pk]) if self.tracking else set()
            except (LinkError, TemplateError):
                filled.pop(message.pk, None)
                message.mark_not_sent(LINK_REFUSED_REASON)
                continue
            self.short_link_ids.update(dict.fromkeys(destinations - self.short_link_ids.keys(), 0))
        self._mint([d for d, link_id in self.short_link_ids.items() if not link_id])
        org = self.campaign.org
        for message in messages:
            if message.pk not in filled:
                continue
            short = self._short_url_for(message.pk)
            try:
                parts = rewrite_email(
                    filled[message.pk], tracking=self.tracking, short_url_for=lambda d, s=short: absolute_url(org, s(d))
                )
            except LinkError:
                message.mark_not_sent(LINK_REFUSED_REASON)
                continue
            message.subject, message.body, message.html_body = parts.subject, parts.text, parts.html
            message.segments = 1

    def _short_url_for(self, message_id: int) -> Callable[[str], str]:
        """linktrack's short_url for this message, with the org's link base looked up once and each link's encoder
        made once."""
        base, encoders = self.short_link_base, self._encoders

        def short_url_for(destination: str) -> str:
            return base + encoders[destination](message_id)

        return short_url_for

    def _mint(self, destinations: Iterable[str]) -> None:
        new = {d for d in destinations if not self.short_link_ids.get(d)}
        if new:
            self.short_link_ids.update(short_links_for(campaign=self.campaign, destinations=new))
        for destination in new:
            self._encoders[destination] = self.encoder.encoder_for(self.short_link_ids[destination])
