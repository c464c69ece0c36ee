"""Customer import from CSV: normalised numbers, row-by-row errors, re-import updates, streamed in batches."""

import io
import tracemalloc
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.base.csv_imports import ImportFileError
from campaigns.base.phone_numbers import MobileError, normalise_mobile
from campaigns.customers.customer_import import import_customers
from campaigns.models import Coupon, Customer, CustomerList
from tests.factories import CustomerFactory
from tests.time_limit import within_seconds


def write_csv(tmp_path: Path, text: str, name: str = "customers.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("typed", ["98765 43210", "+91-98765-43210", "09876543210", "919876543210", "9876543210.0"])
def test_indian_numbers_as_people_type_them_become_e164(typed):
    assert normalise_mobile(typed) == "+919876543210"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("12345", "too short"),
        ("98765432101234", "too long"),
        ("hello", "is not a phone number"),
        ("022 2345 6789", "landline"),
        ("9.87654E+09", "scientific notation"),
    ],
)
def test_unusable_numbers_are_refused_with_a_reason_in_words(typed, reason):
    with pytest.raises(MobileError, match=reason):
        normalise_mobile(typed)


def test_valid_rows_are_imported_and_invalid_ones_reported_by_line(tmp_path, org):
    # given a file with two good rows, a bad number, a bad email and a row with neither
    path = write_csv(
        tmp_path,
        "mobile,email,name,external_id,city,tier\n"
        "98765 43210,Asha@Example.com,Asha,C1,Pune,gold\n"
        "12345,,Bad Number,C2,Delhi,\n"
        "+91-99887-76655,not-an-email,Bad Email,C3,,\n"
        ",,Nobody,C4,,\n"
        "09123456789,,Ravi,C5,Mumbai,silver\n",
    )

    # when it is imported
    report = import_customers(path=path, org_id=org.pk)

    # then the good rows are customers with normalised numbers and attributes from the extra columns
    asha = Customer.objects.get(org=org, external_id="C1")
    assert (asha.mobile, asha.email, asha.name) == ("+919876543210", "asha@example.com", "Asha")
    assert asha.attributes == {"city": "Pune", "tier": "gold"}
    assert Customer.objects.get(external_id="C5").mobile == "+919123456789"
    assert report.created == 2 and Customer.objects.count() == 2
    # and each bad row is reported with its line, value and reason
    assert [(e.line, e.value) for e in report.errors] == [(3, "12345"), (4, "not-an-email"), (5, "")]
    assert "too short" in report.errors[0].reason
    assert "not a valid email address" in report.errors[1].reason
    assert "no mobile number and no email address" in report.errors[2].reason
    assert report.error_count == 3 and report.processed == report.total_rows == 5


def test_reimporting_updates_and_never_duplicates(tmp_path, org):
    # given customers imported once
    first = write_csv(tmp_path, "mobile,name,external_id,city\n9876543210,Asha,C1,Pune\n9123456789,Ravi,,Delhi\n")
    import_customers(path=first, org_id=org.pk)

    # when a second file has the same people (by external id, by mobile) plus a new one; an empty cell
    second = write_csv(
        tmp_path,
        "mobile,name,external_id,city,email\n"
        "+919876500000,Asha K,C1,Mumbai,\n"  # matched by external id: the number changes
        "+91 91234 56789,,,Chennai,ravi@example.com\n"  # matched by mobile; empty name keeps "Ravi"
        "9000000001,Neha,C9,,\n",
        name="second.csv",
    )
    report = import_customers(path=second, org_id=org.pk)

    # then the existing customers are updated, one is created, nothing is duplicated
    assert (report.created, report.updated) == (1, 2)
    assert Customer.objects.filter(org=org).count() == 3
    asha = Customer.objects.get(external_id="C1")
    assert (asha.mobile, asha.name, asha.attributes["city"]) == ("+919876500000", "Asha K", "Mumbai")
    ravi = Customer.objects.get(mobile="+919123456789")
    assert (ravi.name, ravi.email, ravi.attributes["city"]) == ("Ravi", "ravi@example.com", "Chennai")


def test_a_customer_is_matched_by_email_when_there_is_no_id_or_mobile(tmp_path, org):
    import_customers(path=write_csv(tmp_path, "email,name\nasha@example.com,Asha\n"), org_id=org.pk)
    import_customers(path=write_csv(tmp_path, "email,tier\nASHA@example.com,gold\n", "b.csv"), org_id=org.pk)
    asha = Customer.objects.get()
    assert (asha.name, asha.attributes) == ("Asha", {"tier": "gold"})


