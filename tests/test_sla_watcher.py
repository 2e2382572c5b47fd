"""The watcher: warnings and breaches recorded once, escalation, and auto-close after silence."""

import asyncio
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import col, select

from app.db import session_scope
from app.models import OutboxMessage, Ticket, utcnow
from app.services.watcher import WatchResult, close_silent, watch_clocks
from tests.conftest import KeyMaker, Pump, water_ticket
from tests.receiver import Receiver
from tests.sla_helpers import age, sample

PT2S = {"acknowledge_within": "PT2S", "resolve_within": "PT1H", "calendar": "24x7"}
BREACHES = "hotline_sla_breaches_total"


async def watch(app: FastAPI) -> WatchResult:
    async with session_scope(app.state.sessionmaker) as session:
        return await watch_clocks(session, app.state.reference, utcnow())


async def event_types(client: httpx.AsyncClient, number: str, admin: dict[str, str]) -> list[str]:
    events = (await client.get(f"/api/v1/tickets/{number}/events", headers=admin)).json()
    return [e["type"] for e in events]


async def test_watch_records_acknowledge_breach_once_and_escalates(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    before = await sample(client, BREACHES, stage="acknowledge", provider="miskvodokanal")
    await age(app.state.sessionmaker, number, timedelta(seconds=4))

    await watch(app)
    await watch(app)

    types = await event_types(client, number, admin)
    assert types.count("sla_breached") == 1
    assert types.count("escalated") == 1
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=admin)).json()
    assert ticket["due"]["breached"] == ["acknowledge"]
    assert await sample(client, BREACHES, stage="acknowledge", provider="miskvodokanal") == before + 1


