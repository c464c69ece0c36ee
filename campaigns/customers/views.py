"""Customer pages: browse and search customers, import them, unsubscribes, erasing a customer's personal data, the
NDNC register (lists and segments: audience_views)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.base.access import (
    customers_for_user,
    get_customer_for_user,
    orgs_for_user,
    refuse_other_orgs_lists,
)
from campaigns.base.csv_imports import (
    ImportFileError,
    import_job_create,
    import_job_get,
    import_job_path,
    import_job_skipped_rows,
)
from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.customers import erasure as customer_erasure
from campaigns.customers.audience import customer_list_add_matching, customer_lists_add
from campaigns.customers.customer_rows import check_customer_file
from campaigns.customers.forms import (
    CustomerBulkAddForm,
    CustomerImportForm,
    CustomerListsAddForm,
    NdncImportForm,
    SubscriptionForm,
)
from campaigns.customers.ndnc import check_ndnc_file
from campaigns.customers.tasks import customers_import_task, ndnc_import_task
from campaigns.customers.unsubscribes import customer_resubscribe, customer_unsubscribe
from campaigns.models import Customer, NdncEntry, Org, Unsubscribe
from delivery.reports.selectors import customer_messages
from linktrack.common.csv_export import csv_download

PAGE_SIZE = 50


# --- Access helpers: another org's object is a 404 ------------------------------------------------------------


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


def customer_search(customers: QuerySet[Customer], query: str) -> QuerySet[Customer]:
    query = query.strip()
    if not query:
        return customers
    customers = customers.filter(erased_at__isnull=True)  # nothing is left of an erased customer to match
    matches = Q(name__icontains=query) | Q(email__icontains=query) | Q(external_id__iexact=query)
    try:
        matches |= Q(mobile=normalise_mobile(query))
    except MobileError:
        if any(character.isdigit() for character in query):
            matches |= Q(mobile__contains=query.replace(" ", ""))
    return customers.filter(matches)


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Customers ---------------------------------------------------------------------------------------------------


@login_required
def customer_list(request):
    orgs = orgs_for_user(request.user).order_by("name")
    org = _chosen_org(request)
    customers = customers_for_user(request.user).select_related("org")
    if org:
        customers = customers.filter(org=org)
    query = request.GET.get("q", "")
    page = page_of(request, customer_search(customers, query).order_by("name", "pk"))
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
    refuse_other_orgs_lists(request.user, request.POST.getlist("customer_list"))
    form = CustomerBulkAddForm(request.POST, orgs=orgs_for_user(request.user))
    back = reverse("campaigns:customer-list")
    if not form.is_valid():
        messages.error(request, " ".join(message for problems in form.errors.values() for message in problems))
        return redirect(back)
    customer_list, query, org = (form.cleaned_data[name] for name in ("customer_list", "q", "org"))
    customers = customers_for_user(request.user)
    if org:
        customers = customers.filter(org=org)
    added = customer_list_add_matching(customer_list=customer_list, customers=customer_search(customers, query))
    found = f"matching “{query.strip()}”" if query.strip() else "of the search"
    messages.success(
        request,
        f"{added:,} customer{'s' if added != 1 else ''} {found} added to “{customer_list.name}” "
        f"(customers already on it, or of another organisation, were left as they were).",
    )
    return redirect("campaigns:list-detail", pk=customer_list.pk)


@login_required
def customer_detail(request, pk: int):
    customer = get_customer_for_user(request.user, pk)
    return render(
        request,
        "campaigns/customer_detail.html",
        {
            "customer": customer,
            "coupons": customer.coupons.order_by("expires_on"),
            "lists": customer.lists.order_by("name"),
            "lists_form": CustomerListsAddForm(customer=customer),
            "unsubscribes": customer.unsubscribes.order_by("-created_at"),
            "customer_messages": customer_messages(customer_id=customer.pk),
            "channels": [
                ("sms", "SMS", customer.sms_subscribed),
                ("email", "Email", customer.email_subscribed),
            ],
            "on_ndnc": customer.mobile
            and NdncEntry.objects.filter(org=customer.org_id, mobile=customer.mobile).first(),
        },
    )


def _refuse_erased(request, customer: Customer):
    """An erased customer's page changes nothing any more: back to it, saying why."""
    if not customer.is_erased:
        return None
    messages.error(request, "The personal data of this customer was erased: they can no longer be changed.")
    return redirect("campaigns:customer-detail", pk=customer.pk)


