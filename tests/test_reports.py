"""The weekly report: what a supervisor reads on Monday, derived from the stored chain."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.models import utcnow
from app.services.reports import week_bounds
from tests.conftest import Actors


def this_week() -> str:
    iso = datetime.now(ZoneInfo("Europe/Kyiv")).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


async def report(actors: Actors, week: str) -> dict[str, Any]:
    response = await actors.client.get(
        "/api/v1/reports/weekly", params={"week": week}, headers=actors["supervisor"]
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def provider(body: dict[str, Any], code: str) -> dict[str, Any]:
    absent = dict.fromkeys(("routed", "acknowledged", "declined", "resolved", "confirmed", "open_now"), 0)
    return next((p for p in body["providers"] if p["code"] == code), absent)


async def test_weekly_report_counts_the_chain(actors: Actors) -> None:
    week = this_week()
    before = await report(actors, week)
    confirmed = await actors.ticket_in("confirmed")
    await actors.ticket_in("received")  # declined by the utility
    await actors.file(kind="consultation", category_code="consultation", answer="Графік на сайті")

    after = await report(actors, week)

    assert after["intake"]["total"] - before["intake"]["total"] == 3
    assert (
        after["intake"]["consultations_at_first_contact"] - before["intake"]["consultations_at_first_contact"]
        == 1
    )
    assert after["outcomes"]["resolved"] - before["outcomes"]["resolved"] == 1
    assert after["outcomes"]["confirmed"] - before["outcomes"]["confirmed"] == 1
    old, new = provider(before, "miskvodokanal"), provider(after, "miskvodokanal")
    assert (new["routed"] - old["routed"], new["acknowledged"] - old["acknowledged"]) == (2, 1)
    assert (new["declined"] - old["declined"], new["resolved"] - old["resolved"]) == (1, 1)
    assert new["median_minutes_to_acknowledge"] is not None
    assert after["backlog_now"]["with_dispatcher"] - before["backlog_now"]["with_dispatcher"] == 1
    assert confirmed["number"] not in str(after) and "+380" not in str(after)


async def test_weekly_report_of_a_past_week_is_empty_and_stable(actors: Actors) -> None:
    await actors.file()
    body = await report(actors, "2020-W10")
    assert body["week"] == "2020-W10" and body["from"].startswith("2020-03-02T00:00:00+02:00")
    assert body["intake"]["total"] == 0 and body["outcomes"]["resolved"] == 0


async def test_weekly_report_defaults_to_last_complete_week(actors: Actors) -> None:
    response = await actors.client.get("/api/v1/reports/weekly", headers=actors["reader"])
    assert response.status_code == 200
    label, _, end = week_bounds(None, "Europe/Kyiv")
    assert response.json()["week"] == label and end <= utcnow()


async def test_weekly_report_bad_week_is_422(actors: Actors) -> None:
    response = await actors.client.get(
        "/api/v1/reports/weekly", params={"week": "2026-53x"}, headers=actors["admin"]
    )
    assert response.status_code == 422


async def test_weekly_report_is_not_for_operators_or_providers(actors: Actors) -> None:
    for role in ("operator", "provider", "integrator"):
        response = await actors.client.get("/api/v1/reports/weekly", headers=actors[role])
        assert response.status_code == 403, role


def test_week_bounds_are_local_midnights() -> None:
    label, start, end = week_bounds("2026-W44", "Europe/Kyiv")
    # Monday 26 October 2026, the day after the autumn clock change: UTC+2 from then on.
    assert label == "2026-W44"
    assert start.isoformat() == "2026-10-26T00:00:00+02:00"
    assert (end - start).days == 7
