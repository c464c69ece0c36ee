"""The campaign form: a recurring schedule chosen in words writes the cron expression (custom cron stays), editing
shows a saved schedule in words when it has one of their shapes, only the fields of the choices made are read, and
a form with several mistakes shows every one of them at once."""

from django.urls import reverse

from campaigns.models import Campaign
from tests.campaigns.helpers import edit_form
from tests.factories import create_campaign


def _new(client, template, **fields):
    return client.post(reverse("campaigns:new") + f"?template={template.pk}", edit_form(Campaign(), **fields))


def test_every_week_on_two_days_at_a_time_is_saved_as_its_cron(client, manager, template):
    client.force_login(manager)

    response = _new(
        client,
        template,
        name="Weekly offers",
        kind="recurring",
        schedule_every="week",
        schedule_weekdays=["1", "4"],
        schedule_time="18:30",
        schedule="this is not read",  # the custom cron of another choice
        schedule_day="99",  # nor the day of a monthly one
    )

    campaign = Campaign.objects.get(name="Weekly offers")
    assert response.status_code == 302
    assert campaign.schedule == "30 18 * * 1,4"
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Schedule: every week on Monday and Thursday at 18:30" in page
    assert "next runs" in page


def test_every_day_and_every_month_write_their_cron(client, manager, template):
    client.force_login(manager)

    _new(client, template, name="Daily", kind="recurring", schedule_every="day", schedule_time="09:00")
    _new(
        client,
        template,
        name="Monthly",
        kind="recurring",
        schedule_every="month",
        schedule_day="5",
        schedule_time="10:15",
    )

    assert Campaign.objects.get(name="Daily").schedule == "0 9 * * *"
    assert Campaign.objects.get(name="Monthly").schedule == "15 10 5 * *"


def test_a_custom_cron_stays_available_and_a_script_posting_only_cron_still_works(client, manager, template):
    client.force_login(manager)

    _new(client, template, name="Weekdays", kind="recurring", schedule_every="cron", schedule="0 10 * * 1-5")
    _new(client, template, name="Script", kind="recurring", schedule="0 8 * * 0")

    assert Campaign.objects.get(name="Weekdays").schedule == "0 10 * * 1-5"
    assert Campaign.objects.get(name="Script").schedule == "0 8 * * 0"


def test_a_one_time_campaign_reads_no_schedule_field(client, manager, template):
    client.force_login(manager)

    response = _new(client, template, name="Once", kind="one_time", schedule_every="week", schedule_time="nonsense")

    assert response.status_code == 302
    assert Campaign.objects.get(name="Once").schedule == ""


def test_editing_shows_a_schedule_in_words_when_it_has_their_shape_else_as_cron(client, manager, template):
    weekly = create_campaign(template, manager, name="Weekly", kind="recurring", schedule="0 10 * * 1,5")
    custom = create_campaign(template, manager, name="Custom", kind="recurring", schedule="*/30 9-17 * * 1-5")
    client.force_login(manager)

    weekly_form = client.get(reverse("campaigns:edit", args=[weekly.pk])).context["setup"]
    custom_form = client.get(reverse("campaigns:edit", args=[custom.pk])).context["setup"]

    assert weekly_form["schedule_every"].value() == "week"
    assert weekly_form["schedule_weekdays"].value() == ["1", "5"]
    assert f"{weekly_form['schedule_time'].value():%H:%M}" == "10:00"
    assert (custom_form["schedule_every"].value(), custom_form["schedule"].value()) == ("cron", "*/30 9-17 * * 1-5")
    page = client.get(reverse("campaigns:edit", args=[weekly.pk])).content.decode()
    assert 'id="next-runs"' in page and "Mon " in page and "Fri " in page


def test_a_weekly_schedule_without_days_or_time_is_refused_next_to_each_field(client, manager, template):
    client.force_login(manager)

    response = _new(client, template, name="Weekly", kind="recurring", schedule_every="week", schedule_time="")

    errors = response.context["setup"].errors
    assert response.status_code == 200 and not Campaign.objects.filter(name="Weekly").exists()
    assert errors["schedule_weekdays"] == ["Tick at least one day of the week."]
    assert errors["schedule_time"] == ["Choose the time of day, e.g. 10:00."]


def test_a_form_with_three_mistakes_shows_all_three_next_to_their_fields_and_at_the_top(client, manager, template):
    # given a campaign form without a name, a customer field no customer has, and a cron that is not one
    client.force_login(manager)

    response = _new(
        client,
        template,
        name="",
        slot_1_value="first_name_typo",
        kind="recurring",
        schedule_every="cron",
        schedule="every monday",
    )

    # then each mistake is next to its field, and the three are listed at the top, nothing saved
    page = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "name" in response.context["form"].errors
    assert "slot_1_value" in response.context["form"].errors
    assert "schedule" in response.context["setup"].errors
    summary = page[page.index('id="error-summary"') : page.index("</div>", page.index('id="error-summary"'))]
    assert summary.count("<li>") == 3
    assert "This field is required." in summary
    assert "first_name_typo" in summary
    assert "&#x27;every monday&#x27; is not a valid schedule" in summary


def test_a_post_without_a_schedule_makes_a_reminder_sent_once_and_refuses_a_recurring_campaign(
    client, manager, template
):
    client.force_login(manager)

    _new(client, template, name="Reminder", kind="coupon_reminder", coupon_days="3")
    refused = _new(client, template, name="Recurring", kind="recurring")

    assert Campaign.objects.get(name="Reminder").schedule == ""
    assert not Campaign.objects.filter(name="Recurring").exists()
    assert refused.context["setup"].errors["schedule_every"] == [
        "A recurring campaign needs a schedule: every day, week or month."
    ]
