"""Customer pages: org isolation, upload with progress, manual unsubscribes, segments with a live count, NDNC."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from campaigns.base.csv_imports import import_job_create, import_job_path
from campaigns.models import Customer, CustomerList, NdncEntry, Segment, Unsubscribe
from tests.factories import CustomerListFactory, SegmentFactory, make_customers
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


@pytest.fixture
def theirs(other_org):
    customer = Customer.objects.create(org=other_org, name="Their customer", mobile="+919111111111")
    customer_list = CustomerListFactory(org=other_org, name="Their list")
    segment = SegmentFactory(
        org=other_org, name="Their segment", conditions=[{"attribute": "city", "op": "eq", "value": "Pune"}]
    )
    return customer, customer_list, segment


def test_anonymous_visitors_are_sent_to_login(client, theirs):
    customer, customer_list, segment = theirs
    for url in (
        reverse("campaigns:customer-list"),
        reverse("campaigns:customer-detail", args=[customer.pk]),
        reverse("campaigns:customer-import"),
        reverse("campaigns:list-index"),
        reverse("campaigns:list-detail", args=[customer_list.pk]),
        reverse("campaigns:segment-index"),
        reverse("campaigns:segment-new"),
        reverse("campaigns:segment-detail", args=[segment.pk]),
        reverse("campaigns:ndnc"),
        reverse("campaigns:import-progress", args=["abc"]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url
    response = client.post(reverse("campaigns:customer-subscription", args=[customer.pk]), {"channel": "sms"})
    assert response.status_code == 302 and Customer.objects.get(pk=customer.pk).sms_subscribed


def test_a_manager_sees_only_their_orgs_customers_and_gets_404_for_others(signed_in, org, theirs):
    customer, customer_list, segment = theirs
    Customer.objects.create(org=org, name="Our customer", mobile="+919222222222")

    page = signed_in.get(reverse("campaigns:customer-list")).content.decode()
    assert "Our customer" in page and "Their customer" not in page
    assert "Their list" not in signed_in.get(reverse("campaigns:list-index")).content.decode()
    assert "Their segment" not in signed_in.get(reverse("campaigns:segment-index")).content.decode()
    for url in (
        reverse("campaigns:customer-detail", args=[customer.pk]),
        reverse("campaigns:list-detail", args=[customer_list.pk]),
        reverse("campaigns:segment-detail", args=[segment.pk]),
    ):
        assert signed_in.get(url).status_code == 404, url
    response = signed_in.post(
        reverse("campaigns:customer-subscription", args=[customer.pk]), {"channel": "sms", "action": "unsubscribe"}
    )
    assert response.status_code == 404 and Customer.objects.get(pk=customer.pk).sms_subscribed
    count = signed_in.get(reverse("campaigns:segment-count"), {"org": customer.org_id, "attribute_1": "city"})
    assert count.status_code == 404


def test_support_staff_see_every_org(client, support, org, theirs):
    customer, _, segment = theirs
    Customer.objects.create(org=org, name="Our customer", mobile="+919222222222")
    client.force_login(support)
    page = client.get(reverse("campaigns:customer-list")).content.decode()
    assert "Our customer" in page and "Their customer" in page
    assert client.get(reverse("campaigns:customer-detail", args=[customer.pk])).status_code == 200
    assert client.get(reverse("campaigns:segment-detail", args=[segment.pk])).status_code == 200


def test_customers_are_searched_and_paginated(signed_in, org):
    make_customers(org, 120)
    first = signed_in.get(reverse("campaigns:customer-list"))
    assert len(first.context["page"]) == 50 and "Page 1 of 3 (120 customers)" in first.content.decode()
    assert len(signed_in.get(reverse("campaigns:customer-list"), {"page": 3}).context["page"]) == 20
    by_number = signed_in.get(reverse("campaigns:customer-list"), {"q": "98100 00007"})
    assert [c.name for c in by_number.context["page"]] == ["Customer 7"]
    by_name = signed_in.get(reverse("campaigns:customer-list"), {"q": "customer 11"})
    assert {c.name for c in by_name.context["page"]} == {"Customer 11"} | {f"Customer {n}" for n in range(110, 120)}


def test_uploading_a_file_imports_it_and_shows_the_result_with_row_errors(
    signed_in, org, django_capture_on_commit_callbacks
):
    # given a file with two good rows and a bad one
    text = "mobile,name,city\n98765 43210,Asha,Pune\n123,Bad,Delhi\n09123456789,Ravi,Goa\n"

    # when the manager uploads it with a list name (the task runs in-process once the request commits)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in.post(
            reverse("campaigns:customer-import"), {"org": org.pk, "file": upload(text), "list_name": "Diwali"}
        )

    # then they are sent to the progress page, which shows the finished import and the row error
    assert len(callbacks) == 1 and response.status_code == 302
    page = signed_in.get(response["Location"])
    html = page.content.decode()
    assert page.context["job"]["status"] == "done"
    assert 'data-figure="processed">3<' in html and 'data-figure="total">3<' in html
    assert 'data-figure="created">2<' in html and 'data-figure="errors">1<' in html
    assert "mobile number is too short" in html and "<td>3</td><td>123</td>" in html
    assert "data-reload-seconds" not in html
    assert set(Customer.objects.filter(org=org).values_list("name", flat=True)) == {"Asha", "Ravi"}
    assert CustomerList.objects.get(org=org, name="Diwali").customers.count() == 2
    # and the uploaded file is not kept once imported
    job_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert not import_job_path(job_id).exists()


def test_a_running_import_page_refreshes_itself_and_shows_progress(signed_in, org):
    job_id = import_job_create(kind="customers", org_id=org.pk, user_id=None, upload=upload("mobile\n"), options={})
    html = signed_in.get(reverse("campaigns:import-progress", args=[job_id])).content.decode()
    assert "data-reload-seconds" in html and "Waiting to start the import" in html
    status = signed_in.get(reverse("campaigns:import-progress", args=[job_id]), {"format": "json"}).json()
    assert status["status"] == "queued"


def test_another_orgs_import_is_not_found(signed_in, other_org):
    job_id = import_job_create(kind="customers", org_id=other_org.pk, user_id=None, upload=upload("x"), options={})
    assert signed_in.get(reverse("campaigns:import-progress", args=[job_id])).status_code == 404
    assert signed_in.get(reverse("campaigns:import-progress", args=["no-such-job"])).status_code == 404


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("customers.csv", "name,city\nAsha,Pune\n", "needs a “mobile” or an “email” column"),
        ("customers.xlsx", "mobile\n9876543210\n", "Upload a .csv file"),
        ("customers.csv", "", "The submitted file is empty"),
    ],
)
def test_an_unusable_file_is_refused_next_to_the_upload_field(
    signed_in, org, name, text, message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in.post(reverse("campaigns:customer-import"), {"org": org.pk, "file": upload(text, name)})
    assert response.status_code == 200 and callbacks == []
    assert message in " ".join(response.context["form"].errors["file"])
    assert not Customer.objects.exists()


def test_a_file_whose_first_line_is_megabytes_long_is_refused_at_once_in_words(
    signed_in, org, django_capture_on_commit_callbacks
):
    # given a 20 MB first line of column names, no line break in sight
    text = "mobile" + ",column" * 3_000_000 + "\n9876543210\n"

    # when the manager uploads it
    with within_seconds(10), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in.post(reverse("campaigns:customer-import"), {"org": org.pk, "file": upload(text)})

    # then the page answers at once with the reason next to the upload field, and no import is queued
    assert response.status_code == 200 and callbacks == []
    assert "The first line is longer than 10,000 characters — is this a CSV file?" in response.content.decode()
    assert not Customer.objects.exists()


def test_the_upload_reads_only_the_first_line_and_the_import_task_the_rest(
    signed_in, org, django_capture_on_commit_callbacks
):
    # given a file that stops being UTF-8 far below its first line
    text = "mobile,name\n" + "9876543210,Asha\n" * 20_000
    data = text.encode() + "9123456789,José\n".encode("latin-1")

    # when the manager uploads it
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = signed_in.post(
            reverse("campaigns:customer-import"),
            {"org": org.pk, "file": SimpleUploadedFile("customers.csv", data, content_type="text/csv")},
        )

    # then the request queued the import without reading the file through, and the import says what is wrong
    assert response.status_code == 302 and len(callbacks) == 1
    page = signed_in.get(response["Location"])
    assert page.context["job"]["status"] == "failed"
    assert "The file is not UTF-8 text" in page.content.decode()


def test_a_manager_cannot_import_into_another_org(signed_in, other_org):
    response = signed_in.post(
        reverse("campaigns:customer-import"), {"org": other_org.pk, "file": upload("mobile\n9876543210\n")}
    )
    assert response.status_code == 200 and "org" in response.context["form"].errors
    assert not Customer.objects.exists()


def test_manual_unsubscribe_and_resubscribe_per_channel(signed_in, org, manager):
    customer = Customer.objects.create(org=org, name="Asha", mobile="+919000000001", email="asha@example.com")
    url = reverse("campaigns:customer-subscription", args=[customer.pk])

    # when the manager unsubscribes the customer from SMS with a note
    response = signed_in.post(url, {"channel": "sms", "action": "unsubscribe", "note": "called support"})

    # then SMS is off, email on, and the history shows how and who
    assert response.status_code == 302 and response["Location"] == reverse(
        "campaigns:customer-detail", args=[customer.pk]
    )
    customer.refresh_from_db()
    assert not customer.sms_subscribed and customer.email_subscribed
    record = Unsubscribe.objects.get(customer=customer)
    assert record.source == "manual" and record.note == "by manager@acme.test — called support"
    page = signed_in.get(response["Location"]).content.decode()
    assert "Subscribe to SMS again" in page and "by manager@acme.test — called support" in page

    # when they subscribe the customer again, then SMS is on and the history remains
    signed_in.post(url, {"channel": "sms", "action": "resubscribe"})
    customer.refresh_from_db()
    assert customer.sms_subscribed and Unsubscribe.objects.count() == 1


def test_subscription_changes_need_post_and_csrf(manager, org):
    customer = Customer.objects.create(org=org, name="Asha", mobile="+919000000001")
    url = reverse("campaigns:customer-subscription", args=[customer.pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    assert client.get(url).status_code == 405
    assert client.post(url, {"channel": "sms", "action": "unsubscribe"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).sms_subscribed


def test_a_segment_is_created_with_a_live_count_and_bad_conditions_are_refused(signed_in, org):
    make_customers(org, 3)
    Customer.objects.filter(name="Customer 1").update(attributes={"city": "Pune"})
    Customer.objects.filter(name="Customer 2").update(attributes={"city": "pune"})

    # the live count answers as the manager types
    live = signed_in.get(
        reverse("campaigns:segment-count"), {"org": org.pk, "attribute_1": "city", "op_1": "eq", "value_1": "Pune"}
    ).json()
    assert live == {"count": 2, "errors": []}
    bad = signed_in.get(
        reverse("campaigns:segment-count"), {"org": org.pk, "attribute_1": "city", "op_1": "like", "value_1": "P"}
    ).json()
    assert bad["count"] is None and "“like” is not a comparison" in bad["errors"][0]

    # a bad condition is refused on the form, nothing saved
    response = signed_in.post(
        reverse("campaigns:segment-new"),
        {"org": org.pk, "name": "Pune", "attribute_1": "city", "op_1": "in", "value_1": " , "},
    )
    assert response.status_code == 200 and "needs at least one value" in response.content.decode()
    assert not Segment.objects.exists()

    # previewing counts without saving; saving creates it and shows its customers
    preview = signed_in.post(
        reverse("campaigns:segment-new"),
        {"org": org.pk, "attribute_1": "city", "op_1": "eq", "value_1": "pune", "preview": "1"},
    )
    assert preview.context["count"] == 2 and not Segment.objects.exists()
    saved = signed_in.post(
        reverse("campaigns:segment-new"),
        {"org": org.pk, "name": "Pune", "attribute_1": "city", "op_1": "eq", "value_1": "pune", "save": "1"},
    )
    segment = Segment.objects.get(org=org, name="Pune")
    assert saved["Location"] == reverse("campaigns:segment-detail", args=[segment.pk])
    detail = signed_in.get(saved["Location"]).content.decode()
    assert 'data-figure="segment_count">2<' in detail

    # the same name again is refused in words
    again = signed_in.post(
        reverse("campaigns:segment-new"),
        {"org": org.pk, "name": "Pune", "attribute_1": "city", "op_1": "eq", "value_1": "x", "save": "1"},
    )
    assert "There is already a segment called “Pune”" in again.content.decode()


def test_lists_show_their_customers(signed_in, org):
    customers = make_customers(org, 3)
    customer_list = CustomerListFactory(org=org, name="VIP")
    customer_list.customers.add(customers[0], customers[2])
    assert "<td>2</td>" in signed_in.get(reverse("campaigns:list-index")).content.decode()
    page = signed_in.get(reverse("campaigns:list-detail", args=[customer_list.pk]))
    assert [c.name for c in page.context["page"]] == ["Customer 1", "Customer 3"]


def test_ndnc_upload_and_lookup(signed_in, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(
            reverse("campaigns:ndnc"),
            {"org": org.pk, "file": upload('mobile,categories\n9876543210,"1,3"\n9123456789,0\nbad,1\n', "dnd.csv")},
        )
    progress = signed_in.get(response["Location"])
    assert progress.context["job"]["status"] == "done" and progress.context["report"]["created"] == 2
    assert "NDNC register import" in progress.content.decode()
    assert NdncEntry.objects.get(org=org, mobile="+919876543210").blocked_categories == [1, 3]

    page = signed_in.get(reverse("campaigns:ndnc"), {"q": "98765 43210"}).content.decode()
    assert "blocks categories 1, 3" in page and 'data-figure="ndnc_count">2<' in page
    assert "fully blocked" in signed_in.get(reverse("campaigns:ndnc"), {"q": "09123456789"}).content.decode()


def test_another_orgs_ndnc_numbers_are_not_shown(signed_in, other_org):
    NdncEntry.objects.create(org=other_org, mobile="+919876543210", blocked_categories=[0])
    page = signed_in.get(reverse("campaigns:ndnc"), {"q": "9876543210"}).content.decode()
    assert "is not on the register" in page and "ndnc_count" not in page


def test_an_import_that_breaks_midway_says_so_and_can_be_run_again(signed_in, org, monkeypatch):
    from campaigns.customers import customer_import
    from campaigns.customers.tasks import customers_import_task

    # given an upload whose import fails on our side after it started
    job_id = import_job_create(
        kind="customers", org_id=org.pk, user_id=None, upload=upload("mobile\n9876543210\n"), options={}
    )

    def broken_batch(*args, **kwargs):
        raise RuntimeError("database went away")

    # when the task runs, then the page says it stopped and what to do, in words
    with monkeypatch.context() as patch:
        patch.setattr(customer_import, "_import_batch", broken_batch)
        customers_import_task(job_id)
    html = signed_in.get(reverse("campaigns:import-progress", args=[job_id])).content.decode()
    assert "The import stopped after" in html and "Upload the file again" in html

    # and running the finished task again does nothing
    customers_import_task(job_id)
    assert not Customer.objects.exists()
