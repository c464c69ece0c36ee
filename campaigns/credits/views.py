"""The Credits page: an org's balance, what it spent (per day and by campaign, tests on their own line), the top-ups
support staff made, what the campaigns of the next 7 days need, and the low-credit warning (campaigns.credits.statement,
campaigns.credits.alerts).

A campaign manager reads the page of each org they belong to, support staff that of every org (the org chooser);
another org (and a change posted to it) is a 404, exactly like an org that does not exist. Who at support made a
top-up is shown to support staff only: customers read "linktrack support".
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.base import clock
from campaigns.base.access import get_org_for_user
from campaigns.base.forms import add_service_errors
from campaigns.base.org_chooser import org_choice, user_orgs
from campaigns.credits import alerts as credit_alerts
from campaigns.credits import statement as credits
from campaigns.models import Org

_LEVEL_IN_WORDS = credit_alerts.LEVEL_IN_WORDS


class CreditAlertForm(forms.Form):
    credits_alert_below = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=credit_alerts.LEVEL_MAX,
        label="Warn when the credits fall below",
        help_text="The organisation's campaign managers get one email when the balance falls below this, and the "
        "campaign list shows a warning while it is. Empty: no warning.",
        error_messages={"invalid": _LEVEL_IN_WORDS, "min_value": _LEVEL_IN_WORDS, "max_value": _LEVEL_IN_WORDS},
        widget=forms.NumberInput(attrs={"class": "credits-number"}),
    )


def _page(request, *, org: Org | None, orgs: list[Org], form: CreditAlertForm | None = None, status: int = 200):
    context = {"org": org, "orgs": orgs}
    if org is not None:
        moment = clock.now()
        outlook = credits.credit_outlook(org=org, moment=moment)
        context |= {
            "form": form or CreditAlertForm(initial={"credits_alert_below": org.credits_alert_below}),
            "usage": credits.credit_usage(org=org, moment=moment),
            "top_ups": credits.credit_top_ups(org=org),
            "outlook": outlook,
            "shortfall": credits.shortfall_in_words(org=org, outlook=outlook, now=moment),
            "upcoming": [
                (item, credits.when_in_words(item.sends[0], org=org, now=moment)) for item in outlook.upcoming
            ],
            "cannot_estimate": [
                (item, credits.when_in_words(item.sends[0], org=org, now=moment)) for item in outlook.cannot_estimate
            ],
            "usage_days": credits.USAGE_DAYS,
            "top_ups_listed": credits.TOP_UPS_LISTED,
            "coming_up_days": credits.COMING_UP_DAYS,
            "tests_line": credits.TESTS_LINE,
            "credits_per_email": credits.CREDITS_PER_EMAIL,
        }
    return render(request, "campaigns/credits.html", context, status=status)


@login_required
@require_GET
def credits_page(request):
    org, orgs = org_choice(request)
    return _page(request, org=org, orgs=orgs)


@login_required
@require_POST
def credits_alert_change(request, org_pk: int):
    org = get_org_for_user(request.user, org_pk)
    form = CreditAlertForm(request.POST)
    if form.is_valid():
        try:
            org = credit_alerts.credits_alert_set(org=org, below=form.cleaned_data["credits_alert_below"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if org.credits_alert_below is None:
                done = "No warning: nobody is emailed when the credits run low."
            else:
                done = (
                    f"Its campaign managers are emailed once when the credits fall below {org.credits_alert_below:,}."
                )
                if org.credits_below_alert and org.credits_alert_sent_at is None:
                    done += f" They are below it now ({org.credits:,}): the email goes out within a few minutes."
            messages.success(request, f"Credit warning of {org.name} saved. {done}")
            return redirect(f"{reverse('campaigns:credits')}?org={org.pk}")
    orgs = user_orgs(request.user)
    return _page(request, org=org, orgs=orgs, form=form, status=400)
