"""Audience pages: customer lists (create, rename, delete, take customers off, make one from a campaign's clicks)
and segments (filters on customer attributes and behaviour, with a live count)."""

from collections.abc import Mapping

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.access import (
    customers_for_user,
    get_campaign_for_user,
    get_list_for_user,
    get_segment_for_user,
)
from campaigns.audience import (
    ANY_CHANNEL,
    CLICKED,
    SEGMENT_CHANNELS,
    SEGMENT_OPS,
    SENT,
    UNDELIVERED,
    audience_campaigns,
    customer_list_create,
    customer_list_delete,
    customer_list_remove,
    customer_list_rename,
    customers_matching,
    segment_conditions_clean,
    segment_delete,
    segment_save,
)
from campaigns.customer_forms import (
    MAX_SEGMENT_CONDITIONS,
    CustomerListForm,
    CustomerListRenameForm,
    SegmentForm,
)
from campaigns.customer_views import customer_search, page_of
from campaigns.follow_up import FOLLOW_UPS, follow_up_list_create, follow_up_list_name
from campaigns.forms import add_service_errors
from campaigns.models import Customer, CustomerList, Segment
from campaigns.selectors import orgs_for_user

# What the form's "what they did" rows offer: each choice is a behaviour of the segment's conditions, done or not.
BEHAVIOUR_CHOICES = {
    "clicked": (CLICKED, False, "clicked a link in the last … days"),
    "not_clicked": (CLICKED, True, "has not clicked a link in the last … days"),
    "sent": (SENT, False, "was sent a message in the last … days"),
    "not_sent": (SENT, True, "was not sent a message in the last … days"),
    "undelivered": (UNDELIVERED, False, "whose last … messages all failed to deliver"),
    "not_undelivered": (UNDELIVERED, True, "whose last … messages did not all fail to deliver"),
}
BEHAVIOUR_ROWS = 3


def segment_conditions_from(data: Mapping) -> list[dict]:
    """The conditions a segment form (or its live count) was filled in with: the attribute rows, then the "what they
    did" rows; empty rows are left out, everything else is checked by segment_conditions_clean."""
    conditions = []
    for n in range(1, MAX_SEGMENT_CONDITIONS + 1):
        attribute = (data.get(f"attribute_{n}") or "").strip()
        value = (data.get(f"value_{n}") or "").strip()
        if attribute or value:
            conditions.append({"attribute": attribute, "op": data.get(f"op_{n}") or "eq", "value": value})
    for n in range(1, MAX_SEGMENT_CONDITIONS + 1):
        choice = data.get(f"behaviour_{n}") or ""
        if choice not in BEHAVIOUR_CHOICES:
            continue
        behaviour, negate, _ = BEHAVIOUR_CHOICES[choice]
        amount = (data.get(f"number_{n}") or "").strip()
        conditions.append(
            {
                "behaviour": behaviour,
                "messages" if behaviour == UNDELIVERED else "days": amount,
                "channel": data.get(f"channel_{n}") or ANY_CHANNEL,
                "negate": negate,
            }
        )
    return conditions


class SegmentConditionsForm(SegmentForm):
    """The segment form with rows for what customers did ("clicked a link in the last 30 days") beside the
    attribute rows; a stored segment fills in both kinds."""

    def __init__(self, *args, orgs, segment: Segment | None = None, **kwargs):
        stored = segment.conditions if segment is not None and isinstance(segment.conditions, list) else []
        done = [c for c in stored if isinstance(c, dict) and "behaviour" in c][:MAX_SEGMENT_CONDITIONS]
        if segment is not None:
            kwargs.setdefault("initial", _segment_initial(segment, stored, done))
        super().__init__(*args, orgs=orgs, segment=segment, **kwargs)
        self.behaviour_rows = min(max(BEHAVIOUR_ROWS, len(done) + 1), MAX_SEGMENT_CONDITIONS)
        for n in range(1, self.behaviour_rows + 1):
            self.fields[f"behaviour_{n}"] = forms.ChoiceField(
                choices=[("", "—"), *((key, words) for key, (_, _, words) in BEHAVIOUR_CHOICES.items())],
                required=False,
                label=f"What they did {n}",
            )
            self.fields[f"number_{n}"] = forms.CharField(
                max_length=4,
                required=False,
                label=f"What they did {n}: days or messages",
                widget=forms.NumberInput(attrs={"min": 1}),
            )
            self.fields[f"channel_{n}"] = forms.ChoiceField(
                choices=list(SEGMENT_CHANNELS.items()), required=False, label=f"What they did {n}: channel"
            )
            for kind in ("behaviour", "number", "channel"):
                field = self.fields[f"{kind}_{n}"]
                field.widget.attrs["aria-label"] = field.label

    def behaviour_condition_rows(self):
        return [
            (self[f"behaviour_{n}"], self[f"number_{n}"], self[f"channel_{n}"])
            for n in range(1, self.behaviour_rows + 1)
        ]

    def clean(self):
        # Not SegmentForm.clean: it reads the attribute rows alone, and a segment may have no attribute condition.
        cleaned = forms.Form.clean(self)
        try:
            cleaned["conditions"] = segment_conditions_clean(segment_conditions_from(cleaned))
        except ValidationError as error:
            for message in error.messages:
                self.add_error(None, message)
        return cleaned