async def test_watch_writes_outbox_rows_for_breach_and_escalation(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    await age(app.state.sessionmaker, number, timedelta(seconds=4))
    await watch(app)
    async with app.state.sessionmaker() as session:
        ticket_id = await session.scalar(select(Ticket.id).where(col(Ticket.number) == number))
        types = (
            await session.scalars(select(OutboxMessage.type).where(col(OutboxMessage.ticket_id) == ticket_id))
        ).all()
    assert {"ticket.sla_breached", "ticket.escalated"} <= set(types)


async def test_watch_warns_before_the_deadline(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    policy = {"acknowledge_within": "PT10M", "resolve_within": "PT1H", "calendar": "24x7"}
    await client.put("/api/v1/categories/water-leak/sla", json=policy, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    await age(app.state.sessionmaker, number, timedelta(minutes=9))
    await watch(app)
    await watch(app)
    types = await event_types(client, number, admin)
    assert types.count("sla_warning") == 1
    assert "sla_breached" not in types


async def test_watch_ignores_clock_of_accepted_ticket(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    provider = await make_key("provider", "miskvodokanal")
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    await age(app.state.sessionmaker, number, timedelta(seconds=10))
    result = await watch(app)
    assert "sla_breached" not in await event_types(client, number, admin)
    assert result.settled >= 1


async def test_watch_records_resolve_breach_after_reject(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    provider = await make_key("provider", "miskvodokanal")
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    done = {"resolution": "Замінено ділянку труби", "work_order": "WO-1"}
    await client.post(f"/api/v1/tickets/{number}/resolve", json=done, headers=provider)
    await client.post(f"/api/v1/tickets/{number}/reject", json={"reason": "Досі тече"}, headers=admin)
    await age(app.state.sessionmaker, number, timedelta(hours=2))
    await watch(app)
    events = (await client.get(f"/api/v1/tickets/{number}/events", headers=admin)).json()
    breaches = [e["payload"]["stage"] for e in events if e["type"] == "sla_breached"]
    assert breaches == ["resolve"]


async def test_close_silent_closes_resolved_ticket_as_no_response(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    provider = await make_key("provider", "miskvodokanal")
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    done = {"resolution": "Замінено ділянку труби", "work_order": "WO-1"}
    await client.post(f"/api/v1/tickets/{number}/resolve", json=done, headers=provider)
    labels = {"provider": "miskvodokanal"}
    silent_before = await sample(client, "hotline_confirmations_total", outcome="no_response", **labels)
    confirmed_before = await sample(client, "hotline_confirmations_total", outcome="confirmed", **labels)
    await age(app.state.sessionmaker, number, timedelta(days=8))

    async with session_scope(app.state.sessionmaker) as session:
        await close_silent(session, app.state.reference, utcnow(), timedelta(days=7))

    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=admin)).json()
    assert (ticket["status"], ticket["close_reason"]) == ("closed", "no_response")
    no_response = await sample(client, "hotline_confirmations_total", outcome="no_response", **labels)
    assert no_response == silent_before + 1
    confirmed = await sample(client, "hotline_confirmations_total", outcome="confirmed", **labels)
    assert confirmed == confirmed_before


async def test_close_silent_leaves_recently_resolved_ticket(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    provider = await make_key("provider", "miskvodokanal")
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    done = {"resolution": "Замінено ділянку труби", "work_order": "WO-1"}
    await client.post(f"/api/v1/tickets/{number}/resolve", json=done, headers=provider)
    await age(app.state.sessionmaker, number, timedelta(days=6))
    async with session_scope(app.state.sessionmaker) as session:
        await close_silent(session, app.state.reference, utcnow(), timedelta(days=7))
    assert (await client.get(f"/api/v1/tickets/{number}", headers=admin)).json()["status"] == "resolved"


async def test_two_watchers_record_breach_once(committed: FastAPI, admin: dict[str, str]) -> None:
    """Two watchers at once on real connections: on PostgreSQL a true race (SKIP LOCKED + conditional
    UPDATE); on SQLite the one-connection pool serialises them, which still proves the second is a no-op."""
    transport = httpx.ASGITransport(app=committed, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
        await age(committed.state.sessionmaker, number, timedelta(days=2))
        before = await sample(client, BREACHES, stage="acknowledge", provider="miskvodokanal")

        results = await asyncio.gather(watch(committed), watch(committed))

        types = await event_types(client, number, admin)
        assert types.count("sla_breached") == 1
        assert types.count("escalated") == 1
        assert sum(number in r.numbers for r in results) == 1
        assert await sample(client, BREACHES, stage="acknowledge", provider="miskvodokanal") == before + 1
        async with committed.state.sessionmaker() as session:
            ticket_id = await session.scalar(select(Ticket.id).where(col(Ticket.number) == number))
            breaches = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    col(OutboxMessage.ticket_id) == ticket_id,
                    col(OutboxMessage.type) == "ticket.sla_breached",
                )
            )
        assert breaches == 1


async def test_breach_escalation_reaches_supervisor_webhook(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_key: KeyMaker,
    receiver: Receiver,
    pump: Pump,
) -> None:
    supervisor = await make_key("supervisor")
    hook = await client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url("/escalations"), "event_types": ["ticket.escalated"]},
        headers=supervisor,
    )
    assert hook.status_code == 201, hook.text
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    await age(app.state.sessionmaker, number, timedelta(seconds=4))
    await watch(app)
    await pump()
    assert [(r.type, r.number) for r in receiver.at("/escalations")] == [("ticket.escalated", number)]


async def test_watch_breaches_due_clock_behind_many_warned_ones(
    app: FastAPI, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    day = {"acknowledge_within": "PT24H", "resolve_within": "P2D", "calendar": "24x7"}
    await client.put("/api/v1/categories/street-lighting/sla", json=day, headers=admin)
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    long = (
        await client.post(
            "/api/v1/tickets", json=water_ticket(category_code="street-lighting"), headers=admin
        )
    ).json()["number"]
    await age(app.state.sessionmaker, long, timedelta(hours=20))
    await watch(app)  # the long clock is warned now, and stays open for four more hours
    due = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    await age(app.state.sessionmaker, due, timedelta(seconds=4))

    async with session_scope(app.state.sessionmaker) as session:
        await watch_clocks(session, app.state.reference, utcnow(), limit=1)

    assert "sla_breached" in await event_types(client, due, admin)
