"""A recurring campaign's schedule in words (every day / week / month at a time) and as the cron expression it is
stored as; its next runs on the org's clock."""

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from croniter import croniter

DAY, WEEK, MONTH, CUSTOM = "day", "week", "month", "cron"
# Cron's weekday numbers (0 is Sunday), in the order of an Indian week on the page: Monday first.
WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 0: "Sunday"}

_NUMBER = r"(\d{1,2})"
_DAILY = re.compile(rf"{_NUMBER} {_NUMBER} \* \* \*")
_WEEKLY = re.compile(rf"{_NUMBER} {_NUMBER} \* \* ([0-6](?:,[0-6])*)")
_MONTHLY = re.compile(rf"{_NUMBER} {_NUMBER} {_NUMBER} \* \*")


@dataclass(frozen=True)
class ScheduleInWords:
    every: str  # DAY, WEEK or MONTH
    at: time
    weekdays: tuple[int, ...] = ()  # WEEK: cron weekday numbers, Monday first
    day: int | None = None  # MONTH: the day of the month

    @property
    def cron(self) -> str:
        minute_hour = f"{self.at.minute} {self.at.hour}"
        if self.every == WEEK:
            return f"{minute_hour} * * {','.join(str(day) for day in self.weekdays)}"
        if self.every == MONTH:
            return f"{minute_hour} {self.day} * *"
        return f"{minute_hour} * * *"

    def __str__(self) -> str:
        at = f"at {self.at:%H:%M}"
        if self.every == WEEK:
            names = [WEEKDAYS[day] for day in self.weekdays]
            days = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            return f"every week on {days} {at}"
        if self.every == MONTH:
            return f"every month on day {self.day} {at}"
        return f"every day {at}"


def schedule_from_words(
    *, every: str, at: time, weekdays: list[int] | tuple[int, ...] = (), day: int | None = None
) -> ScheduleInWords:
    """The schedule chosen in words; weekdays in the page's order (Monday first), each once."""
    ordered = tuple(day for day in WEEKDAYS if day in set(weekdays))
    return ScheduleInWords(every=every, at=at.replace(second=0, microsecond=0), weekdays=ordered, day=day)


def schedule_in_words(cron: str) -> ScheduleInWords | None:
    """A cron expression as one of the schedules in words, or None when it is none of them (a custom cron)."""
    cron = " ".join(cron.split())
    for every, pattern in ((DAY, _DAILY), (WEEK, _WEEKLY), (MONTH, _MONTHLY)):
        match = pattern.fullmatch(cron)
        if not match:
            continue
        minute, hour = int(match[1]), int(match[2])
        if minute > 59 or hour > 23:
            return None
        if every == WEEK:
            return schedule_from_words(
                every=WEEK, at=time(hour, minute), weekdays=[int(d) for d in match[3].split(",")]
            )
        if every == MONTH:
            day = int(match[3])
            return schedule_from_words(every=MONTH, at=time(hour, minute), day=day) if 1 <= day <= 31 else None
        return schedule_from_words(every=DAY, at=time(hour, minute))
    return None


def schedule_described(cron: str) -> str:
    """'every week on Monday at 10:00', or the cron expression itself when it says something else."""
    words = schedule_in_words(cron)
    return str(words) if words else f"cron {cron}"


def next_runs(*, cron: str, timezone: str, after: datetime, count: int = 3) -> list[datetime]:
    """The next `count` runs after `after`, on the org's clock; none when the expression is not valid."""
    if not croniter.is_valid(cron):
        return []
    runs = croniter(cron, after.astimezone(ZoneInfo(timezone)))
    return [runs.get_next(datetime) for _ in range(count)]
