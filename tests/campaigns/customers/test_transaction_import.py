"""Transactions in by CSV: the Transactions page (progress, skipped rows by line and reason), the command, a
purchase by someone not yet a customer matched when the customer import brings them, and org isolation."""

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.customers.attribution import campaign_sales_recount, org_transactions_reattribute
from campaigns.customers.customer_import import import_customers
from campaigns.customers.transaction_rows import TransactionRow
from campaigns.customers.transactions import transactions_store
from campaigns.models import Transaction, TransactionChange
from tests.campaigns.customers.transactions_helpers import ist, reached, sales
from tests.factories import CustomerFactory

FILE = (
    "transaction_id,time,amount,currency,external_id,mobile,store,channel\n"
    'T1,2026-11-02 10:00,"1,299.50",,C1,,Andheri,store\n'
    "T2,2026-11-02T12:00:00+05:30,500,INR,,98100 00001,,online\n"
    "T3,yesterday,10,,C1,,,\n"
    "T4,2026-11-03 10:00,-5,,C1,,,\n"
    "T5,2026-11-03 10:00,20,,NEW-7,,,\n"
)


def upload(text: str, name: str = "transactions.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.IMPORT_FILES_DIR = tmp_path


@pytest.fixture
def customer(org):
    return CustomerFactory(org=org, external_id="C1", mobile="+919810000001")


def test_the_page_imports_a_file_shows_its_progress_and_skipped_rows_and_counts_them_for_the_campaign(
    client, org, manager, template, customer, django_capture_on_commit_callbacks
):
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:transactions"), {"org": org.pk, "file": upload(FILE)})
    assert response.status_code == 302
    progress = client.get(response["Location"]).content.decode()

    assert "Transaction import" in progress and "Import finished." in progress
    assert "“yesterday” is not a date and time" in progress
    assert "amount “-5” must be 0 or more" in progress
    assert set(Transaction.objects.values_list("transaction_id", flat=True)) == {"T1", "T2", "T5"}
    t1 = Transaction.objects.get(transaction_id="T1")
    assert (t1.amount, t1.currency, t1.store, t1.sales_channel, t1.time) == (
        Decimal("1299.50"), "INR", "Andheri", "store", ist(2026, 11, 2, 10, 0)
    )  # fmt: skip
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("1799.50"))

    page = client.get(reverse("campaigns:transactions")).content.decode()
    assert "A purchase counts for a campaign when the customer got one of its messages" in page
    assert "Not a customer yet (NEW-7)" in page


def test_a_file_without_the_needed_columns_is_refused_next_to_the_field(client, org, manager):
    client.force_login(manager)
    response = client.post(reverse("campaigns:transactions"), {"org": org.pk, "file": upload("id,amount\nT1,5\n")})
    assert response.status_code == 400
    assert "The file needs the columns transaction_id, time and amount" in response.content.decode()
    assert not Transaction.objects.exists()


def test_the_command_imports_and_a_second_run_changes_only_a_new_amount_recorded(org, customer, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("transaction_id,time,amount,external_id\nT1,2026-11-02 10:00,100,C1\n")
    out = io.StringIO()
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=out)
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=out)
    path.write_text("transaction_id,time,amount,external_id\nT1,2026-11-02 10:00,80,C1\n")
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=out)

    lines = out.getvalue().splitlines()
    assert "1 transactions created, 0 amounts changed" in lines[0]
    assert "0 transactions created, 0 amounts changed, 1 already stored as they are" in lines[1]
    assert "0 transactions created, 1 amounts changed" in lines[2]
    assert Transaction.objects.get().amount == Decimal("80.00")
    assert TransactionChange.objects.get().source == "import"


def test_a_purchase_by_someone_unknown_is_matched_and_counted_when_the_customer_is_imported_later(
    org, template, tmp_path
):
    # given a purchase naming external id NEW-7 and mobile 98100 00077, who is no customer yet
    path = tmp_path / "t.csv"
    path.write_text("transaction_id,time,amount,external_id,mobile\nT9,2026-11-02 10:00,750,NEW-7,9810000077\n")
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=io.StringIO())
    assert Transaction.objects.get().customer is None

    # when a customer import brings them, and they had got a campaign's message before the purchase
    customers = tmp_path / "c.csv"
    customers.write_text("external_id,mobile,name\nNEW-7,+919810000077,Asha\n")
    import_customers(path=customers, org_id=org.pk)
    new = Transaction.objects.get().customer
    assert new is not None and new.name == "Asha"
    campaign, _ = reached(template, new, ist(2026, 11, 1, 10, 0))
    # (the message is older than the purchase but stored after it here: attribute again, as a rebuild does)
    org_transactions_reattribute(org=org)
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("750.00"))


def test_a_customer_import_counts_a_waiting_purchase_for_the_campaign_at_once(org, template, tmp_path):
    # given a customer without an external id who got a campaign, and a purchase naming an external id only
    customer = CustomerFactory(org=org, external_id="", mobile="+919810000055")
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    path = tmp_path / "t.csv"
    path.write_text("transaction_id,time,amount,external_id\nT1,2026-11-02 10:00,99,EXT-55\n")
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=io.StringIO())
    assert sales(campaign) == (0, Decimal(0), 0, Decimal(0))

    # when an import gives the customer that external id
    customers = tmp_path / "c.csv"
    customers.write_text("external_id,mobile\nEXT-55,+919810000055\n")
    import_customers(path=customers, org_id=org.pk)

    # then the purchase is theirs and counts for the campaign
    assert Transaction.objects.get().customer == customer
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("99.00"))


