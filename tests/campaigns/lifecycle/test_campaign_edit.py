"""A draft campaign can be changed and deleted; a launched one keeps its messages and report."""

from django.urls import reverse

from campaigns.customers.audience import customer_list_delete
from campaigns.models import Campaign
from delivery.models import Message
from tests.campaigns.helpers import edit_form
from tests.factories import CustomerListFactory, create_campaign
from tests.helpers import launch


def test_manager_changes_a_drafts_name_link_and_audience(client, manager, template):
    campaign = create_campaign(template, manager, name="Diwali")
    vip = CustomerListFactory(org=template.org, name="VIP")
    client.force_login(manager)
    form_page = client.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()
    assert 'value="Diwali"' in form_page and "https://acme.test/t" in form_page

    response = client.post(
        reverse("campaigns:edit", args=[campaign.pk]),
        edit_form(campaign, name="Diwali VIP", slot_2_value="https://acme.test/vip", audience_list=vip.pk),
    )

    campaign.refresh_from_db()
    assert response.status_code == 302 and campaign.name == "Diwali VIP"
    assert campaign.slot_values[1] == {"source": "url", "value": "https://acme.test/vip"}
    assert campaign.audience_list == vip and campaign.status == Campaign.Status.DRAFT
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Audience: list VIP." in page and "Campaign changed" in page


def test_a_change_that_breaks_dlt_is_shown_next_to_the_variable_and_nothing_changes(client, manager, template):
    campaign = create_campaign(template, manager, name="Diwali")
    client.force_login(manager)

    too_long = "Festive greetings from all of us at Acme"  # 40 characters: over the 30 of a {#var#}
    response = client.post(
        reverse("campaigns:edit", args=[campaign.pk]), edit_form(campaign, slot_1_source="text", slot_1_value=too_long)
    )

    assert response.status_code == 200 and "Variable 1" in response.content.decode()
    assert "errorlist" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.slot_values[0] == {"source": "field", "value": "name"}


def test_a_launched_campaign_cannot_be_changed_or_deleted(
    client, manager, template, customers, django_capture_on_commit_callbacks
):
    campaign = launch(create_campaign(template, manager, name="Sent"), manager, django_capture_on_commit_callbacks)
    client.force_login(manager)

    edit = client.post(reverse("campaigns:edit", args=[campaign.pk]), edit_form(campaign, name="Changed"))
    delete = client.post(reverse("campaigns:delete", args=[campaign.pk]), follow=True)

    campaign.refresh_from_db()
    assert edit.status_code == 302 and campaign.name == "Sent"
    assert "cannot be deleted" in delete.content.decode()
    assert Message.objects.filter(campaign=campaign).count() == len(customers)


def test_manager_deletes_a_draft(client, manager, template):
    campaign = create_campaign(template, manager, name="Never sent")
    client.force_login(manager)

    response = client.post(reverse("campaigns:delete", args=[campaign.pk]), follow=True)

    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert "Campaign “Never sent” deleted." in response.content.decode()


def test_delete_needs_a_post(client, manager, template):
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    assert client.get(reverse("campaigns:delete", args=[campaign.pk])).status_code == 405
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_another_orgs_draft_is_not_found_and_anonymous_goes_to_login(client, outsider, manager, template):
    campaign = create_campaign(template, manager)
    edit, delete = reverse("campaigns:edit", args=[campaign.pk]), reverse("campaigns:delete", args=[campaign.pk])

    assert client.get(edit).url.startswith(reverse("login"))
    client.force_login(outsider)
    assert client.get(edit).status_code == 404
    assert client.post(edit, edit_form(campaign, name="Mine now")).status_code == 404
    assert client.post(delete).status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).name == campaign.name


def test_a_finished_campaign_still_says_who_it_went_to_after_its_list_is_deleted(
    client, manager, template, customers, django_capture_on_commit_callbacks
):
    vip = CustomerListFactory(org=template.org, name="VIP")
    vip.customers.add(*customers[:3])
    campaign = launch(
        create_campaign(template, manager, audience_list=vip), manager, django_capture_on_commit_callbacks
    )
    customer_list_delete(customer_list=vip)
    client.force_login(manager)

    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()

    assert "Audience: list VIP." in page
    assert Message.objects.filter(campaign=campaign).count() == 3
