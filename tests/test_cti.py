"""The softphone: call events (repeated, shuffled, form-encoded), missed calls, the screen pop."""

import random
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import CallbackReason
from app.services import callbacks
from tests.conftest import KeyMaker, water_ticket

CALLER = "+380 67 123 45 67"
E164 = "+380671234567"


def events(call_id: str, caller: str = CALLER) -> list[dict[str, Any]]:
    base = {"callId": call_id, "from": caller, "to": "1580", "direction": "in", "queue": "hotline"}
    return [
        {**base, "event": "newCall"},
        {**base, "event": "answer", "user": "operator-7", "answeringNumber": "207"},
        {**base, "event": "hangup", "user": "operator-7", "cause": "normalClearing"},
    ]


async def send(
    client: httpx.AsyncClient, pbx: dict[str, str], body: dict[str, Any], form: bool = False
) -> Any:
    if form:
        response = await client.post("/api/v1/cti/events", data=body, headers=pbx)
    else:
        response = await client.post("/api/v1/cti/events", json=body, headers=pbx)
    assert response.status_code == 200, response.text
    return response.json()


async def the_call(client: httpx.AsyncClient, admin: dict[str, str], call_id: str) -> dict[str, Any]:
    response = await client.get("/api/v1/cti/calls", params={"phone": "0671234567"}, headers=admin)
    assert response.status_code == 200, response.text
    calls: list[dict[str, Any]] = [c for c in response.json()["items"] if c["call_id"] == call_id]
    assert len(calls) == 1
    return calls[0]


async def test_call_events_repeated_and_shuffled_record_one_answered_call(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str]
) -> None:
    pbx = await make_key("pbx")
    sequence = events("c-shuffled") * 2
    random.Random(5).shuffle(sequence)
    for body in sequence:
        assert await send(client, pbx, body) == {}
    call = await the_call(client, admin, "c-shuffled")
    assert call["outcome"] == "answered"
    assert call["phone"] == E164
    assert call["operator"] == "operator-7"
    assert call["answered_at"] and call["ended_at"]


async def test_call_events_as_form_hangup_first_record_answered_call(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str], session: AsyncSession
) -> None:
    pbx = await make_key("pbx")
    new_call, answer, hangup = events("c-form")
    for body in (hangup, hangup, answer, new_call, answer):
        assert await send(client, pbx, body, form=True) == {}
    call = await the_call(client, admin, "c-form")
    assert call["outcome"] == "answered"
    assert call["hangup_cause"] == "normalClearing"
    assert await callbacks.find_open_task(session, CallbackReason.missed_call, phone=E164) is None


async def test_call_event_with_key_in_path_is_accepted(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str]
) -> None:
    secret = (await make_key("pbx"))["Authorization"].removeprefix("Bearer ")
    response = await client.post(f"/api/v1/cti/{secret}/events", data=events("c-path")[0])
    assert response.status_code == 200, response.text
    assert (await the_call(client, admin, "c-path"))["outcome"] == "ringing"


async def test_call_event_with_operator_key_is_forbidden(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    operator = await make_key("operator")
    response = await client.post("/api/v1/cti/events", json=events("c-x")[0], headers=operator)
    assert response.status_code == 403


async def test_call_event_without_call_id_is_invalid(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    pbx = await make_key("pbx")
    response = await client.post("/api/v1/cti/events", data={"event": "newCall"}, headers=pbx)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_missed_call_opens_callback_task(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str], session: AsyncSession
) -> None:
    pbx = await make_key("pbx")
    new_call, _, hangup = events("c-missed")
    await send(client, pbx, new_call)
    await send(client, pbx, {**hangup, "cause": "noAnswer", "user": ""})
    assert (await the_call(client, admin, "c-missed"))["outcome"] == "missed"
    task = await callbacks.find_open_task(session, CallbackReason.missed_call, phone=E164)
    assert task is not None and task.call_id == "c-missed"
    pop = (await client.get("/api/v1/cti/callers/0671234567", headers=admin)).json()
    assert pop["flags"]["open_callback_task"] is True
    assert pop["callback_tasks"][0]["reason"] == "missed_call"


async def test_answered_call_after_missed_one_finishes_callback_task(
    client: httpx.AsyncClient, make_key: KeyMaker, session: AsyncSession
) -> None:
    pbx = await make_key("pbx")
    new_call, _, hangup = events("c-first")
    await send(client, pbx, new_call)
    await send(client, pbx, {**hangup, "cause": "cancel"})
    for body in events("c-second"):
        await send(client, pbx, body)
    assert await callbacks.find_open_task(session, CallbackReason.missed_call, phone=E164) is None


async def test_new_call_from_blocked_number_is_rejected(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str]
) -> None:
    pbx = await make_key("pbx")
    blocked = await client.post(
        "/api/v1/cti/blocked-numbers", json={"phone": "0501112233", "reason": "abuse"}, headers=admin
    )
    assert blocked.status_code == 201, blocked.text
    new_call = events("c-blocked", caller="+380501112233")[0]
    assert await send(client, pbx, new_call) == {"action": "reject", "reason": "busy"}
    assert await send(client, pbx, new_call) == {"action": "reject", "reason": "busy"}


async def test_screen_pop_shows_citizen_ticket_and_call(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str]
) -> None:
    pbx, operator = await make_key("pbx"), await make_key("operator")
    for body in events("c-pop"):
        await send(client, pbx, body)
    filed = await client.post("/api/v1/tickets", json=water_ticket(call_id="c-pop"), headers=operator)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    response = await client.get("/api/v1/cti/callers/0671234567", headers=operator)
    assert response.status_code == 200, response.text
    pop = response.json()
    assert pop["citizen"]["name"] == "Олена Коваль"
    assert number in [t["number"] for t in pop["open_tickets"]]
    assert pop["open_tickets"][0]["provider"].startswith("КП «Міськводоканал»")
    call = next(c for c in pop["last_calls"] if c["call_id"] == "c-pop")
    assert call["tickets"] == [{"number": number, "status": "routed", "relation": "produced"}]


async def test_call_log_lists_ticket_touched_during_call(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str]
) -> None:
    pbx, operator = await make_key("pbx"), await make_key("operator")
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=operator)).json()["number"]
    for body in events("c-touch"):
        await send(client, pbx, body)
    linked = await client.post("/api/v1/cti/calls/c-touch/tickets", json={"number": number}, headers=operator)
    assert linked.status_code == 200, linked.text
    call = await the_call(client, admin, "c-touch")
    assert call["tickets"] == [{"number": number, "status": "routed", "relation": "touched"}]


async def test_ticket_with_call_id_unknown_to_call_log_is_accepted(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    operator = await make_key("operator")
    response = await client.post("/api/v1/tickets", json=water_ticket(call_id="c-not-yet"), headers=operator)
    assert response.status_code == 201
    assert response.json()["call_id"] == "c-not-yet"
