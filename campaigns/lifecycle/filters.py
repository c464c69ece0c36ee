"""Search and filters of the campaign list: a name, a status, a channel and a type, all of which must hold."""

from django import forms
from django.db.models import QuerySet

from campaigns.models import Campaign, Channel

# "Active" on the list: launched and not finished. A campaign waiting for approval waits for a second person, a
# scheduled one for its time, a recurring one for its next run, a paused one for Resume; a draft was never launched,
# and a campaign handed to the gateway or cancelled is finished. The value differs from the status "active", which is
# a recurring campaign's state only.
IN_PROGRESS = "in_progress"
IN_PROGRESS_STATUSES = tuple(status for status in Campaign.UNFINISHED_STATUSES if status != Campaign.Status.DRAFT)


# The statuses in the order a campaign goes through them: Status lists a campaign waiting for approval last (see
# there), the list's filter right after a draft.
_FIRST = (Campaign.Status.DRAFT, Campaign.Status.AWAITING_APPROVAL)
_STATUS_CHOICES = [
    *(choice for status in _FIRST for choice in Campaign.Status.choices if choice[0] == status),
    *(choice for choice in Campaign.Status.choices if choice[0] not in _FIRST),
]


def _choice(label: str, choices: list[tuple[str, str]], *, anything: str, what: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", anything), *choices],
        error_messages={"invalid_choice": f"“%(value)s” is not {what}: choose one from the list."},
    )


class CampaignFilterForm(forms.Form):
    """The campaign list's filters, read from the query string. An empty field filters nothing."""

    q = forms.CharField(
        label="Campaign name",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search by name"}),
    )
    status = _choice(
        "Status",
        [(IN_PROGRESS, "Active (launched, not finished)"), *_STATUS_CHOICES],
        anything="Any status",
        what="a campaign status",
    )
    channel = _choice("Channel", Channel.choices, anything="SMS and email", what="a channel")
    kind = _choice("Type", Campaign.Kind.choices, anything="Any type", what="a campaign type")

    def applicable_filters(self) -> dict:
        """The valid filters. An invalid one is left out and shows its error beside its field, whose list then
        reads "any", so the page lists exactly what the form shows."""
        self.is_valid()
        return self.cleaned_data

    @property
    def is_filtering(self) -> bool:
        return any(self.applicable_filters().values())


def campaigns_matching(*, campaigns: QuerySet[Campaign], filters: dict) -> QuerySet[Campaign]:
    """The campaigns that match every filter given (CampaignFilterForm's cleaned data); no filter matches all."""
    if filters.get("q"):
        campaigns = campaigns.filter(name__icontains=filters["q"])
    if filters.get("status") == IN_PROGRESS:
        campaigns = campaigns.filter(status__in=IN_PROGRESS_STATUSES)
    elif filters.get("status"):
        campaigns = campaigns.filter(status=filters["status"])
    if filters.get("channel"):
        campaigns = campaigns.filter(template__channel=filters["channel"])
    if filters.get("kind"):
        campaigns = campaigns.filter(kind=filters["kind"])
    return campaigns
