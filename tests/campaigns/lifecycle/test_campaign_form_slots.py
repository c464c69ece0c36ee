"""The campaign form checks each value against its variable, next to that value's field."""

from django.urls import reverse

from campaigns.models import Campaign, Template


def test_numeric_variable_given_letters_is_refused_next_to_its_value(client, manager, org, sender):
    template = Template.objects.create(org=org, name="OTP", sender=sender, body="Code {#numeric#} for {#var#}")
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {
            "name": "Codes",
            "slot_1_source": "text",
            "slot_1_value": "12ab",
            "slot_2_source": "text",
            "slot_2_value": "Asha",
            "kind": "one_time",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "slot_1_value": ["'12ab' does not fit this variable: a {#numeric#} variable takes digits only."]
    }
    assert not Campaign.objects.exists()


def test_a_link_value_that_is_not_a_link_is_refused(client, manager, template):
    client.force_login(manager)
    response = client.post(
        reverse("campaigns:new") + f"?template={template.pk}",
        {
            "name": "Bad link",
            "slot_1_source": "text",
            "slot_1_value": "Asha",
            "slot_2_source": "url",
            "slot_2_value": "track your order",
            "kind": "one_time",
        },
    )
    assert response.context["form"].errors == {
        "slot_2_value": ["'track your order' is not a web link: write one link such as https://shop.example.in/sale."]
    }
