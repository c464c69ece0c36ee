"""A template without its sender (header) or 19-digit DLT template id can be saved as a draft, but nothing goes out
with it: launch, each recurring run, a resend's launch and a test are refused with the missing piece named."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.dlt.template_services import template_save
from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign, Template
from campaigns.sending import starts
from campaigns.sending.test_sends import ProofRefused, proof_send
from delivery.models import Message
from tests.factories import TemplateFactory, create_campaign, dispatched_campaign, make_customers
from tests.helpers import launch

BODY = "Hi {#var#}, your order has shipped. Track it: {#var#} - Acme"


def _incomplete(template: Template, **fields) -> Template:
    Template.objects.filter(pk=template.pk).update(**fields)
    template.refresh_from_db()
    return template


def test_a_template_without_sender_or_dlt_id_is_saved_as_a_draft(org, manager):
    # when a manager saves an SMS template before DLT has approved it
    template = template_save(
        org=org, user=manager, name="Draft", channel="sms", sender=None, dlt_template_id="", subject="",
        body=BODY, html_body="",
    )  # fmt: skip

    # then it is kept, without them
    assert template.pk and template.sender is None and template.dlt_template_id == ""


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"sender": None}, "it has no sender (header)"),
        ({"dlt_template_id": ""}, "it has no 19-digit DLT template id"),
        ({"sender": None, "dlt_template_id": ""}, "it has no sender (header) and no 19-digit DLT template id"),
    ],
)
def test_launching_with_an_incomplete_template_is_refused_with_the_missing_piece_named(
    template, manager, customers, fields, named, django_capture_on_commit_callbacks
):
    # given a draft whose template lost a piece operators need
    campaign = create_campaign(template, manager)
    _incomplete(template, **fields)

    # when it is launched, then it is refused in words and nothing is sent
    with pytest.raises(ValidationError, match=re.escape(named)), django_capture_on_commit_callbacks(execute=True):
        campaign_services.campaign_launch(campaign=campaign, user=manager)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()


def test_a_sender_without_its_dlt_pe_id_is_incomplete(template, manager, customers):
    campaign = create_campaign(template, manager)
    template.sender.dlt_entity_id = ""
    template.sender.save()

    with pytest.raises(ValidationError, match=r"a sender \(ACMERT\) without its 19-digit DLT PE id"):
        campaign_services.campaign_launch(campaign=campaign, user=manager)


def test_a_recurring_run_is_skipped_while_its_template_is_incomplete(
    template, manager, clock, django_capture_on_commit_callbacks
):
    # given an active recurring campaign whose template then loses its DLT template id
    make_customers(template.org, 3)
    parent = launch(
        create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="*/5 * * * *"),
        manager,
        django_capture_on_commit_callbacks,
    )
    _incomplete(template, dlt_template_id="")

    # when its run is due
    clock.set(2026, 11, 23, 12, 5)
    run = starts.campaign_run_start(parent_id=parent.pk)

    # then the run is skipped, and its page says why
    parent.refresh_from_db()
    assert run is None and not parent.runs.exists()
    assert "skipped" in parent.hold_reason and "no 19-digit DLT template id" in parent.hold_reason


def test_a_scheduled_campaign_goes_back_to_draft_when_its_template_lost_its_sender(template, manager, customers, clock):
    campaign = create_campaign(template, manager)
    campaign_services.campaign_launch(campaign=campaign, user=manager, scheduled_at=clock.moment + timedelta(hours=1))
    _incomplete(template, sender=None)

    clock.set(2026, 11, 23, 13, 1)  # an hour and a minute later
    assert starts.campaign_scheduled_start(campaign_id=campaign.pk) is False

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and "no sender (header)" in campaign.hold_reason


def test_a_resend_with_an_incomplete_template_is_refused_at_launch(org, template, manager):
    # given a finished campaign, and a resend of it with a template that has no sender
    source = dispatched_campaign(template)
    Message.objects.filter(campaign=source).update(status="not_delivered", reason_code="gateway_timeout")
    incomplete = TemplateFactory(org=org, name="No header", sender=None, dlt_template_id="", body=BODY)
    resend = campaign_services.campaign_resend_create(
        source=source, user=manager, name="Again", template=incomplete,
        slot_values=[{"source": "field", "value": "name"}, {"source": "url", "value": "https://acme.test/sale"}],
        reasons=["gateway_timeout"],
    )  # fmt: skip

    # when it is launched, then it is refused in words
    with pytest.raises(ValidationError, match="“No header” is incomplete: it has no sender"):
        campaign_services.campaign_launch(campaign=resend, user=manager)
    assert not Message.objects.filter(campaign=resend).exists()


def test_a_test_send_with_an_incomplete_template_is_refused_and_costs_nothing(org, template, manager, customers):
    campaign = create_campaign(template, manager)
    _incomplete(template, dlt_template_id="17071600")
    credits = org.credits

    with pytest.raises(ProofRefused, match="Not sent: The template “Order shipped” is incomplete"):
        proof_send(campaign=campaign, user=manager, recipients=["+919810000001"])

    org.refresh_from_db()
    assert org.credits == credits
    assert not Message.with_proofs.filter(campaign=campaign).exists()


def test_an_email_template_without_a_subject_is_refused_at_launch(org, manager, customers):
    template = TemplateFactory(org=org, channel="email", name="News", subject="", body="Hello {#var#}")
    campaign = create_campaign(template, manager, slot_values=[{"source": "field", "value": "name"}])

    with pytest.raises(ValidationError, match="“News” is incomplete: it has no subject"):
        campaign_services.campaign_launch(campaign=campaign, user=manager)


def test_the_template_list_marks_incomplete_templates_and_the_preview_warns(client, org, template, manager, customers):
    # given a complete template and an incomplete one, each used by a draft
    incomplete = TemplateFactory(org=org, name="No header", sender=None, dlt_template_id="", body=BODY)
    draft = create_campaign(incomplete, manager)
    client.force_login(manager)

    # when the manager opens the template list
    page = client.get(reverse("campaigns:template-list")).content.decode()

    # then the incomplete one is marked, with what it lacks, and the complete one is ready
    complete_cell = page.split(f'data-complete="{template.pk}">')[1].split("</td>")[0]
    incomplete_cell = page.split(f'data-complete="{incomplete.pk}">')[1].split("</td>")[0]
    assert "Yes" in complete_cell
    assert "Incomplete" in incomplete_cell and "no sender (header) and no 19-digit DLT template id" in incomplete_cell

    # and the draft's preview says launching will be refused
    preview = client.get(reverse("campaigns:preview", args=[draft.pk])).content.decode()
    assert 'id="template-incomplete"' in preview and "“No header” is incomplete" in preview
