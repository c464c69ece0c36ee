"""Search and filters of the campaign list: a name, a status, a channel and a type, all of which must hold."""

from django import forms
from django.db.models import QuerySet

from campaigns.models import Campaign, Channel

# "Active" on the list: launched and not finished. A scheduled campaign waits for its time, a recurring one for its
# next run, a paused one for Resume; a draft was never launched, and a campaign handed to the gateway or cancelled
# is finished. The value differs from the status "active", which is a recurring campaign's state only.
IN_PROGRESS = "in_progress"
IN_PROGRESS_STATUSES = (
    Campaign.Status.SCHEDULED,
    Campaign.Status.ACTIVE,
    Campaign.Status.DISPATCHING,
    Campaign.Status.PAUSED,
)


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
        [(IN_PROGRESS, "Active (launched, not finished)"), *Campaign.Status.choices],
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
