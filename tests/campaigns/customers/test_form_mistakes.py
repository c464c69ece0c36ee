"""The segment and customer import forms show every mistake at once, listed at the top."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.models import Segment


def _summary(page: str) -> str:
    start = page.index('id="error-summary"')
    return page[start : page.index("</div>", start)]


def test_a_segment_with_three_bad_conditions_shows_all_three(client, manager, org):
    client.force_login(manager)

    response = client.post(
        reverse("campaigns:segment-new"),
        {
            "org": org.pk,
            "name": "Pune",
            "attribute_1": "city name",  # not an attribute name
            "value_1": "Pune",
            "attribute_2": "tier",  # no value
            "behaviour_1": "clicked",  # no number of days
        },
    )

    summary = _summary(response.content.decode())
    assert not Segment.objects.exists()
    assert summary.count("<li>") == 3
    assert "Condition 1" in summary and "Condition 2" in summary


def test_a_customer_import_with_two_mistakes_shows_both(client, manager, org):
    client.force_login(manager)

    response = client.post(
        reverse("campaigns:customer-import"),
        {"org": org.pk, "file": SimpleUploadedFile("customers.xlsx", b"x"), "list_name": "L" * 201},
    )

    summary = _summary(response.content.decode())
    assert summary.count("<li>") == 2
    assert "Upload a .csv file" in summary and "at most 200 characters" in summary
