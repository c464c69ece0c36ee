"""Audience pages: customer lists (create, rename, delete, take customers off, make one from a campaign's clicks)
and segments (filters on customer attributes and behaviour, with a live count)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.base.access import (
    customers_for_user,
    get_campaign_for_user,
    get_list_for_user,
    get_segment_for_user,
    orgs_for_user,
)
from campaigns.base.forms import add_service_errors
from campaigns.customers.audience import (
    audience_campaigns,
    customer_list_create,
    customer_list_delete,
    customer_list_remove,
    customer_list_rename,
    segment_delete,
)
from campaigns.customers.follow_up import FOLLOW_UPS, follow_up_list_create, follow_up_list_name
from campaigns.customers.forms import CustomerListForm, CustomerListRenameForm, SegmentForm, segment_conditions_from
from campaigns.customers.segments import SEGMENT_OPS, customers_matching, segment_conditions_clean, segment_save
from campaigns.customers.views import customer_search, page_of
from campaigns.models import Customer, CustomerList, Segment

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
    form = SegmentForm(request.POST or None, orgs=orgs)
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
    form = SegmentForm(request.POST or None, orgs=orgs_for_user(request.user), segment=segment)
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
