"""An erased customer is left out of every audience; an unsubscribe outlives their erasure and a new import."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.customers.customer_import import import_customers
from campaigns.customers.erasure import customer_erase
from campaigns.customers.segments import customers_matching
from campaigns.customers.unsubscribes import customer_unsubscribe
from campaigns.lifecycle import services
from campaigns.models import Customer, Unsubscribe
from campaigns.sending.preview import campaign_preview
from delivery.models import Message
from tests.campaigns.customers.erasure.helpers import EMAIL, MOBILE, NAME, NATIONAL
from tests.factories import create_campaign
from tests.helpers import launch

# --- Left out of every audience ------------------------------------------------------------------------------------


def test_an_erased_customer_is_left_out_of_new_campaigns_and_counted_nowhere(
    manager, template, sent, asha, others, django_capture_on_commit_callbacks
):
    # given Asha erased (her message of the first campaign failed, so a resend would target it)
    customer_erase(customer=asha, user=manager)

    # when a new campaign to every customer is previewed and sent, and a resend of the failed messages too
    campaign = create_campaign(template, manager, name="Winter")
    assert campaign_preview(campaign=campaign).recipients == len(others)
    campaign = launch(campaign, manager, django_capture_on_commit_callbacks)
    # (her failed message was the only undeliverable one, so no resend of it is offered or accepted)
    with pytest.raises(ValidationError, match="cannot be resent from this campaign: undeliverable"):
        services.campaign_resend_create(
            source=sent,
            user=manager,
            name="Diwali again",
            template=template,
            slot_values=sent.slot_values,
            reasons=["undeliverable"],
        )

    # then she gets no message, not even one counted as not sent
    assert Message.objects.filter(campaign=campaign).count() == len(others)
    assert not Message.objects.filter(campaign=campaign, customer=asha).exists()
    assert not Message.objects.filter(campaign=campaign, status=Message.Status.NOT_SENT).exists()
    # and no segment, list or search-based list counts her
    segment = customers_matching(org=asha.org, conditions=[{"attribute": "area", "op": "ne", "value": "Aundh"}])
    assert asha not in segment and segment.count() == len(others)


def test_a_customer_who_unsubscribed_stays_unsubscribed_when_imported_again(org, manager, asha, tmp_path):
    # given Asha unsubscribed from SMS and email, then erased
    customer_unsubscribe(customer=asha, channel="sms", source="stop_reply")
    customer_unsubscribe(customer=asha, channel="email", source="email_link")
    result = customer_erase(customer=asha, user=manager)
    assert set(result.unsubscribes_kept) == {"sms", "email"}
    kept = Unsubscribe.objects.filter(customer=asha)
    assert kept.count() == 2 and "" not in set(kept.values_list("contact_hash", flat=True))

    # when a later import brings her number (typed differently) and address back, with someone new
    path = tmp_path / "again.csv"
    path.write_text(f"mobile,email,name\n098765 43210,{EMAIL.upper()},{NAME}\n9810000077,new@example.in,New\n")
    import_customers(path=path, org_id=org.pk)

    # then a new customer is created for her, unsubscribed from both, and the history says why; the newcomer is not
    again = Customer.objects.get(org=org, mobile=MOBILE)
    assert again.pk != asha.pk and not again.sms_subscribed and not again.email_subscribed
    assert set(again.unsubscribes.values_list("channel", "source")) == {("sms", "import"), ("email", "import")}
    newcomer = Customer.objects.get(org=org, mobile="+919810000077")
    assert newcomer.sms_subscribed and newcomer.email_subscribed


def test_an_unsubscribe_without_a_record_is_kept_too(org, manager, tmp_path):
    # given a customer unsubscribed from SMS by hand in the admin (no unsubscribe record), then erased
    customer = Customer.objects.create(org=org, mobile=MOBILE, sms_subscribed=False)
    assert customer_erase(customer=customer, user=manager).unsubscribes_kept == ("sms",)
    assert customer.unsubscribes.exclude(contact_hash="").count() == 1

    # when the number is imported again, then it stays unsubscribed
    path = tmp_path / "again.csv"
    path.write_text(f"mobile\n{NATIONAL}\n")
    import_customers(path=path, org_id=org.pk)
    assert not Customer.objects.get(org=org, mobile=MOBILE).sms_subscribed


def test_erasure_alone_is_not_an_unsubscribe(org, manager, asha, tmp_path):
    # given Asha erased while subscribed
    assert customer_erase(customer=asha, user=manager).unsubscribes_kept == ()

    # when she is imported again, then she is a new, subscribed customer (nothing of her was kept)
    path = tmp_path / "again.csv"
    path.write_text(f"mobile,name\n{NATIONAL},{NAME}\n")
    import_customers(path=path, org_id=org.pk)
    again = Customer.objects.get(org=org, mobile=MOBILE)
    assert again.sms_subscribed and again.email_subscribed and again.erased_at is None


def test_another_orgs_unsubscribe_does_not_reach_this_org(org, other_org, manager, tmp_path):
    # given the same number unsubscribed and erased in another org
    theirs = Customer.objects.create(org=other_org, mobile=MOBILE)
    customer_unsubscribe(customer=theirs, channel="sms", source="manual")
    customer_erase(customer=theirs, user=None)

    # when this org imports it, then it is subscribed here
    path = tmp_path / "ours.csv"
    path.write_text(f"mobile\n{NATIONAL}\n")
    import_customers(path=path, org_id=org.pk)
    assert Customer.objects.get(org=org, mobile=MOBILE).sms_subscribed
