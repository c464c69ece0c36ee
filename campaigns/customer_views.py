"""Customer pages: browse and search customers, import them, lists, segments, unsubscribes, the NDNC register."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.audience import (
    SEGMENT_OPS,
    audience_campaigns,
    customer_list_add_matching,
    customer_list_create,
    customer_list_delete,
    customer_list_remove,
    customer_list_rename,
    customer_lists_add,
    customer_resubscribe,
    customer_unsubscribe,
    customers_matching,
    segment_conditions_clean,
    segment_delete,
    segment_save,
)
from campaigns.customer_forms import (
    MAX_SEGMENT_CONDITIONS,
    CustomerBulkAddForm,
    CustomerImportForm,
    CustomerListForm,
    CustomerListRenameForm,
    CustomerListsAddForm,
    NdncImportForm,
    SegmentForm,
    SubscriptionForm,
)
from campaigns.customer_import import check_customer_file
from campaigns.import_tasks import customers_import_task, ndnc_import_task
from campaigns.imports import (
    ImportFileError,
    MobileError,
    import_job_create,
    import_job_get,
    import_job_path,
    import_job_save,
    normalise_mobile,
)
from campaigns.models import Customer, CustomerList, NdncEntry, Org, Segment, Unsubscribe
from campaigns.ndnc import check_ndnc_file
from campaigns.selectors import orgs_for_user

PAGE_SIZE = 50


# --- Access helpers: another org's object is a 404 ------------------------------------------------------------


def _customers_for_user(user) -> QuerySet[Customer]:
    return Customer.objects.filter(org__in=orgs_for_user(user))


def _get_customer_for_user(user, pk: int) -> Customer:
    return get_object_or_404(_customers_for_user(user).select_related("org"), pk=pk)


def _get_list_for_user(user, pk: int) -> CustomerList:
    return get_object_or_404(CustomerList.objects.filter(org__in=orgs_for_user(user)).select_related("org"), pk=pk)


def _refuse_other_orgs_lists(user, list_ids: list[str]) -> None:
    """A posted list id of another org is a 404, like its page."""
    ids = [int(list_id) for list_id in list_ids if list_id.isdigit()]
    if CustomerList.objects.filter(pk__in=ids).exclude(org__in=orgs_for_user(user)).exists():
        raise Http404("No such list.")


def _get_segment_for_user(user, pk: int) -> Segment:
    return get_object_or_404(Segment.objects.filter(org__in=orgs_for_user(user)).select_related("org"), pk=pk)


def _get_job_for_user(user, job_id: str) -> dict:
    job = import_job_get(job_id)
    if job is None or not orgs_for_user(user).filter(pk=job["org_id"]).exists():
        raise Http404("No such import.")
    return job


def _chosen_org(request) -> Org | None:
    """The org picked in the page's filter (?org=), if it is one of the user's."""
    org_id = request.GET.get("org", "")
    if org_id.isdigit():
        return orgs_for_user(request.user).filter(pk=int(org_id)).first()
    return None


def _search(customers: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    query = query.strip()
    if not query:
        return customers
    matches = Q(name__icontains=query) | Q(email__icontains=query) | Q(external_id__iexact=query)
    try:
        matches |= Q(mobile=normalise_mobile(query))
    except MobileError:
        if any(character.isdigit() for character in query):
            matches |= Q(mobile__contains=query.replace(" ", ""))
    return customers.filter(matches)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _add_errors(form, error: ValidationError) -> None:
    """A service's refusal next to the field it names, else above the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        for message in error.messages:
            form.add_error(None, message)


# --- Customers ---------------------------------------------------------------------------------------------------


