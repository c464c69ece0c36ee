"""A recurring schedule in words writes its cron expression, and a cron expression of one of those shapes reads back
in words; any other stays a custom cron."""

from datetime import UTC, datetime, time

import pytest

from campaigns.base.schedules import (
    DAY,
    MONTH,
    WEEK,
    next_runs,
    schedule_described,
    schedule_from_words,
    schedule_in_words,
)


@pytest.mark.parametrize(
    ("words", "cron", "said"),
    [
        ({"every": DAY, "at": time(9, 30)}, "30 9 * * *", "every day at 09:30"),
        ({"every": WEEK, "at": time(18, 0), "weekdays": [3, 1]}, "0 18 * * 1,3", "every week on Monday and Wednesday at 18:00"),
        ({"every": WEEK, "at": time(7, 5), "weekdays": [0, 6, 5]}, "5 7 * * 5,6,0", "every week on Friday, Saturday and Sunday at 07:05"),
        ({"every": MONTH, "at": time(10, 0), "day": 15}, "0 10 15 * *", "every month on day 15 at 10:00"),
    ],
)  # fmt: skip
def test_a_schedule_in_words_writes_its_cron_and_reads_back_from_it(words, cron, said):
    schedule = schedule_from_words(**words)

    assert schedule.cron == cron
    assert str(schedule) == said
    assert schedule_in_words(cron) == schedule


@pytest.mark.parametrize(
    "cron", ["*/15 * * * *", "0 10 * * 1-5", "0 10 1 1 *", "0 25 * * *", "0 10 32 * *", "nonsense"]
)
def test_any_other_cron_is_no_schedule_in_words(cron):
    assert schedule_in_words(cron) is None
    assert schedule_described(cron) == f"cron {cron}"


def test_the_next_runs_are_on_the_orgs_clock():
    runs = next_runs(cron="0 10 * * 1", timezone="Asia/Kolkata", after=datetime(2026, 12, 7, 6, 0, tzinfo=UTC))

    assert [f"{run:%a %d %b %H:%M %z}" for run in runs] == [
        "Mon 14 Dec 10:00 +0530",
        "Mon 21 Dec 10:00 +0530",
        "Mon 28 Dec 10:00 +0530",
    ]
    assert next_runs(cron="not cron", timezone="Asia/Kolkata", after=datetime(2026, 12, 7, tzinfo=UTC)) == []