def test_the_same_number_twice_in_one_file_is_one_customer_and_a_note(tmp_path, org):
    # given a number twice, the second time written differently, in the same batch and across batches
    path = write_csv(
        tmp_path,
        "mobile,name,city\n9876543210,Asha,Pune\n+91 98765 43210,,Mumbai\n9000000001,Neha,\n9000000001,,Goa\n",
    )

    # when it is imported in batches of three rows
    report = import_customers(path=path, org_id=org.pk, batch_size=3)

    # then each number is one customer carrying the later values, and the merges are noted by line
    assert Customer.objects.count() == 2
    assert Customer.objects.get(mobile="+919876543210").attributes == {"city": "Mumbai"}
    assert Customer.objects.get(mobile="+919000000001").attributes == {"city": "Goa"}
    assert report.merged == 2 and report.error_count == 0
    assert "same customer as line 2" in report.notes[0].reason and report.notes[0].line == 3
    assert report.notes[1].line == 5


def test_a_number_that_belongs_to_another_external_id_is_reported_not_stolen(tmp_path, org):
    import_customers(path=write_csv(tmp_path, "mobile,external_id\n9876543210,C1\n"), org_id=org.pk)
    report = import_customers(path=write_csv(tmp_path, "mobile,external_id\n9876543210,C2\n", "b.csv"), org_id=org.pk)
    assert Customer.objects.get().external_id == "C1"
    assert report.error_count == 1 and "already belongs to another customer (C1)" in report.errors[0].reason


def test_bom_semicolons_empty_lines_and_header_spellings_are_understood(tmp_path, org):
    path = write_csv(
        tmp_path,
        "\ufeffPhone;Customer Name;External ID;Loyalty Tier\r\n\r\n9876543210;Asha;C1;gold\r\n;;;\r\n",
    )
    report = import_customers(path=path, org_id=org.pk)
    asha = Customer.objects.get()
    assert (asha.mobile, asha.name, asha.external_id, asha.attributes) == (
        "+919876543210",
        "Asha",
        "C1",
        {"loyalty_tier": "gold"},
    )
    assert report.error_count == 0 and report.total_rows == 1


def test_very_long_values_are_reported_and_the_rest_imported(tmp_path, org):
    path = write_csv(
        tmp_path,
        "mobile,name,note\n"
        f"9876543210,{'A' * 300},x\n"
        f"9000000001,Neha,{'n' * 5000}\n"
        f'9000000002,Ravi,"{"z" * 200_000}"\n'
        "9000000003,Meera,ok\n",
    )
    report = import_customers(path=path, org_id=org.pk)
    assert list(Customer.objects.values_list("name", flat=True)) == ["Meera"]
    assert [e.line for e in report.errors] == [2, 3, 4]
    assert "name is 300 characters; at most 200" in report.errors[0].reason
    assert "note is 5,000 characters; at most 1000" in report.errors[1].reason
    assert "cannot be read: a value is longer than 100,000 characters" in report.errors[2].reason
    assert len(report.errors[0].value) <= 80


def test_a_row_with_more_values_than_columns_is_reported(tmp_path, org):
    report = import_customers(
        path=write_csv(tmp_path, "mobile,name\n9876543210,Asha,extra\n9000000001,Neha\n"), org_id=org.pk
    )
    assert Customer.objects.get().name == "Neha"
    assert "has 3 values but the first line names 2 columns" in report.errors[0].reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,city\nAsha,Pune\n", "needs a “mobile” or an “email” column"),
        ("9876543210,Asha\n9000000001,Neha\n", "looks like data, not column names"),
        ("", "The file is empty"),
        ("mobile,,name\n", "column 2 has no name"),
        ("mobile,Mobile\n", "these columns appear twice: mobile"),
        ("mobile,coupon_code\n", "need both"),
    ],
)
def test_a_file_without_usable_columns_is_refused_whole_with_a_clear_error(tmp_path, org, text, message):
    with pytest.raises(ImportFileError, match=message):
        import_customers(path=write_csv(tmp_path, text), org_id=org.pk)
    assert not Customer.objects.exists()


def test_a_file_that_is_not_utf8_is_refused_with_how_to_fix_it(tmp_path, org):
    path = write_csv(tmp_path, "mobile,name\n9876543210,José\n", encoding="latin-1")
    with pytest.raises(ImportFileError, match="CSV UTF-8"):
        import_customers(path=path, org_id=org.pk)