@login_required
@require_POST
def customer_subscription(request, pk: int):
    customer = get_customer_for_user(request.user, pk)
    if refused := _refuse_erased(request, customer):
        return refused
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
    customer = get_customer_for_user(request.user, pk)
    if refused := _refuse_erased(request, customer):
        return refused
    refuse_other_orgs_lists(request.user, request.POST.getlist("customer_lists"))
    form = CustomerListsAddForm(request.POST, customer=customer)
    if form.is_valid():
        added = customer_lists_add(customer=customer, customer_lists=form.cleaned_data["customer_lists"])
        names = ", ".join(f"“{customer_list.name}”" for customer_list in added)
        messages.success(request, f"{customer} added to {names}." if added else f"{customer} was already on them.")
    else:
        messages.error(request, " ".join(message for problems in form.errors.values() for message in problems))
    return redirect("campaigns:customer-detail", pk=customer.pk)


@login_required
@require_http_methods(["GET", "POST"])
def customer_erase(request, pk: int):
    """Erase a customer's personal data on their request: a page saying what goes and what stays, then the POST."""
    customer = get_customer_for_user(request.user, pk)
    if request.method == "POST":
        try:
            result = customer_erasure.customer_erase(customer=customer, user=request.user)
        except ValidationError as error:
            for problem in error.messages:
                messages.error(request, problem)
            return redirect("campaigns:customer-erase", pk=customer.pk)
        messages.success(request, result.in_words)
        return redirect("campaigns:customer-detail", pk=customer.pk)
    if customer.is_erased:
        messages.info(request, "The personal data of this customer was already erased.")
        return redirect("campaigns:customer-detail", pk=customer.pk)
    return render(
        request,
        "campaigns/customer_erase.html",
        {
            "customer": customer,
            "counts": customer_erasure.customer_erasure_counts(customer=customer),
            "refusal": customer_erasure.customer_erasure_refusal(customer=customer),
        },
    )


# --- Imports -----------------------------------------------------------------------------------------------------


def start_import(request, form, *, kind: str, check, task, options: dict):
    """Save the upload, refuse an unusable file next to the form, else queue the import and show its progress."""
    org = form.cleaned_data["org"]
    job_id = import_job_create(
        kind=kind, org_id=org.pk, user_id=request.user.pk, upload=form.cleaned_data["file"], options=options
    )
    try:
        # The first line only: the task counts the rows and reads the rest, however large the file.
        check(import_job_path(job_id))
    except ImportFileError as error:
        import_job_path(job_id).unlink(missing_ok=True)
        form.add_error("file", str(error))
        return None
    transaction.on_commit(lambda: task.delay(job_id))
    return redirect("campaigns:import-progress", job_id=job_id)


@login_required
def customer_import(request):
    form = CustomerImportForm(request.POST or None, request.FILES or None, orgs=orgs_for_user(request.user))
    if request.method == "POST" and form.is_valid():
        response = start_import(
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


def import_percent(*, processed: int, total: int, done: bool) -> int:
    """Rows processed of the total, rounded down: 100 only once the import has finished."""
    if done:
        return 100
    return min(100 * processed // total, 99) if total else 0


@login_required
def import_progress(request, job_id: str):
    job = _get_job_for_user(request.user, job_id)
    report = job["report"]
    total = report["total_rows"] or 0
    percent = import_percent(processed=report["processed"], total=total, done=job["status"] == "done")
    context = {
        "job": job,
        "report": report,
        "percent": percent,
        # Until the task has counted the rows (it reads the whole file; the upload read only the first line).
        "counting": job["status"] in ("queued", "running") and not total,
        "running": job["status"] in ("queued", "running"),
        "org": Org.objects.filter(pk=job["org_id"]).first(),
        "skipped_rows": sorted(report["errors"], key=lambda error: error["line"]),
        "more_errors": report["error_count"] - len(report["errors"]),
    }
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": job["status"],
                "processed": report["processed"],
                "total": total,
                "skipped": report["error_count"],
                "percent": percent,
            }
        )
    return render(request, "campaigns/customer_import_progress.html", context)


@login_required
def import_skipped_export(request, job_id: str):
    """Every row the import skipped (so far, while it runs), by line, as CSV."""
    job = _get_job_for_user(request.user, job_id)
    rows = ([error.line, error.value, error.reason] for error in import_job_skipped_rows(job))
    # The job id is letters, digits, - and _ (secrets.token_urlsafe): known characters only in the file's name.
    return csv_download(["line", "value", "reason"], rows, filename=f"import-{job['kind']}-{job_id}-skipped.csv")


# --- NDNC register -----------------------------------------------------------------------------------------------


@login_required
def ndnc_register(request):
    orgs = orgs_for_user(request.user)
    form = NdncImportForm(request.POST or None, request.FILES or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        response = start_import(request, form, kind="ndnc", check=check_ndnc_file, task=ndnc_import_task, options={})
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
