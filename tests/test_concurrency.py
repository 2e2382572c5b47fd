"""Races between replicas or clients: exactly one of two concurrent changes wins."""

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func
from sqlmodel import col, select

from app.models import Ticket, TicketEvent
from tests.conftest import water_ticket

ADMIN = {"Authorization": "Bearer test-admin-secret"}


async def _key(client: httpx.AsyncClient, body: dict[str, str]) -> dict[str, str]:
    response = await client.post("/api/v1/api-keys", json=body, headers=ADMIN)
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def test_two_concurrent_accepts_one_wins(committed: FastAPI) -> None:
    transport = httpx.ASGITransport(app=committed)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        operator = await _key(client, {"name": "race op", "role": "operator"})
        provider = await _key(
            client, {"name": "race vk", "role": "provider", "provider_code": "miskvodokanal"}
        )
        number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=operator)).json()[
            "number"
        ]
        url = f"/api/v1/tickets/{number}/accept"
        responses = await asyncio.gather(*(client.post(url, json={}, headers=provider) for _ in range(2)))
        final = (await client.get(f"/api/v1/tickets/{number}", headers=operator)).json()

    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["type"] in {
        "urn:hotline:problem:concurrent-update",
        "urn:hotline:problem:illegal-transition",
    }
    assert final["status"] == "assigned"
    async with committed.state.sessionmaker() as session:
        accepted = await session.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
            .where(col(Ticket.number) == number, col(TicketEvent.type) == "accepted")
        )
    assert accepted == 1