@login_required
def customer_list(request):
    orgs = orgs_for_user(request.user).order_by("name")
    org = _chosen_org(request)
    customers = _customers_for_user(request.user).select_related("org")
    if org:
        customers = customers.filter(org=org)
    query = request.GET.get("q", "")
    page = _page(request, _search(customers, query).order_by("name", "pk"))
    bulk_add = CustomerBulkAddForm(
        orgs=orgs.filter(pk=org.pk) if org else orgs, initial={"q": query, "org": org.pk if org else None}
    )
    return render(
        request,
        "campaigns/customer_list.html",
        {
            "page": page,
            "query": query,
            "orgs": orgs,
            "org": org,
            "many_orgs": len(orgs) > 1,
            "bulk_add": bulk_add if bulk_add.fields["customer_list"].queryset.exists() else None,
        },
    )


@login_required
@require_POST
def customer_bulk_add(request):
    """Add every customer the customer page's search finds (within the list's org) to one list."""
    _refuse_other_orgs_lists(request.user, request.POST.getlist("customer_list"))
    form = CustomerBulkAddForm(request.POST, orgs=orgs_for_user(request.user))
    back = reverse("campaigns:customer-list")
    if not form.is_valid():
        messages.error(request, " ".join(message for problems in form.errors.values() for message in problems))
        return redirect(back)
    customer_list, query, org = (form.cleaned_data[name] for name in ("customer_list", "q", "org"))
    customers = _customers_for_user(request.user)
    if org:
        customers = customers.filter(org=org)
    added = customer_list_add_matching(customer_list=customer_list, customers=_search(customers, query))
    found = f"matching “{query.strip()}”" if query.strip() else "of the search"
    messages.success(
        request,
        f"{added:,} customer{'s' if added != 1 else ''} {found} added to “{customer_list.name}” "
        f"(customers already on it, or of another organisation, were left as they were).",
    )
    return redirect("campaigns:list-detail", pk=customer_list.pk)


@login_required
def customer_detail(request, pk: int):
    customer = _get_customer_for_user(request.user, pk)
    return render(
        request,
        "campaigns/customer_detail.html",
        {
            "customer": customer,
            "coupons": customer.coupons.order_by("expires_on"),
            "lists": customer.lists.order_by("name"),
            "lists_form": CustomerListsAddForm(customer=customer),
            "unsubscribes": customer.unsubscribes.order_by("-created_at"),
            "channels": [
                ("sms", "SMS", customer.sms_subscribed),
                ("email", "Email", customer.email_subscribed),
            ],
            "on_ndnc": customer.mobile
            and NdncEntry.objects.filter(org=customer.org_id, mobile=customer.mobile).first(),
        },
    )


@login_required
@require_POST
def customer_subscription(request, pk: int):
    customer = _get_customer_for_user(request.user, pk)
    form = SubscriptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a channel and whether to unsubscribe or subscribe again.")
        return redirect("campaigns:customer-detail", pk=customer.pk)
    channel, label = form.cleaned_data["channel"], dict(SubscriptionForm.base_fields["channel"].choices)
    if form.cleaned_data["action"] == "unsubscribe":
        changed = customer_unsubscribe(
            customer=customer,
            channel=channel,
            source=Unsubscribe.Source.MANUAL,
            note=form.cleaned_data["note"],
            user=request.user,
        )
        text = "unsubscribed from" if changed else "was already unsubscribed from"
    else:
        changed = customer_resubscribe(customer=customer, channel=channel, user=request.user)
        text = "subscribed again to" if changed else "was already subscribed to"
    messages.success(request, f"{customer} {text} {label[channel]}.")
    return redirect("campaigns:customer-detail", pk=customer.pk)


@login_required
@require_POST
def customer_lists(request, pk: int):
    """Put the customer on the lists ticked on their page."""
    customer = _get_customer_for_user(request.user, pk)
    _refuse_other_orgs_lists(request.user, request.POST.getlist("customer_lists"))
    form = CustomerListsAddForm(request.POST, customer=customer)
    if form.is_valid():
        added = customer_lists_add(customer=customer, customer_lists=form.cleaned_data["customer_lists"])
        names = ", ".join(f"“{customer_list.name}”" for customer_list in added)
        messages.success(request, f"{customer} added to {names}." if added else f"{customer} was already on them.")
    else:
        messages.error(request, " ".join(message for problems in form.errors.values() for message in problems))
    return redirect("campaigns:customer-detail", pk=customer.pk)


