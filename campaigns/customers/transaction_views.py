"""The Transactions page: upload what customers bought (CSV), set the attribution window, read the rule and the
latest transactions. The import's progress is the customer import's page (campaigns.customers.views)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns.base.access import orgs_for_user
from campaigns.customers.attribution import attribution_in_words
from campaigns.customers.forms import AttributionWindowForm, TransactionImportForm
from campaigns.customers.tasks import org_transactions_reattribute_task, transactions_import_task
from campaigns.customers.transaction_rows import check_transaction_file
from campaigns.customers.views import start_import
from campaigns.models import Org, Transaction

LATEST = 50


@login_required
@require_http_methods(["GET", "POST"])
def transactions_page(request):
    orgs = orgs_for_user(request.user)
    form = TransactionImportForm(request.POST or None, request.FILES or None, orgs=orgs)
    if request.method == "POST" and form.is_valid():
        response = start_import(
            request,
            form,
            kind="transactions",
            check=check_transaction_file,
            task=transactions_import_task,
            options={},
        )
        if response:
            return response
    return _page(request, orgs, form, status=400 if form.errors else 200)


def _page(request, orgs, form, window_form=None, status=200):
    orgs = list(orgs.order_by("name"))
    windows = [
        (
            org,
            attribution_in_words(org),
            window_form
            if window_form is not None and window_form.data.get("org") == str(org.pk)
            else AttributionWindowForm(
                orgs=Org.objects.filter(pk=org.pk),
                initial={"attribution_window_days": org.attribution_window_days},
            ),
        )
        for org in orgs
    ]
    latest = (
        Transaction.objects.filter(org__in=orgs)
        .select_related("org", "customer", "message_campaign", "click_campaign")
        .order_by("-time", "-pk")[:LATEST]
    )
    return render(
        request,
        "campaigns/transactions.html",
        {"form": form, "windows": windows, "latest": latest, "many_orgs": len(orgs) > 1},
        status=status,
    )


@login_required
@require_POST
def attribution_window_change(request):
    orgs = orgs_for_user(request.user)
    form = AttributionWindowForm(request.POST, orgs=orgs)
    if not form.is_valid():
        return _page(request, orgs, TransactionImportForm(orgs=orgs), window_form=form, status=400)
    org, days = form.cleaned_data["org"], form.cleaned_data["attribution_window_days"]
    if org.attribution_window_days != days:
        Org.objects.filter(pk=org.pk).update(attribution_window_days=days)
        # Every purchase is attributed again with the new window, in the background.
        transaction.on_commit(lambda: org_transactions_reattribute_task.delay(org.pk))
        messages.success(
            request,
            f"Purchases of {org.name} now count within {days} days after a message; every purchase is being "
            "attributed again, and the campaigns' figures follow in a moment.",
        )
    return redirect("campaigns:transactions")
