"""Clock arithmetic on the 24x7 and working-hours calendars (Europe/Kyiv, Mon–Fri 08:00–17:00)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.models import SlaCalendar
from app.services.sla_calendar import SlaConfig, Span, add, length, parse_duration

KYIV = ZoneInfo("Europe/Kyiv")
CONFIG = SlaConfig()
WORK = SlaCalendar.working_hours


def kyiv(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=KYIV)  # type: ignore[misc]


def due(start: datetime, duration: str, calendar: SlaCalendar = WORK, config: SlaConfig = CONFIG) -> datetime:
    return add(start, length(parse_duration(duration), calendar, config), calendar, config).astimezone(KYIV)


async def test_add_four_working_hours_on_friday_afternoon_lands_monday_morning() -> None:
    assert due(kyiv(2025, 3, 21, 16, 30), "PT4H") == kyiv(2025, 3, 24, 11, 30)


async def test_add_working_hours_over_dst_change_keeps_office_time() -> None:
    # Summer time starts on Sunday 30 March 2025: Monday 11:30 is 08:30 UTC, not 09:30.
    result = due(kyiv(2025, 3, 28, 16, 30), "PT4H")
    assert result == kyiv(2025, 3, 31, 11, 30)
    assert result.astimezone(UTC) == datetime(2025, 3, 31, 8, 30, tzinfo=UTC)


async def test_add_24x7_over_dst_change_counts_elapsed_hours() -> None:
    assert due(kyiv(2025, 3, 29, 12, 0), "PT24H", SlaCalendar.always) == kyiv(2025, 3, 30, 13, 0)


async def test_add_working_hours_skips_public_holiday_when_days_off() -> None:
    assert due(kyiv(2024, 12, 31, 16, 0), "PT2H") == kyiv(2025, 1, 2, 9, 0)


async def test_add_working_hours_counts_holiday_under_martial_law() -> None:
    worked = SlaConfig(holidays_are_days_off=False)
    assert due(kyiv(2024, 12, 31, 16, 0), "PT2H", config=worked) == kyiv(2025, 1, 1, 9, 0)


async def test_add_working_day_moves_to_same_hour_next_working_day() -> None:
    assert due(kyiv(2025, 3, 21, 10, 0), "P1D") == kyiv(2025, 3, 24, 10, 0)


async def test_add_before_opening_starts_clock_at_opening() -> None:
    assert due(kyiv(2025, 3, 24, 6, 0), "PT1H") == kyiv(2025, 3, 24, 9, 0)


async def test_add_on_configured_hours_uses_them() -> None:
    from datetime import time

    late_shift = SlaConfig(day_start=time(9, 0), day_end=time(18, 0), work_days=frozenset({1, 2, 3, 4, 5, 6}))
    assert due(kyiv(2025, 3, 21, 17, 30), "PT1H", config=late_shift) == kyiv(2025, 3, 22, 9, 30)


async def test_parse_duration_reads_weeks_days_and_clock_time() -> None:
    assert parse_duration("P1W2DT3H4M5.5S") == Span(9, timedelta(hours=3, minutes=4, seconds=5.5))
    assert parse_duration("pt2s") == Span(0, timedelta(seconds=2))


@pytest.mark.parametrize("text", ["P1M", "P1Y", "PT", "P", "2H", "PT0S", "P400D", "PT-1H"])
async def test_parse_duration_refuses_unfit_text(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