# --- Imports -----------------------------------------------------------------------------------------------------


def _start_import(request, form, *, kind: str, check, task, options: dict):
    """Save the upload, refuse an unusable file next to the form, else queue the import and show its progress."""
    org = form.cleaned_data["org"]
    job_id = import_job_create(
        kind=kind, org_id=org.pk, user_id=request.user.pk, upload=form.cleaned_data["file"], options=options
    )
    try:
        total = check(import_job_path(job_id))
    except ImportFileError as error:
        import_job_path(job_id).unlink(missing_ok=True)
        form.add_error("file", str(error))
        return None
    job = import_job_get(job_id)
    job["options"]["total_rows"] = total
    job["report"]["total_rows"] = total
    import_job_save(job)
    transaction.on_commit(lambda: task.delay(job_id))
    return redirect("campaigns:import-progress", job_id=job_id)


@login_required
def customer_import(request):
    form = CustomerImportForm(request.POST or None, request.FILES or None, orgs=orgs_for_user(request.user))
    if request.method == "POST" and form.is_valid():
        response = _start_import(
            request,
            form,
            kind="customers",
            check=check_customer_file,
            task=customers_import_task,
            options={"list_name": form.cleaned_data["list_name"]},
        )
        if response:
            return response
    return render(request, "campaigns/customer_import.html", {"form": form})


@login_required
def import_progress(request, job_id: str):
    job = _get_job_for_user(request.user, job_id)
    report = job["report"]
    total = report["total_rows"] or 0
    percent = int(100 * report["processed"] / total) if total else (100 if job["status"] == "done" else 0)
    context = {
        "job": job,
        "report": report,
        "percent": min(percent, 100),
        "running": job["status"] in ("queued", "running"),
        "org": Org.objects.filter(pk=job["org_id"]).first(),
        "more_errors": report["error_count"] - len(report["errors"]),
    }
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"status": job["status"], "processed": report["processed"], "total": total, "percent": context["percent"]}
        )
    return render(request, "campaigns/customer_import_progress.html", context)


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
            _add_errors(form, error)
        else:
            messages.success(request, f"List “{customer_list.name}” created. Add customers from the customer pages.")
            return redirect("campaigns:list-detail", pk=customer_list.pk)
    return render(request, "campaigns/list_new.html", {"form": form})


@login_required
def list_detail(request, pk: int):
    customer_list = _get_list_for_user(request.user, pk)
    query = request.GET.get("q", "")
    page = _page(request, _search(customer_list.customers.all(), query).order_by("name", "pk"))
    return render(
        request,
        "campaigns/list_detail.html",
        {"customer_list": customer_list, "page": page, "query": query, "removable": True},
    )


@login_required
def list_edit(request, pk: int):
    customer_list = _get_list_for_user(request.user, pk)
    form = CustomerListRenameForm(request.POST or None, initial={"name": customer_list.name})
    if request.method == "POST" and form.is_valid():
        old_name = customer_list.name
        try:
            customer_list_rename(customer_list=customer_list, name=form.cleaned_data["name"])
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"List “{old_name}” is now called “{customer_list.name}”.")
            return redirect("campaigns:list-detail", pk=customer_list.pk)
    return render(request, "campaigns/list_edit.html", {"customer_list": customer_list, "form": form})


@login_required
def list_delete(request, pk: int):
    customer_list = _get_list_for_user(request.user, pk)
    if request.method == "POST":
        try:
            finished = customer_list_delete(customer_list=customer_list)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("campaigns:list-delete", pk=customer_list.pk)
        kept = f" {finished} finished campaign{'s' if finished != 1 else ''} keep their reports." if finished else ""
        messages.success(request, f"List “{customer_list.name}” deleted; its customers stay.{kept}")
        return redirect("campaigns:list-index")
    return render(
        request,
        "campaigns/audience_delete.html",
        {
            "kind": "list",
            "audience": customer_list,
            "size": customer_list.customers.count(),
            "campaigns": audience_campaigns(customer_list=customer_list),
            "cancel_url": reverse("campaigns:list-detail", args=[customer_list.pk]),
        },
    )


