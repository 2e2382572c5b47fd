"""The call-back queue: confirmation calls to phone citizens, their outcomes, and missed calls."""

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CallbackReason, utcnow
from app.services import callbacks
from tests.conftest import Actors, KeyMaker, water_ticket

RESOLUTION = {"resolution": "Замінено ділянку труби, витік усунуто", "work_order": "WO-7"}


async def resolved_phone_ticket(
    client: httpx.AsyncClient, make_key: KeyMaker, phone: str = "+380671234567"
) -> tuple[str, dict[str, str]]:
    operator = await make_key("operator")
    provider = await make_key("provider", "miskvodokanal")
    body = water_ticket(citizen={"name": "Іван Петренко", "phone": phone})
    number = (await client.post("/api/v1/tickets", json=body, headers=operator)).json()["number"]
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    resolved = await client.post(f"/api/v1/tickets/{number}/resolve", json=RESOLUTION, headers=provider)
    assert resolved.status_code == 200, resolved.text
    return number, operator


async def task_for(client: httpx.AsyncClient, operator: dict[str, str], number: str) -> dict[str, Any]:
    queue = (await client.get("/api/v1/callbacks", headers=operator)).json()
    [task] = [t for t in queue if t["ticket_number"] == number]
    return task  # type: ignore[no-any-return]


async def outcome(
    client: httpx.AsyncClient, operator: dict[str, str], task_id: int, **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/callbacks/{task_id}/outcome", json=body, headers=operator)


async def test_resolve_phone_ticket_opens_confirmation_call(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    number, operator = await resolved_phone_ticket(client, make_key)
    task = await task_for(client, operator, number)
    assert task["reason"] == "confirmation"
    assert task["phone"] == "+380671234567"
    assert task["citizen_name"] == "Іван Петренко"
    assert task["ticket_status"] == "resolved"


async def test_resolve_chatbot_ticket_opens_no_call(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    integrator = await make_key("integrator")
    provider = await make_key("provider", "miskvodokanal")
    body = water_ticket(channel="chatbot")
    number = (await client.post("/api/v1/tickets", json=body, headers=integrator)).json()["number"]
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    await client.post(f"/api/v1/tickets/{number}/resolve", json=RESOLUTION, headers=provider)
    queue = (await client.get("/api/v1/callbacks", headers=await make_key("operator"))).json()
    assert number not in [t["ticket_number"] for t in queue]


async def test_callback_queue_is_ordered_by_due_time(
    client: httpx.AsyncClient, make_key: KeyMaker, session: AsyncSession
) -> None:
    now = utcnow()
    later = await callbacks.open_task(
        session, CallbackReason.missed_call, phone="+380991110001", due_at=now - timedelta(minutes=5)
    )
    sooner = await callbacks.open_task(
        session, CallbackReason.missed_call, phone="+380991110002", due_at=now - timedelta(hours=2)
    )
    await session.commit()
    queue = (await client.get("/api/v1/callbacks", headers=await make_key("operator"))).json()
    ids = [t["id"] for t in queue if t["id"] in (later.id, sooner.id)]
    assert ids == [sooner.id, later.id]


async def test_callback_queue_as_provider_is_forbidden(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    provider = await make_key("provider", "miskvodokanal")
    assert (await client.get("/api/v1/callbacks", headers=provider)).status_code == 403


async def test_callback_confirmed_confirms_ticket_with_rating(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    number, operator = await resolved_phone_ticket(client, make_key)
    task = await task_for(client, operator, number)
    response = await outcome(client, operator, task["id"], outcome="confirmed", rating=4, comment="Дякую")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "done"
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=operator)).json()
    assert (ticket["status"], ticket["rating"]) == ("confirmed", 4)


async def test_callback_rejected_reopens_ticket_at_same_provider(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    number, operator = await resolved_phone_ticket(client, make_key)
    task = await task_for(client, operator, number)
    response = await outcome(client, operator, task["id"], outcome="rejected", reason="Досі тече вода")
    assert response.status_code == 200, response.text
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=operator)).json()
    assert (ticket["status"], ticket["reopen_count"], ticket["provider"]["code"]) == (
        "assigned",
        1,
        "miskvodokanal",
    )


async def test_callback_rejected_without_reason_is_refused(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    number, operator = await resolved_phone_ticket(client, make_key)
    task = await task_for(client, operator, number)
    assert (await outcome(client, operator, task["id"], outcome="rejected")).status_code == 422


async def test_callback_unreachable_three_times_closes_as_no_response(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    number, operator = await resolved_phone_ticket(client, make_key)
    task = await task_for(client, operator, number)
    first = await outcome(client, operator, task["id"], outcome="unreachable")
    assert (first.json()["status"], first.json()["attempts"]) == ("open", 1)
    assert first.json()["due_at"] > task["due_at"]
    await outcome(client, operator, task["id"], outcome="unreachable")
    last = await outcome(client, operator, task["id"], outcome="unreachable")
    assert (last.json()["status"], last.json()["outcome"]) == ("done", "no_response")
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=operator)).json()
    assert (ticket["status"], ticket["close_reason"]) == ("closed", "no_response")


async def test_missed_call_reached_finishes_task(
    client: httpx.AsyncClient, make_key: KeyMaker, session: AsyncSession
) -> None:
    task = await callbacks.open_task(session, CallbackReason.missed_call, phone="+380991112233")
    await session.commit()
    operator = await make_key("operator")
    response = await outcome(client, operator, task.id or 0, outcome="reached")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["outcome"]) == ("done", "reached")


async def test_missed_call_confirmed_outcome_is_refused(
    client: httpx.AsyncClient, make_key: KeyMaker, session: AsyncSession
) -> None:
    task = await callbacks.open_task(session, CallbackReason.missed_call, phone="+380991112244")
    await session.commit()
    response = await outcome(client, await make_key("operator"), task.id or 0, outcome="confirmed")
    assert response.status_code == 422


async def test_confirmation_by_token_settles_the_call(actors: Actors) -> None:
    created = await actors.ticket_in("resolved")
    queue = (await actors.client.get("/api/v1/callbacks", headers=actors["operator"])).json()
    assert created["number"] in [t["ticket_number"] for t in queue]
    confirmed = await actors.act(
        created["number"], "confirm", {"X-Citizen-Token": created["citizen_token"]}, {}
    )
    assert confirmed.status_code == 200
    queue = (await actors.client.get("/api/v1/callbacks", headers=actors["operator"])).json()
    assert created["number"] not in [t["ticket_number"] for t in queue]
