"""No page shows a reason code ("undeliverable", "gateway_timeout") or a status value ("not_delivered"): a page says
what happened in the catalogue's words. Checked in the templates' text, and on the pages that show outcomes."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from campaigns.lifecycle import services
from delivery.models import Message
from delivery.reasons import REASONS
from tests.factories import create_campaign, make_customers
from tests.helpers import launch

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DJANGO_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.DOTALL)
HTML_TAG = re.compile(r"<[^<>]*>")
# Codes that are not plain English words: a page that shows one shows the code, not the reason.
RAW_CODES = sorted({code for code in REASONS if "_" in code} | {"undeliverable", "ndnc_precheck"})
# A code printed as it is stored: a reason code or a resend's reasons without a filter that puts them in words.
PRINTED_RAW = re.compile(r"\{\{\s*[\w.]*(reason_code|resend_reasons|receipt\.state)\s*(\|\s*join[^}]*)?\}\}")


def page_text(source: str) -> str:
    return HTML_TAG.sub(" ", DJANGO_TAG.sub(" ", source))


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.*")), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_no_template_writes_a_raw_code(path):
    source = path.read_text()

    words = set(re.findall(r"[a-z_]+", page_text(source)))
    assert not words & set(RAW_CODES)
    assert not PRINTED_RAW.search(source)


def test_a_resends_page_and_view_details_name_outcomes_in_words(
    client, manager, template, django_capture_on_commit_callbacks
):
    # given a campaign whose messages were undeliverable or got no delivery receipt, and a resend of them
    make_customers(template.org, 4)
    source = launch(create_campaign(template, manager), manager, django_capture_on_commit_callbacks)
    ids = list(Message.objects.filter(campaign=source).values_list("pk", flat=True))
    Message.objects.filter(pk__in=ids[:2]).update(status=Message.Status.NOT_DELIVERED, reason_code="undeliverable")
    Message.objects.filter(pk__in=ids[2:]).update(status=Message.Status.NOT_DELIVERED, reason_code="no_receipt")
    resend = services.campaign_resend_create(
        source=source,
        user=manager,
        name="Again",
        template=template,
        slot_values=source.slot_values,
        reasons=["undeliverable", "no_receipt"],
    )
    client.force_login(manager)

    # when the manager reads the resend's page, View Details and the resend form
    pages = [
        client.get(reverse("campaigns:detail", args=[resend.pk])).content.decode(),
        client.get(reverse("delivery:details", args=[source.pk, "not_delivered"])).content.decode(),
        client.get(reverse("campaigns:resend", args=[source.pk])).content.decode(),
    ]

    # then each names the outcomes in words, "No delivery receipt" alike, and shows no code
    for page in pages:
        text = page_text(page)
        assert "undeliverable" not in text and "no_receipt" not in text
        assert "No delivery receipt" in text
    assert "ended as: No delivery receipt, Gateway confirmed it cannot be delivered." in page_text(pages[0])