def test_another_orgs_transactions_are_not_on_the_page_and_their_customers_are_not_matched(
    client, org, other_org, manager, outsider, tmp_path
):
    CustomerFactory(org=other_org, external_id="C1")
    path = tmp_path / "t.csv"
    path.write_text("transaction_id,time,amount,external_id\nTHEIRS-1,2026-11-02 10:00,100,C1\n")
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=io.StringIO())
    assert Transaction.objects.get().customer is None  # the other org's C1 is not ours

    client.force_login(outsider)
    page = client.get(reverse("campaigns:transactions")).content.decode()
    assert "THEIRS-1" not in page
    # an import of another org cannot be uploaded into ours: the org field offers theirs only
    response = client.post(reverse("campaigns:transactions"), {"org": org.pk, "file": upload(FILE)})
    assert response.status_code == 400
    assert Transaction.objects.count() == 1


def test_a_new_window_on_the_page_attributes_every_purchase_again(
    client, org, manager, template, customer, django_capture_on_commit_callbacks
):
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    path_rows = [TransactionRow(line=1, transaction_id="late", time=ist(2026, 11, 12, 10, 0), amount=Decimal(40),
                                external_id="C1")]  # fmt: skip
    campaign_sales_recount(transactions_store(org=org, rows=path_rows, source="import").campaigns)
    assert sales(campaign)[2] == 0  # 11 days after: outside the 7-day window
    client.force_login(manager)

    with_typo = client.post(reverse("campaigns:attribution-window"), {"org": org.pk, "attribution_window_days": "0"})
    assert with_typo.status_code == 400 and "Give at least 1 day." in with_typo.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("campaigns:attribution-window"), {"org": org.pk, "attribution_window_days": "14"}, follow=True
        )

    assert "now count within 14 days after a message" in response.content.decode()
    assert "within 14 days after it was delivered" in response.content.decode()
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("40.00"))


def test_a_number_named_again_is_matched_and_a_bad_one_reported_on_each_line(org, template, customer, tmp_path):
    # given a file naming the customer's number twice, in two spellings, and a bad number twice
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    path = tmp_path / "t.csv"
    path.write_text(
        "transaction_id,time,amount,mobile\n"
        "T1,2026-11-02 10:00,10,98100 00001\n"
        "T2,2026-11-02 11:00,20,+919810000001\n"
        "T3,2026-11-02 12:00,30,12345\n"
        "T4,2026-11-02 13:00,40,98100 00001\n"
        "T5,2026-11-02 14:00,50,12345\n"
    )
    out = io.StringIO()
    call_command("import_transactions", str(path), "--org", org.name, "--no-progress", stdout=out)

    assert out.getvalue().count("mobile number “12345” is too short for a phone number") == 2
    assert set(Transaction.objects.values_list("transaction_id", "customer")) == {
        ("T1", customer.pk), ("T2", customer.pk), ("T4", customer.pk)
    }  # fmt: skip
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("70.00"))


def test_a_transaction_twice_in_one_batch_is_stored_once_with_its_last_amount(org, template, customer):
    campaign, _ = reached(template, customer, ist(2026, 11, 1, 10, 0))
    rows = [
        TransactionRow(line=line, transaction_id="T1", time=ist(2026, 11, 2, 10, 0), amount=Decimal(amount),
                       external_id="C1")
        for line, amount in ((1, "10"), (2, "10"), (3, "25"))
    ]  # fmt: skip
    stored = transactions_store(org=org, rows=rows, source="import")
    campaign_sales_recount(stored.campaigns)

    assert stored.outcomes == {1: "created", 2: "unchanged", 3: "updated"}
    assert (stored.created, stored.updated) == (1, 0)
    assert Transaction.objects.get().amount == Decimal("25.00")
    assert not TransactionChange.objects.exists()
    assert sales(campaign) == (0, Decimal(0), 1, Decimal("25.00"))


def test_storing_a_batch_takes_the_same_queries_whatever_its_size(
    postgres, org, customer, django_assert_max_num_queries
):
    # (on PostgreSQL: SQLite takes a bulk insert a few dozen rows at a time)
    def batch(first: int, count: int) -> list[TransactionRow]:
        return [
            TransactionRow(line=n, transaction_id=f"T{n}", time=ist(2026, 11, 2, 10, 0), amount=Decimal(n),
                           external_id="C1" if n % 2 else "", mobile="" if n % 2 else f"+9198100{n:05d}")
            for n in range(first, first + count)
        ]  # fmt: skip

    with CaptureQueriesContext(connection) as small:
        transactions_store(org=org, rows=batch(0, 2), source="import")
    with django_assert_max_num_queries(len(small)):
        transactions_store(org=org, rows=batch(100, 500), source="import")
    assert Transaction.objects.count() == 502
