"""Clock arithmetic: ISO 8601 durations, and adding them on a 24x7 or a working-hours calendar.

Durations are parsed here rather than by pydantic's ``timedelta``, which folds ``P1D`` into 24 hours:
on a working-hours calendar a day is a working day (08:00–17:00 is 9 hours), so ``P1D`` and ``PT24H``
must stay different things.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from app.models import SlaCalendar
from app.settings import Settings

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
#: Longest clock accepted: a year. Longer ones are typos and would make the calendar walk long.
MAX_DAYS = 366


@dataclass(frozen=True)
class Span:
    """An ISO 8601 duration: whole days (working days on a working-hours calendar) plus clock time."""

    days: int
    time: timedelta


def parse_duration(text: str) -> Span:
    """``PT2H``, ``P3D``, ``P1W``, ``P1DT4H30M``, ``PT2S``; years and months are refused (no fixed length)."""
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 duration in weeks, days, hours, minutes or seconds (e.g. PT2H, P3D)."
        )
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    days = int(parts["weeks"]) * 7 + int(parts["days"])
    clock = timedelta(hours=parts["hours"], minutes=parts["minutes"], seconds=parts["seconds"])
    if days == 0 and clock <= timedelta(0):
        raise ValueError("A clock must be longer than zero.")
    if days + clock / timedelta(days=1) > MAX_DAYS:
        raise ValueError(f"A clock is at most {MAX_DAYS} days.")
    return Span(days, clock)


@lru_cache(maxsize=64)
def _holidays_of(country: str, year: int) -> frozenset[date]:
    # "workday" holds the holidays worked under martial law; as days off they count with "public".
    found = holidays.country_holidays(country, years=year, categories=("public", "workday"))
    return frozenset(found.keys())


@dataclass(frozen=True)
class SlaConfig:
    """The calendars' and deadlines' settings (from ``Settings``; these defaults match its own)."""

    timezone: str = "Europe/Kyiv"
    day_start: time = time(8, 0)
    day_end: time = time(17, 0)
    #: ISO weekdays (1 = Monday) that are working days.
    work_days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays_country: str = "UA"
    holidays_are_days_off: bool = True
    warn_share: float = 0.8
    statutory_days: int = 15
    statutory_study_days: int = 30
    statutory_max_days: int = 45

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    def is_working_day(self, day: date) -> bool:
        if day.isoweekday() not in self.work_days:
            return False
        return not (self.holidays_are_days_off and day in _holidays_of(self.holidays_country, day.year))


def length(span: Span, calendar: SlaCalendar, config: SlaConfig) -> timedelta:
    """The span as time on the calendar: a day is 24 hours on 24x7 and one working day otherwise."""
    day = timedelta(days=1) if calendar is SlaCalendar.always else config.day_length
    return span.days * day + span.time


def add(start: datetime, amount: timedelta, calendar: SlaCalendar, config: SlaConfig) -> datetime:
    """The moment ``amount`` of calendar time after ``start`` (aware UTC in, aware UTC out)."""
    if calendar is SlaCalendar.always:
        # In UTC: an aware local time plus a timedelta is wall-clock arithmetic, wrong across DST.
        return start.astimezone(UTC) + amount
    return _add_working_time(start, amount, config)


def _add_working_time(start: datetime, amount: timedelta, config: SlaConfig) -> datetime:
    zone = config.zone
    cursor = start.astimezone(zone)
    day = cursor.date()
    remaining = amount
    # Bounded walk: a year of clock time over any sane calendar ends well within this many days.
    for _ in range(MAX_DAYS * 8):
        if config.is_working_day(day):
            opens = datetime.combine(day, config.day_start, zone)
            closes = datetime.combine(day, config.day_end, zone)
            # Kyiv's DST changes happen at night, so wall-clock arithmetic inside a working day is exact.
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0), zone)
    raise ValueError("The working calendar has no working time; check the working days and hours.")


def config_from(settings: Settings) -> SlaConfig:
    return SlaConfig(
        timezone=settings.sla_timezone,
        day_start=settings.work_day_start,
        day_end=settings.work_day_end,
        work_days=frozenset(settings.work_days),
        holidays_country=settings.holidays_country,
        holidays_are_days_off=settings.holidays_are_days_off,
        warn_share=settings.sla_warn_share,
        statutory_days=settings.statutory_days,
        statutory_study_days=settings.statutory_study_days,
        statutory_max_days=settings.statutory_max_days,
    )
