"""The NDNC register per org: import with categories, and which numbers a promotional category may not reach."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.base.csv_imports import ImportFileError
from campaigns.customers.audience import ndnc_blocked_mobiles
from campaigns.customers.ndnc import CategoryError, import_ndnc, is_blocked, parse_categories
from campaigns.models import NdncEntry


def write_csv(tmp_path, text: str, name: str = "ndnc.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "categories"),
    [("1,3", [1, 3]), ("3;1", [1, 3]), ("0", [0]), ("all", [0]), ("", [0]), ("2, 0", [0]), ("8", [8])],
)
def test_categories_are_read_as_people_write_them(text, categories):
    assert parse_categories(text) == categories


@pytest.mark.parametrize("text", ["9", "one", "1,x"])
def test_a_category_outside_ncpr_is_refused(text):
    with pytest.raises(CategoryError, match="is not an NCPR category"):
        parse_categories(text)


@pytest.mark.parametrize(
    ("blocked", "category", "refused"),
    [
        ([0], 5, True),  # fully blocked refuses every category
        ([1, 3], 3, True),  # a listed category is refused
        ([1, 3], 5, False),  # a category not listed goes through
        ([1, 3], 0, False),  # "others" is not a category the number listed
        ([], 5, True),  # on the register with nothing recorded: treated as fully blocked
    ],
)
def test_a_number_refuses_only_its_listed_categories_unless_fully_blocked(blocked, category, refused):
    assert is_blocked(blocked_categories=blocked, category=category) is refused


def test_blocked_mobiles_follow_the_category_rules_for_one_org(org, other_org):
    # given an org's register with a fully blocked, a partly blocked and an empty entry; another org's entry
    NdncEntry.objects.create(org=org, mobile="+919000000001", blocked_categories=[0])
    NdncEntry.objects.create(org=org, mobile="+919000000002", blocked_categories=[1, 3])
    NdncEntry.objects.create(org=org, mobile="+919000000003", blocked_categories=[])
    NdncEntry.objects.create(org=other_org, mobile="+919000000004", blocked_categories=[0])
    mobiles = ["+919000000001", "+919000000002", "+919000000003", "+919000000004", "+919000000005"]

    # when category 3 and category 5 senders check the same numbers, then only the right ones are blocked
    assert ndnc_blocked_mobiles(org=org, mobiles=mobiles, category=3) == {
        "+919000000001",
        "+919000000002",
        "+919000000003",
    }
    assert ndnc_blocked_mobiles(org=org, mobiles=mobiles, category=5) == {"+919000000001", "+919000000003"}


def test_import_normalises_numbers_reports_bad_rows_and_updates_on_reimport(tmp_path, org):
    # given a register file with numbers written differently, a bad number and a bad category
    path = write_csv(
        tmp_path,
        'Mobile,Categories\n98765 43210,"1,3"\n09123456789,0\n+91 90000 00001,all\n12345,1\n9000000002,12\n',
    )

    # when it is imported
    report = import_ndnc(path=path, org_id=org.pk)

    # then the numbers are stored in E.164 with their categories, and the bad rows are reported by line
    assert dict(NdncEntry.objects.filter(org=org).values_list("mobile", "blocked_categories")) == {
        "+919876543210": [1, 3],
        "+919123456789": [0],
        "+919000000001": [0],
    }
    assert [(e.line, e.value) for e in report.errors] == [(5, "12345"), (6, "12")]
    assert "too short" in report.errors[0].reason and "not an NCPR category" in report.errors[1].reason

    # when a later register changes a number's categories, then it is updated, not duplicated
    report = import_ndnc(path=write_csv(tmp_path, "mobile,categories\n9876543210,5\n", "b.csv"), org_id=org.pk)
    assert NdncEntry.objects.get(mobile="+919876543210").blocked_categories == [5]
    assert NdncEntry.objects.count() == 3 and (report.created, report.updated) == (0, 1)


def test_a_file_of_numbers_only_blocks_them_fully_and_repeats_are_combined(tmp_path, org):
    report = import_ndnc(path=write_csv(tmp_path, "msisdn\n9876543210\n9123456789\n"), org_id=org.pk)
    assert list(NdncEntry.objects.values_list("blocked_categories", flat=True)) == [[0], [0]]
    assert report.created == 2

    report = import_ndnc(
        path=write_csv(tmp_path, "mobile,category\n9000000001,1\n+919000000001,4\n", "c.csv"), org_id=org.pk
    )
    assert NdncEntry.objects.get(mobile="+919000000001").blocked_categories == [1, 4]
    assert report.merged == 1 and "same number as line 2" in report.notes[0].reason


def test_a_nul_byte_skips_its_row_with_the_reason_and_the_others_are_imported(tmp_path, org):
    path = write_csv(tmp_path, "mobile,categories\n9876543210,1\n9123456789,\x003\n9000000001,2\n")

    report = import_ndnc(path=path, org_id=org.pk)

    assert sorted(NdncEntry.objects.filter(org=org).values_list("mobile", flat=True)) == [
        "+919000000001",
        "+919876543210",
    ]
    assert [e.line for e in report.errors] == [3]
    assert "column “categories” holds a NUL character" in report.errors[0].reason


def test_a_register_without_a_mobile_column_is_refused(tmp_path, org):
    with pytest.raises(ImportFileError, match="needs a “mobile” column"):
        import_ndnc(path=write_csv(tmp_path, "number_of_things,categories\n"), org_id=org.pk)


def test_import_queries_grow_with_batches_not_numbers(tmp_path, org):
    def register(count: int, name: str):
        return write_csv(tmp_path, "mobile\n" + "".join(f"9{n:09d}\n" for n in range(count)), name)

    small, large = register(100, "s.csv"), register(400, "l.csv")
    with CaptureQueriesContext(connection) as small_queries:
        import_ndnc(path=small, org_id=org.pk, batch_size=100)
    with CaptureQueriesContext(connection) as large_queries:
        import_ndnc(path=large, org_id=org.pk, batch_size=100)
    assert len(large_queries) - len(small_queries) <= 3 * 5
    assert NdncEntry.objects.count() == 400


def test_command_imports_the_register_with_a_progress_bar(tmp_path, org):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_ndnc",
        str(write_csv(tmp_path, "mobile,categories\n9876543210,0\nabc,1\n")),
        "--org",
        org.name,
        stdout=out,
        stderr=err,
    )
    assert "1 numbers added to the NDNC register" in out.getvalue()
    assert "Skipped line 3: “abc” mobile number is not a phone number" in out.getvalue()
    assert "2/2 rows (100%)" in err.getvalue()
