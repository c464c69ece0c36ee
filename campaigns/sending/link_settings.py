"""A campaign's link settings: the UTM parameters every tracked link adds to its destination, and when its links
stop working (and where they lead after that).

Both may change after launch: UTM parameters are added at redirect time, and expiry is read from the link, so a
change reaches every link already sent, including those of a recurring campaign's runs.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from campaigns.base.history import campaign_event_record, in_org_time
from campaigns.models import Campaign, CampaignEvent, User
from linktrack.models import ShortLink
from linktrack.selectors import UTM_NAMES, redirect_location
from linktrack.services import campaign_links_forget

UTM_MAX_LENGTH = 100


def utm_params_clean(values: dict[str, str]) -> dict[str, str]:
    """The non-empty UTM parameters, in their usual order; anything else is refused in words."""
    unknown = sorted(set(values) - set(UTM_NAMES))
    if unknown:
        raise ValidationError(f"Only {', '.join(UTM_NAMES)} can be set, not {', '.join(unknown)}.")
    cleaned = {}
    for name in UTM_NAMES:
        value = (values.get(name) or "").strip()
        if len(value) > UTM_MAX_LENGTH:
            raise ValidationError({name: f"At most {UTM_MAX_LENGTH} characters."})
        if value:
            cleaned[name] = value
    return cleaned


@transaction.atomic
def campaign_link_settings_save(
    *,
    campaign: Campaign,
    user: User,
    utm_params: dict[str, str],
    links_expire_at: datetime | None,
    expired_link_url: str = "",
) -> Campaign:
    """Save the UTM parameters and expiry of a campaign and apply them to the links it (or its runs) already sent."""
    utm_params = utm_params_clean(utm_params)
    expired_link_url = expired_link_url.strip()
    if expired_link_url and redirect_location(expired_link_url, None) is None:
        raise ValidationError({"expired_link_url": "Give an address that starts with http:// or https://."})
    if expired_link_url and links_expire_at is None:
        raise ValidationError({"expired_link_url": "Links that never expire need no address for after expiry."})
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("org").get(pk=campaign.pk)
    changes = _changes_in_words(
        campaign, utm_params=utm_params, links_expire_at=links_expire_at, expired_link_url=expired_link_url
    )
    campaign.utm_params, campaign.links_expire_at, campaign.expired_link_url = (
        utm_params,
        links_expire_at,
        expired_link_url,
    )
    campaign.full_clean()
    campaign.save(update_fields=["utm_params", "links_expire_at", "expired_link_url", "updated_at"])
    sent_by = [campaign.pk, *campaign.runs.values_list("pk", flat=True)]
    campaign.runs.update(utm_params=utm_params, links_expire_at=links_expire_at, expired_link_url=expired_link_url)
    ShortLink.objects.filter(campaign_id__in=sent_by).update(expires_at=links_expire_at)
    if changes:
        campaign_event_record(
            campaign=campaign, kind=CampaignEvent.Kind.LINK_SETTINGS_CHANGED, user=user, detail="; ".join(changes)
        )

    def forget() -> None:  # the redirect caches each link with its destination and expiry
        for campaign_id in sent_by:
            campaign_links_forget(campaign_id=campaign_id)

    transaction.on_commit(forget)
    return campaign


def _changes_in_words(
    campaign: Campaign, *, utm_params: dict[str, str], links_expire_at: datetime | None, expired_link_url: str
) -> list[str]:
    """What the new settings change, as the campaign's history says it (nothing: an empty list)."""
    changes = []
    if utm_params != campaign.utm_params:
        words = ", ".join(f"{name}={value}" for name, value in utm_params.items())
        changes.append(f"UTM parameters {words}" if words else "no UTM parameters")
    if (links_expire_at, expired_link_url) != (campaign.links_expire_at, campaign.expired_link_url):
        if links_expire_at is None:
            changes.append("links never expire")
        else:
            after = f", then lead to {expired_link_url}" if expired_link_url else ""
            changes.append(f"links work until {in_org_time(links_expire_at, campaign)}{after}")
    return changes


def example_destination(*, campaign: Campaign) -> tuple[str, str] | None:
    """One of the campaign's links and where a click on it goes with the campaign's UTM parameters, if it has one."""
    links = [value["value"] for value in campaign.slot_values if value.get("source") == "url" and value.get("value")]
    if not links:
        return None
    destination = links[0] if "://" in links[0] else f"https://{links[0]}"
    return links[0], redirect_location(destination, campaign.utm_params) or links[0]