def _segment_initial(segment: Segment, stored: list, done: list[dict]) -> dict:
    """A stored segment as the form's fields: attribute conditions in the attribute rows, behaviour in the others."""
    initial = {"org": segment.org_id, "name": segment.name}
    attributes = [c for c in stored if not (isinstance(c, dict) and "behaviour" in c)][:MAX_SEGMENT_CONDITIONS]
    for n, condition in enumerate(attributes, start=1):
        if isinstance(condition, dict):
            value = condition.get("value", "")
            initial[f"attribute_{n}"] = condition.get("attribute", "")
            initial[f"op_{n}"] = condition.get("op", "eq")
            initial[f"value_{n}"] = ", ".join(str(v) for v in value) if isinstance(value, list) else value
    for n, condition in enumerate(done, start=1):
        chosen = (condition.get("behaviour"), bool(condition.get("negate")))
        initial[f"behaviour_{n}"] = next(
            (k for k, (*done_as, _) in BEHAVIOUR_CHOICES.items() if done_as == list(chosen)), ""
        )
        initial[f"number_{n}"] = condition.get("messages" if condition.get("behaviour") == UNDELIVERED else "days")
        initial[f"channel_{n}"] = condition.get("channel", ANY_CHANNEL)
    return initial


# --- Lists -------------------------------------------------------------------------------------------------------


@login_required
def list_index(request):
    lists = (
        CustomerList.objects.filter(org__in=orgs_for_user(request.user))
        .select_related("org")
        .annotate(size=Count("customers"))
        .order_by("org__name", "name")
    )
    return render(request, "campaigns/list_index.html", {"lists": lists})