def test_coupon_columns_create_and_then_update_coupons(tmp_path, org):
    # given a file with coupons in two date styles and a bad date
    path = write_csv(
        tmp_path,
        "mobile,coupon_code,coupon_expiry\n9876543210,DIWALI10,2026-11-30\n9000000001,NEW50,31/12/2026\n"
        "9000000002,BAD,soon\n",
    )
    report = import_customers(path=path, org_id=org.pk)
    assert sorted(Coupon.objects.values_list("code", "expires_on")) == [
        ("DIWALI10", __import__("datetime").date(2026, 11, 30)),
        ("NEW50", __import__("datetime").date(2026, 12, 31)),
    ]
    assert report.errors[0].line == 4 and "coupon expiry is not a date" in report.errors[0].reason

    # when the same coupon comes again with a new expiry
    import_customers(
        path=write_csv(tmp_path, "mobile,coupon_code,coupon_expiry\n9876543210,DIWALI10,2027-01-05\n"), org_id=org.pk
    )

    # then it is updated, not duplicated
    assert Coupon.objects.filter(code="DIWALI10").count() == 1
    assert str(Coupon.objects.get(code="DIWALI10").expires_on) == "2027-01-05"


def test_imported_customers_can_be_added_to_a_list(tmp_path, org):
    import_customers(path=write_csv(tmp_path, "mobile\n9876543210\n9000000001\n"), org_id=org.pk, list_name="Diwali")
    import_customers(path=write_csv(tmp_path, "mobile\n9000000001\n9000000002\n"), org_id=org.pk, list_name="Diwali")
    assert CustomerList.objects.get(org=org, name="Diwali").customers.count() == 3


def test_another_orgs_customers_are_never_matched(tmp_path, org, other_org):
    CustomerFactory(org=other_org, mobile="+919876543210", external_id="C1", name="Theirs")
    import_customers(path=write_csv(tmp_path, "mobile,external_id,name\n9876543210,C1,Ours\n"), org_id=org.pk)
    assert Customer.objects.get(org=other_org).name == "Theirs"
    assert Customer.objects.get(org=org).name == "Ours"


def _rows_file(tmp_path: Path, count: int, name: str, first: int = 1) -> Path:
    lines = ["mobile,name,external_id,city,coupon_code,coupon_expiry"]
    lines += [f"9{n:09d},Customer {n},X{n},City {n % 7},C{n},2026-12-31" for n in range(first, first + count)]
    return write_csv(tmp_path, "\n".join(lines) + "\n", name)


def test_queries_grow_with_batches_not_with_rows(tmp_path, org):
    # given two files, the second four times the rows of the first, imported in batches of 50
    small, large = _rows_file(tmp_path, 100, "small.csv"), _rows_file(tmp_path, 400, "large.csv")

    # when each is imported (new customers), then the large one again (updates)
    with CaptureQueriesContext(connection) as small_queries:
        import_customers(path=small, org_id=org.pk, batch_size=50, list_name="All")
    with CaptureQueriesContext(connection) as large_queries:
        import_customers(path=large, org_id=org.pk, batch_size=50, list_name="All")
    with CaptureQueriesContext(connection) as update_queries:
        import_customers(path=large, org_id=org.pk, batch_size=50, list_name="All")

    # then the queries per batch are a handful, whatever the rows in a batch
    per_batch = (len(large_queries) - len(small_queries)) / (8 - 2)
    assert per_batch <= 8
    assert len(large_queries) <= 8 * 8 + 8
    assert len(update_queries) <= 8 * 8 + 8
    assert Customer.objects.count() == 400 and Coupon.objects.count() == 400


def test_a_large_file_imports_in_bounded_memory(tmp_path, org):
    # given files of 600 and 2,400 new customers
    small = _rows_file(tmp_path, 600, "small.csv")
    large = _rows_file(tmp_path, 2400, "large.csv", first=10_000)

    def peak(path: Path) -> int:
        tracemalloc.start()
        import_customers(path=path, org_id=org.pk, batch_size=200)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # when each is imported, then four times the rows does not take four times the memory
    small_peak, large_peak = peak(small), peak(large)
    assert Customer.objects.count() == 3000
    assert large_peak < small_peak * 2


def test_command_imports_draws_progress_and_lists_skipped_rows(tmp_path, org):
    path = write_csv(tmp_path, "mobile,name\n9876543210,Asha\n123,Bad\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_customers", str(path), "--org", org.name, "--list", "Imported", stdout=out, stderr=err)
    assert "Skipped line 3: “123” mobile number is too short" in out.getvalue()
    assert "1 customers created, 0 updated" in out.getvalue() and "1 rows skipped" in out.getvalue()
    assert "[##############################] 2/2 rows (100%)" in err.getvalue()
    assert CustomerList.objects.get(name="Imported").customers.count() == 1