@login_required
@require_POST
def list_remove(request, pk: int):
    """Take one customer off the list (from the list page, or the customer's page with back=customer)."""
    customer_list = _get_list_for_user(request.user, pk)
    customer_id = request.POST.get("customer", "")
    customer = get_object_or_404(
        _customers_for_user(request.user).filter(org=customer_list.org_id),
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
    segment = _get_segment_for_user(request.user, pk)
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
                _add_errors(form, error)
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
    segment = _get_segment_for_user(request.user, pk)
    if request.method == "POST":
        try:
            finished = segment_delete(segment=segment)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("campaigns:segment-delete", pk=segment.pk)
        kept = f" {finished} finished campaign{'s' if finished != 1 else ''} keep their reports." if finished else ""
        messages.success(request, f"Segment “{segment.name}” deleted; its customers stay.{kept}")
        return redirect("campaigns:segment-index")
    return render(
        request,
        "campaigns/audience_delete.html",
        {
            "kind": "segment",
            "audience": segment,
            "campaigns": audience_campaigns(segment=segment),
            "cancel_url": reverse("campaigns:segment-detail", args=[segment.pk]),
        },
    )


@login_required
@require_GET
def segment_count(request):
    """The live count on the segment form: how many of the org's customers the conditions select."""
    org_id = request.GET.get("org", "")
    org = orgs_for_user(request.user).filter(pk=int(org_id)).first() if org_id.isdigit() else None
    if org is None:
        raise Http404("No such organisation.")
    conditions = []
    for n in range(1, MAX_SEGMENT_CONDITIONS + 1):
        attribute = request.GET.get(f"attribute_{n}", "").strip()
        value = request.GET.get(f"value_{n}", "").strip()
        if attribute or value:
            conditions.append({"attribute": attribute, "op": request.GET.get(f"op_{n}", "eq"), "value": value})
    try:
        conditions = segment_conditions_clean(conditions)
    except ValidationError as error:
        return JsonResponse({"count": None, "errors": error.messages})
    return JsonResponse({"count": customers_matching(org=org, conditions=conditions).count(), "errors": []})


@login_required
def segment_detail(request, pk: int):
    segment = _get_segment_for_user(request.user, pk)
    try:
        customers = customers_matching(org=segment.org, conditions=segment.conditions).order_by("name", "pk")
        problems = []
    except ValidationError as error:
        customers, problems = Customer.objects.none(), error.messages
    return render(
        request,
        "campaigns/segment_detail.html",
        {"segment": segment, "page": _page(request, customers), "problems": problems, "ops": SEGMENT_OPS},
    )


# --- NDNC register -----------------------------------------------------------------------------------------------


@login_required
def ndnc_register(request):
    orgs = orgs_for_user(request.user)
    form = NdncImportForm(request.POST or None, request.FILES or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        response = _start_import(request, form, kind="ndnc", check=check_ndnc_file, task=ndnc_import_task, options={})
        if response:
            return response
    entries = NdncEntry.objects.filter(org__in=orgs).select_related("org")
    query = request.GET.get("q", "").strip()
    found = None
    if query:
        try:
            found = entries.filter(mobile=normalise_mobile(query))
        except MobileError as error:
            messages.error(request, f"“{query}” {error}.")
    counts = entries.values("org__name").annotate(numbers=Count("pk")).order_by("org__name")
    return render(
        request,
        "campaigns/ndnc_register.html",
        {"form": form, "counts": counts, "query": query, "found": found, "upload_url": reverse("campaigns:ndnc")},
    )