@login_required
def list_new(request):
    form = CustomerListForm(request.POST or None, orgs=orgs_for_user(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            customer_list = customer_list_create(org=form.cleaned_data["org"], name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"List “{customer_list.name}” created. Add customers from the customer pages.")
            return redirect("campaigns:list-detail", pk=customer_list.pk)
    return render(request, "campaigns/list_new.html", {"form": form})


@login_required
def list_detail(request, pk: int):
    customer_list = get_list_for_user(request.user, pk)
    query = request.GET.get("q", "")
    page = page_of(request, customer_search(customer_list.customers.all(), query).order_by("name", "pk"))
    return render(
        request,
        "campaigns/list_detail.html",
        {"customer_list": customer_list, "page": page, "query": query, "removable": True},
    )


@login_required
def list_edit(request, pk: int):
    customer_list = get_list_for_user(request.user, pk)
    form = CustomerListRenameForm(request.POST or None, initial={"name": customer_list.name})
    if request.method == "POST" and form.is_valid():
        old_name = customer_list.name
        try:
            customer_list_rename(customer_list=customer_list, name=form.cleaned_data["name"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"List “{old_name}” is now called “{customer_list.name}”.")
            return redirect("campaigns:list-detail", pk=customer_list.pk)
    return render(request, "campaigns/list_edit.html", {"customer_list": customer_list, "form": form})


@login_required
def list_delete(request, pk: int):
    customer_list = get_list_for_user(request.user, pk)
    return _audience_delete(
        request,
        kind="list",
        audience=customer_list,
        delete=lambda: customer_list_delete(customer_list=customer_list),
        campaigns=audience_campaigns(customer_list=customer_list),
        size=customer_list.customers.count(),
    )


def _audience_delete(request, *, kind: str, audience, delete, campaigns, size: int | None = None):
    """Confirm, then delete a list or segment; the service refuses while an unfinished campaign uses it."""
    if request.method == "POST":
        try:
            finished = delete()
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(f"campaigns:{kind}-delete", pk=audience.pk)
        kept = f" {finished} finished campaign{'s' if finished != 1 else ''} keep their reports." if finished else ""
        messages.success(request, f"{kind.capitalize()} “{audience.name}” deleted; its customers stay.{kept}")
        return redirect(f"campaigns:{kind}-index")
    context = {
        "kind": kind,
        "audience": audience,
        "size": size,
        "campaigns": campaigns,
        "cancel_url": reverse(f"campaigns:{kind}-detail", args=[audience.pk]),
    }
    return render(request, "campaigns/audience_delete.html", context)


@login_required
@require_POST
def list_remove(request, pk: int):
    """Take one customer off the list (from the list page, or the customer's page with back=customer)."""
    customer_list = get_list_for_user(request.user, pk)
    customer_id = request.POST.get("customer", "")
    customer = get_object_or_404(
        customers_for_user(request.user).filter(org=customer_list.org_id),
        pk=int(customer_id) if customer_id.isdigit() else None,
    )
    if customer_list_remove(customer_list=customer_list, customer=customer):
        messages.success(request, f"{customer} removed from “{customer_list.name}”.")
    else:
        messages.info(request, f"{customer} was not on “{customer_list.name}”.")
    if request.POST.get("back") == "customer":
        return redirect("campaigns:customer-detail", pk=customer.pk)
    return redirect("campaigns:list-detail", pk=customer_list.pk)


# --- Segments ----------------------------------------------------------------------------------------------------


@login_required
def segment_index(request):
    segments = Segment.objects.filter(org__in=orgs_for_user(request.user)).select_related("org")
    return render(
        request,
        "campaigns/segment_index.html",
        {"segments": segments.order_by("org__name", "name"), "ops": SEGMENT_OPS},
    )


@login_required
def segment_new(request):
    orgs = orgs_for_user(request.user)
    form = SegmentConditionsForm(request.POST or None, orgs=orgs)
    count = None
    if request.method == "POST" and form.is_valid():
        org = form.cleaned_data["org"]
        if "preview" in request.POST:
            count = customers_matching(org=org, conditions=form.cleaned_data["conditions"]).count()
        elif not form.cleaned_data["name"].strip():
            form.add_error("name", "Give the segment a name.")
        else:
            try:
                segment = segment_save(
                    org=org, name=form.cleaned_data["name"], conditions=form.cleaned_data["conditions"]
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("campaigns:segment-detail", pk=segment.pk)
    return render(request, "campaigns/segment_new.html", {"form": form, "count": count})


@login_required
def segment_edit(request, pk: int):
    """Change a segment's name and conditions, with the same live count as when it was made."""
    segment = get_segment_for_user(request.user, pk)
    form = SegmentConditionsForm(request.POST or None, orgs=orgs_for_user(request.user), segment=segment)
    count = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            count = customers_matching(org=segment.org, conditions=form.cleaned_data["conditions"]).count()
        else:
            try:
                segment_save(
                    org=segment.org,
                    name=form.cleaned_data["name"],
                    conditions=form.cleaned_data["conditions"],
                    segment=segment,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Segment “{segment.name}” saved.")
                return redirect("campaigns:segment-detail", pk=segment.pk)
    elif request.method != "POST":
        try:
            count = customers_matching(org=segment.org, conditions=segment.conditions).count()
        except ValidationError:
            count = None
    return render(
        request,
        "campaigns/segment_new.html",
        {"form": form, "count": count, "segment": segment, "campaigns": audience_campaigns(segment=segment)},
    )


@login_required
def segment_delete_page(request, pk: int):
    segment = get_segment_for_user(request.user, pk)
    return _audience_delete(
        request,
        kind="segment",
        audience=segment,
        delete=lambda: segment_delete(segment=segment),
        campaigns=audience_campaigns(segment=segment),
    )


@login_required
@require_GET
def segment_count(request):
    """The live count on the segment form: how many of the org's customers the conditions select."""
    org_id = request.GET.get("org", "")
    org = orgs_for_user(request.user).filter(pk=int(org_id)).first() if org_id.isdigit() else None
    if org is None:
        raise Http404("No such organisation.")
    try:
        conditions = segment_conditions_clean(segment_conditions_from(request.GET))
    except ValidationError as error:
        return JsonResponse({"count": None, "errors": error.messages})
    return JsonResponse({"count": customers_matching(org=org, conditions=conditions).count(), "errors": []})


@login_required
def segment_detail(request, pk: int):
    segment = get_segment_for_user(request.user, pk)
    try:
        customers = customers_matching(org=segment.org, conditions=segment.conditions).order_by("name", "pk")
        problems = []
    except ValidationError as error:
        customers, problems = Customer.objects.none(), error.messages
    return render(
        request,
        "campaigns/segment_detail.html",
        {"segment": segment, "page": page_of(request, customers), "problems": problems, "ops": SEGMENT_OPS},
    )


@login_required
@require_POST
def campaign_follow_up_list(request, pk: int):
    """A list of a campaign's clickers (or of those who got it and did not click), to target a follow-up."""
    campaign = get_campaign_for_user(request.user, pk)
    who = request.POST.get("who", "")
    if who not in FOLLOW_UPS:
        raise Http404("No such follow-up.")
    name = request.POST.get("name", "").strip() or follow_up_list_name(campaign=campaign, who=who)
    try:
        customer_list, added = follow_up_list_create(campaign=campaign, who=who, name=name)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
        return redirect("campaigns:detail", pk=campaign.pk)
    messages.success(
        request, f"List “{customer_list.name}” made with {added} customer{'s' if added != 1 else ''}: choose it as "
        "the audience of a follow-up campaign."
    )  # fmt: skip
    return redirect("campaigns:list-detail", pk=customer_list.pk)