def test_command_names_a_missing_org_and_a_bad_file(tmp_path, org):
    with pytest.raises(CommandError, match=r"no organisation “Nope” \(by id or name\).*Acme Retail"):
        call_command("import_customers", "x.csv", "--org", "Nope")
    with pytest.raises(CommandError, match="needs a “mobile” or an “email” column"):
        call_command("import_customers", str(write_csv(tmp_path, "a,b\n1,2\n")), "--org", org.name)


def test_importing_the_same_file_again_changes_nothing(tmp_path, org):
    path = write_csv(tmp_path, "mobile,email,name,city\n9876543210,asha@example.com,Asha,Pune\n9000000001,,Neha,Goa\n")
    import_customers(path=path, org_id=org.pk)
    before = dict(Customer.objects.values_list("pk", "updated_at"))

    report = import_customers(path=path, org_id=org.pk)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert dict(Customer.objects.values_list("pk", "updated_at")) == before


def test_a_row_matching_one_customer_by_mobile_and_email_updates_it_once(tmp_path, org):
    # given a customer known by mobile and email, and an email-only customer
    Customer.objects.create(org=org, mobile="+919876543210", email="asha@example.com", name="Asha")
    Customer.objects.create(org=org, email="ravi@example.com", name="Ravi")

    # when rows reach them by mobile, and by email with a new mobile
    report = import_customers(
        path=write_csv(
            tmp_path, "mobile,email,city\n9876543210,asha@example.com,Pune\n9000000001,ravi@example.com,Goa\n"
        ),
        org_id=org.pk,
    )

    # then each is updated in place: no new customer
    assert (report.created, report.updated) == (0, 2)
    assert Customer.objects.get(name="Asha").attributes == {"city": "Pune"}
    ravi = Customer.objects.get(name="Ravi")
    assert (ravi.mobile, ravi.attributes) == ("+919000000001", {"city": "Goa"})


# --- Bad input ---------------------------------------------------------------------------------------------------


def test_a_nul_byte_in_one_cell_skips_that_row_with_its_reason_and_imports_the_others(tmp_path, org):
    # given a file whose second row has a NUL byte in the name (PostgreSQL stores no NUL in text)
    path = write_csv(
        tmp_path, "mobile,name,city\n9876543210,Asha,Pune\n9123456789,Ra\x00vi,Goa\n9000000001,Neha,\x00\n"
    )

    # when it is imported
    report = import_customers(path=path, org_id=org.pk)

    # then the rows with a NUL are skipped with the reason in words, and the other row is a customer
    assert list(Customer.objects.filter(org=org).values_list("name", flat=True)) == ["Asha"]
    assert [(e.line, e.value) for e in report.errors] == [(3, "Ravi"), (4, "")]
    assert "column “name” holds a NUL character (a zero byte)" in report.errors[0].reason
    assert "column “city” holds a NUL character" in report.errors[1].reason
    assert (report.created, report.error_count, report.processed) == (1, 2, 3)


def test_a_first_line_longer_than_the_limit_is_refused_in_words_before_anything_is_read(tmp_path, org):
    # given a file whose first line is 50 MB of column names (a file that is no CSV a person made)
    path = tmp_path / "customers.csv"
    with open(path, "w") as file:
        file.write("mobile")
        for _ in range(1000):
            file.write(",column" * 7000)
        file.write("\n9876543210\n")

    # when it is imported, then it is refused at once, saying why
    with (
        within_seconds(10),
        pytest.raises(ImportFileError, match=r"The first line is longer than 10,000 characters — is this a CSV file\?"),
    ):
        import_customers(path=path, org_id=org.pk)
    assert not Customer.objects.exists()


def test_a_first_line_of_one_huge_value_is_refused_in_words(tmp_path, org):
    path = write_csv(tmp_path, "mobile," + "x" * 200_000 + "\n9876543210,Asha\n")
    with pytest.raises(ImportFileError, match="The first line is longer than 10,000 characters"):
        import_customers(path=path, org_id=org.pk)


def test_a_first_line_as_long_as_the_limit_is_read(tmp_path, org):
    # given a header of exactly the 10,000 characters allowed, ending in a Windows line break
    columns = ["mobile"] + [f"a{n:04d}" for n in range(1665)]
    header = ",".join(columns)
    header += ",b" + "c" * (10_000 - len(header) - 2)
    assert len(header) == 10_000
    path = write_csv(tmp_path, header + "\r\n9876543210\r\n")

    report = import_customers(path=path, org_id=org.pk)

    assert report.created == 1 and report.errors == [] and report.total_rows == 1
