"""A customer import's progress: rows of the total and skipped so far, 100% only once finished; the skipped rows by
line and as a CSV download; and in the embedded mode the upload answers before the import has run."""

import csv
import io
import re
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.base.csv_imports import import_job_create, import_job_get, import_job_save
from campaigns.customers import tasks as import_tasks
from campaigns.customers.views import import_percent
from campaigns.models import Customer
from linktrack.celery import background_threads
from tests.time_limit import within_seconds


def upload(text: str, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture(autouse=True)
def _uploads_in_a_temporary_folder(settings, tmp_path):
    settings.IMPORT_FILES_DIR = tmp_path


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


# Line 2's number belongs to a stored customer with another external id (refused when its batch is stored), line 3
# and line 5 cannot be read as numbers (refused as they are read, before line 2's batch): found in the order 3, 5, 2.
OUT_OF_ORDER = "external_id,mobile,name\nX2,9876543210,Taken\nX3,123,Short\nX4,9123456789,Fine\nX5,45,Shorter\n"


def _import(signed_in, org, text, capture) -> str:
    with capture(execute=True):
        response = signed_in.post(reverse("campaigns:customer-import"), {"org": org.pk, "file": upload(text)})
    assert response.status_code == 302
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_skipped_rows_are_listed_by_line_and_downloaded_as_csv(signed_in, org, django_capture_on_commit_callbacks):
    # given a stored customer who has the number of line 2
    Customer.objects.create(org=org, external_id="X1", mobile="+919876543210", name="Owner")

    # when the file is imported
    job_id = _import(signed_in, org, OUT_OF_ORDER, django_capture_on_commit_callbacks)

    # then the page lists the three skipped rows by line, and says so of the total
    page = signed_in.get(reverse("campaigns:import-progress", args=[job_id])).content.decode()
    lines = [int(line) for line in re.findall(r'<tr class="row-error"><td>(\d+)</td>', page)]
    assert lines == [2, 3, 5]
    assert 'data-figure="skipped">3<' in page and 'data-figure="percent">100<' in page
    # and the CSV download has the same rows in the same order, with the reason in words
    response = signed_in.get(reverse("campaigns:import-skipped", args=[job_id]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["line", "value", "reason"]
    assert [row[0] for row in rows[1:]] == ["2", "3", "5"]
    assert "already belongs to another customer" in rows[1][2] and "too short" in rows[2][2]
    assert response["Content-Disposition"] == f'attachment; filename="import-customers-{job_id}-skipped.csv"'


def test_the_csv_has_every_skipped_row_beyond_those_the_page_lists(
    signed_in, org, django_capture_on_commit_callbacks, monkeypatch
):
    # given an import that keeps only 2 skipped rows on its page
    monkeypatch.setattr("campaigns.base.csv_imports.ImportReport.MAX_KEPT_ERRORS", 2)
    job_id = _import(signed_in, org, "mobile\n1\n22\n333\n9876543210\n", django_capture_on_commit_callbacks)

    page = signed_in.get(reverse("campaigns:import-progress", args=[job_id])).content.decode()
    response = signed_in.get(reverse("campaigns:import-skipped", args=[job_id]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert page.count('class="row-error"') == 2 and "… and 1 more: the CSV above lists every one." in page
    assert [row[0] for row in rows[1:]] == ["2", "3", "4"]


def test_another_orgs_skipped_rows_are_not_found(signed_in, other_org):
    job_id = import_job_create(kind="customers", org_id=other_org.pk, user_id=None, upload=upload("x"), options={})
    assert signed_in.get(reverse("campaigns:import-skipped", args=[job_id])).status_code == 404


def test_a_running_import_shows_rows_of_the_total_and_skipped_so_far_never_100(signed_in, org):
    # given an import that has processed every row but has not finished yet
    job_id = import_job_create(kind="customers", org_id=org.pk, user_id=None, upload=upload("mobile\n"), options={})
    job = import_job_get(job_id)
    job["status"] = "running"
    job["report"].update(total_rows=200, processed=200, error_count=7)
    import_job_save(job)

    page = signed_in.get(reverse("campaigns:import-progress", args=[job_id])).content.decode()
    status = signed_in.get(reverse("campaigns:import-progress", args=[job_id]), {"format": "json"}).json()

    assert 'data-figure="processed">200<' in page and 'data-figure="total">200<' in page
    assert 'data-figure="skipped">7</strong> skipped so far' in page and 'value="99"' in page
    assert status == {"status": "running", "processed": 200, "total": 200, "skipped": 7, "percent": 99}


@pytest.mark.parametrize(
    ("processed", "total", "done", "percent"),
    [(0, 0, False, 0), (0, 100_000, False, 0), (99_999, 100_000, False, 99), (100_000, 100_000, False, 99),
     (100_000, 100_000, True, 100), (0, 0, True, 100)],
)  # fmt: skip
def test_the_percentage_is_rounded_down_and_100_only_once_done(processed, total, done, percent):
    assert import_percent(processed=processed, total=total, done=done) == percent


def test_in_the_embedded_mode_the_upload_answers_before_the_import_runs(
    transactional_db, client, manager, org, settings, monkeypatch
):
    # given the embedded mode's background threads, and an import that waits until the test lets it go
    settings.TASKS_IN_BACKGROUND_THREAD = True
    go = threading.Event()
    real_import = import_tasks.import_customers

    def held_import(**kwargs):
        assert go.wait(30)
        return real_import(**kwargs)

    monkeypatch.setattr(import_tasks, "import_customers", held_import)
    client.force_login(manager)
    rows = "".join(f"98{n:08d},Customer {n}\n" for n in range(1, 2001))

    # when the manager uploads 2,000 rows
    with within_seconds(5):
        response = client.post(
            reverse("campaigns:customer-import"), {"org": org.pk, "file": upload("mobile,name\n" + rows)}
        )
        page = client.get(response["Location"]).content.decode()

    # then the progress page is there at once, before a row is imported
    assert 'data-status="queued"' in page or 'data-status="running"' in page
    assert "data-reload-seconds" in page and not Customer.objects.filter(org=org).exists()
    # and once the import runs, the page shows it finished
    go.set()
    background_threads.wait()
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page and 'data-figure="created">2000<' in page
    assert Customer.objects.filter(org=org).count() == 2000
