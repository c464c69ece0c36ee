"""A variable may read a customer field only if some customer has it; recipients whose field is empty get the
fallback the campaign chose (the preview says how many), in the preview, in tests and in the messages sent."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign, Customer
from delivery.models import Message
from tests.factories import create_campaign, make_customers
from tests.helpers import launch

CITY_SLOTS = [{"source": "field", "value": "city"}, {"source": "url", "value": "https://acme.test/t"}]


@pytest.fixture
def with_cities(org) -> list[Customer]:
    """Ten customers, the first seven in Pune, the last three with no city."""
    customers = make_customers(org, 10)
    for customer in customers[:7]:
        customer.attributes = {"city": "Pune"}
    Customer.objects.bulk_update(customers, ["attributes"])
    return customers


def test_a_field_no_customer_has_is_refused_next_to_its_variable(template, manager, with_cities):
    with pytest.raises(ValidationError) as refused:
        create_campaign(template, manager, slot_values=[{"source": "field", "value": "first_name_typo"}, CITY_SLOTS[1]])

    assert refused.value.message_dict == {
        "slot_1_value": [
            "No customer of Acme Retail has the field 'first_name_typo'. "
            "The fields are: name, mobile, email, external_id, city."
        ]
    }


def test_an_attribute_some_customer_has_and_the_standard_fields_are_accepted(template, manager, with_cities):
    assert create_campaign(template, manager, slot_values=CITY_SLOTS).pk
    assert create_campaign(template, manager, slot_values=[{"source": "field", "value": "email"}, CITY_SLOTS[1]]).pk


def test_coupon_fields_only_in_a_coupon_reminder(template, manager, with_cities):
    coupon = [{"source": "field", "value": "coupon_code"}, CITY_SLOTS[1]]
    with pytest.raises(ValidationError, match="filled only in a coupon-expiry reminder"):
        create_campaign(template, manager, slot_values=coupon)
    reminder = create_campaign(template, manager, slot_values=coupon, kind=Campaign.Kind.COUPON_REMINDER, coupon_days=3)
    assert reminder.pk


def test_the_campaign_form_shows_the_refusal_next_to_the_variable_and_keeps_what_was_typed(
    client, template, manager, with_cities
):
    client.force_login(manager)
    response = client.post(
        f"{reverse('campaigns:new')}?template={template.pk}",
        {
            "name": "Typo",
            "slot_1_source": "field",
            "slot_1_value": "first_name_typo",
            "slot_2_source": "url",
            "slot_2_value": "https://acme.test/t",
            "kind": "one_time",
        },
    )

    page = response.content.decode()
    fieldset = page.split('for="id_slot_1_value"')[1].split("</fieldset>")[0]
    assert "No customer of Acme Retail has the field &#x27;first_name_typo&#x27;" in fieldset
    assert 'value="first_name_typo"' in fieldset
    assert not Campaign.objects.filter(name="Typo").exists()


def test_the_preview_counts_empty_fields_and_the_fallback_reaches_the_messages(
    client, org, template, manager, with_cities, django_capture_on_commit_callbacks
):
    # given a campaign greeting each customer by city, three of ten having none
    campaign = create_campaign(template, manager, slot_values=CITY_SLOTS)
    client.force_login(manager)

    # when the manager opens the preview, it says for how many the field is empty
    page = client.get(reverse("campaigns:preview", args=[campaign.pk])).content.decode()
    assert 'data-figure="empty_1">3</strong> of 10 recipients' in page
    assert "Empty: they get nothing in this variable." in page

    # when they choose what those recipients get instead
    response = client.post(reverse("campaigns:fallbacks", args=[campaign.pk]), {"fallback_1": "  our  city "})

    # then it is kept on the campaign's variables, and the preview of such a customer shows it
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.slot_values[0] == {"source": "field", "value": "city", "fallback": "our city"}
    no_city = with_cities[-1]
    page = client.get(reverse("campaigns:preview", args=[campaign.pk]) + f"?customer={no_city.pk}").content.decode()
    assert "Hi our city, your order has shipped." in page and "They get “our city”." in page

    # and once launched, their messages carry it, the others their city
    launch(campaign, manager, django_capture_on_commit_callbacks)
    bodies = dict(Message.objects.filter(campaign=campaign).values_list("customer_id", "body"))
    assert bodies[no_city.pk].startswith("Hi our city, your order")
    assert bodies[with_cities[0].pk].startswith("Hi Pune, your order")


def test_a_fallback_that_does_not_fit_its_variable_is_refused(template, manager, with_cities):
    campaign = create_campaign(template, manager, slot_values=CITY_SLOTS)

    with pytest.raises(ValidationError, match="Variable 1: When the field is empty: This value is 31 characters"):
        campaign_services.campaign_fallbacks_set(campaign=campaign, user=manager, fallbacks={1: "x" * 31})
    with pytest.raises(ValidationError, match="Variable 2 does not read a customer field"):
        campaign_services.campaign_fallbacks_set(campaign=campaign, user=manager, fallbacks={2: "there"})


def test_the_campaign_form_keeps_a_fallback_when_the_campaign_is_changed(client, template, manager, with_cities):
    campaign = create_campaign(template, manager, slot_values=[{**CITY_SLOTS[0], "fallback": "there"}, CITY_SLOTS[1]])
    client.force_login(manager)

    page = client.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()

    assert 'name="slot_1_fallback" value="there"' in page


def test_only_members_set_fallbacks(client, template, manager, with_cities, outsider):
    campaign = create_campaign(template, manager, slot_values=CITY_SLOTS)
    client.force_login(outsider)
    assert client.post(reverse("campaigns:fallbacks", args=[campaign.pk]), {"fallback_1": "x"}).status_code == 404
