"""Launch asks first: the audience, the credits it takes and the balance after, when it goes, the sender and the
template; nothing is sent before the confirmation. A time that has passed is an error next to the field."""

from django.urls import reverse

from campaigns.lifecycle.launch_confirmation import launch_confirmation
from campaigns.models import Campaign, Org
from delivery.models import Message
from tests.factories import create_campaign


def _launch(client, campaign, **data):
    return client.post(reverse("campaigns:launch", args=[campaign.pk]), data)


def test_the_confirmation_gives_audience_credits_balance_when_sender_and_template(org, template, manager, customers):
    # given a draft to the org's 10 customers, whose message takes one segment
    campaign = create_campaign(template, manager)

    # when its launch is asked for
    confirmation = launch_confirmation(campaign=campaign, scheduled_at=None)

    # then it says what the launch will do
    assert confirmation.recipients == 10
    assert confirmation.credits == 10 and confirmation.balance == 10_000 and confirmation.balance_after == 9_990
    assert confirmation.when == "Now"
    assert confirmation.sender == "ACMERT (Service-Implicit)"
    assert confirmation.template == "Order shipped (DLT template id 1707160000000000001)"
    assert confirmation.sample.startswith("Hi Customer 1, your order has shipped.")


def test_launching_from_the_page_shows_the_confirmation_and_sends_nothing_until_confirmed(
    client, org, template, manager, customers, django_capture_on_commit_callbacks
):
    # given a draft on its page
    campaign = create_campaign(template, manager)
    client.force_login(manager)
    Org.objects.filter(pk=org.pk).update(credits=15)

    # when the manager presses Launch
    with django_capture_on_commit_callbacks(execute=True):
        response = _launch(client, campaign, when="now")

    # then a confirmation page answers, and nothing is sent
    page = response.content.decode()
    assert response.status_code == 200 and "Launch “Campaign”?" in page
    assert 'data-confirm="recipients">10<' in page and 'data-confirm="credits">10<' in page
    assert 'data-confirm="balance">15<' in page and 'data-confirm="balance_after">5<' in page
    assert 'data-confirm="when">Now<' in page and "ACMERT (Service-Implicit)" in page
    assert "Confirm: send now" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert not Message.objects.filter(campaign=campaign).exists()

    # when they confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = _launch(client, campaign, when="now", scheduled_at="", confirmed="1")

    # then it is sent
    assert response.status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DISPATCHED
    assert Message.objects.filter(campaign=campaign).count() == 10


def test_a_shortfall_of_credits_is_said_before_confirming(client, org, template, manager, customers):
    campaign = create_campaign(template, manager)
    Org.objects.filter(pk=org.pk).update(credits=4)
    client.force_login(manager)

    page = _launch(client, campaign).content.decode()

    assert 'data-confirm="balance_after">-6<' in page
    assert "Acme Retail is 6 credits short" in page


def test_a_time_is_confirmed_then_scheduled(client, org, template, manager, customers, clock):
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    page = _launch(client, campaign, when="at", scheduled_at="2026-11-23T18:30").content.decode()
    assert 'data-confirm="when">At 23 Nov 2026 18:30 (Asia/Kolkata)<' in page
    assert 'name="scheduled_at" value="2026-11-23T18:30"' in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT

    _launch(client, campaign, when="at", scheduled_at="2026-11-23T18:30", confirmed="1")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SCHEDULED


def test_a_recurring_campaign_confirms_its_schedule_and_credits_per_run(
    client, org, template, manager, customers, clock
):
    campaign = create_campaign(template, manager, kind=Campaign.Kind.RECURRING, schedule="0 10 * * *")
    client.force_login(manager)

    page = _launch(client, campaign).content.decode()

    assert "On the schedule 0 10 * * * (Asia/Kolkata); the first run at 24 Nov 2026 10:00" in page
    assert 'data-confirm="credits">10</strong> each run' in page


def test_a_time_in_the_past_is_an_error_next_to_the_field_and_keeps_what_was_typed(
    client, org, template, manager, customers, clock, django_capture_on_commit_callbacks
):
    # given a draft, at 23 Nov 2026 12:00 in India
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    # when the manager asks for 10:00 that morning, on the page or on the confirmation
    for confirmed in ("", "1"):
        with django_capture_on_commit_callbacks(execute=True):
            response = _launch(client, campaign, when="at", scheduled_at="2026-11-23T10:00", confirmed=confirmed)

        # then the campaign page answers with the error next to the field and the time as typed; nothing is sent
        page = response.content.decode()
        assert response.status_code == 400
        field = page.split('id="field-scheduled_at"')[1].split("</div>\n</form>")[0]
        assert "This time has passed (it is 23 Nov 2026 12:00 now)" in field
        assert 'value="2026-11-23T10:00"' in field
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
        assert not Message.objects.filter(campaign=campaign).exists()


def test_at_a_time_without_a_time_never_becomes_send_now(client, org, template, manager, customers, clock):
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    for typed in ("", "23/11/2026 half past six"):
        response = _launch(client, campaign, when="at", scheduled_at=typed, confirmed="1")
        assert response.status_code == 400
        assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT
    assert (
        "Choose the date and time to send at, or choose Now."
        in _launch(client, campaign, when="at", scheduled_at="").content.decode()
    )


def test_a_launch_that_would_be_refused_is_refused_before_the_confirmation(client, org, template, manager, customers):
    campaign = create_campaign(template, manager)
    template.dlt_template_id = ""
    template.save()
    client.force_login(manager)

    response = client.post(reverse("campaigns:launch", args=[campaign.pk]), follow=True)

    page = response.content.decode()
    assert "Launch “Campaign”?" not in page
    assert "“Order shipped” is incomplete: it has no 19-digit DLT template id" in page


def test_with_approval_the_confirmation_sends_it_for_approval(client, approving, template, manager, customers):
    campaign = create_campaign(template, manager)
    client.force_login(manager)

    page = _launch(client, campaign).content.decode()
    assert "Confirm: send for approval" in page
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.DRAFT

    _launch(client, campaign, confirmed="1")
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.AWAITING_APPROVAL


def test_only_members_see_the_confirmation(client, template, manager, customers, outsider):
    campaign = create_campaign(template, manager)
    client.force_login(outsider)
    assert _launch(client, campaign).status_code == 404
