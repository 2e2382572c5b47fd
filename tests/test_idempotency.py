"""Idempotency-Key: a retry gets the first answer and changes nothing; a reused key with another body is refused."""

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from app.models import Ticket
from tests.conftest import Actors, KeyMaker, water_ticket


async def test_retry_with_same_key_returns_first_response(actors: Actors) -> None:
    headers = {**actors["operator"], "Idempotency-Key": "call-42-ticket"}
    first = await actors.client.post("/api/v1/tickets", json=water_ticket(), headers=headers)
    second = await actors.client.post("/api/v1/tickets", json=water_ticket(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    found = await actors.client.get(
        "/api/v1/tickets", params={"q": first.json()["number"]}, headers=actors["operator"]
    )
    assert len(found.json()["items"]) == 1


async def test_same_key_other_body_is_422(actors: Actors) -> None:
    headers = {**actors["operator"], "Idempotency-Key": "k-1"}
    await actors.client.post("/api/v1/tickets", json=water_ticket(), headers=headers)
    response = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(description="інше"), headers=headers
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:hotline:problem:idempotency-key-reused"


async def test_same_key_other_credential_is_independent(actors: Actors) -> None:
    first = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(), headers={**actors["operator"], "Idempotency-Key": "shared"}
    )
    second = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(), headers={**actors["supervisor"], "Idempotency-Key": "shared"}
    )
    assert first.json()["number"] != second.json()["number"]


async def test_retried_action_does_not_act_twice(actors: Actors) -> None:
    created = await actors.ticket_in("resolved")
    headers = {"X-Citizen-Token": created["citizen_token"], "Idempotency-Key": "reject-1"}
    url = f"/api/v1/tickets/{created['number']}/reject"
    first = await actors.client.post(url, json={"reason": "Тече"}, headers=headers)
    second = await actors.client.post(url, json={"reason": "Тече"}, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json()["reopen_count"] == 1


async def test_failed_request_is_not_stored(actors: Actors) -> None:
    headers = {**actors["operator"], "Idempotency-Key": "will-fail"}
    bad = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(category_code="nope"), headers=headers
    )
    assert bad.status_code == 422
    good = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(category_code="nope"), headers=headers
    )
    assert good.status_code == 422 and "idempotent-replayed" not in good.headers


async def test_concurrent_twins_create_one_ticket(committed: FastAPI, make_key: KeyMaker) -> None:
    transport = httpx.ASGITransport(app=committed)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        created = await client.post(
            "/api/v1/api-keys",
            json={"name": "twin op", "role": "operator"},
            headers={"Authorization": "Bearer test-admin-secret"},
        )
        headers = {"Authorization": f"Bearer {created.json()['key']}", "Idempotency-Key": "twin"}
        body = water_ticket(description="Двійник запиту")
        responses = await asyncio.gather(
            *(client.post("/api/v1/tickets", json=body, headers=headers) for _ in range(2))
        )
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json()["number"] == responses[1].json()["number"]
    async with committed.state.sessionmaker() as session:
        count = await session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.description == "Двійник запиту")
        )
    assert count == 1


async def test_revoked_key_cannot_read_back_stored_response(actors: Actors) -> None:
    created = await actors.client.post(
        "/api/v1/api-keys", json={"name": "short-lived", "role": "operator"}, headers=actors["admin"]
    )
    key = created.json()
    headers = {"Authorization": f"Bearer {key['key']}", "Idempotency-Key": "before-revoke"}
    assert (
        await actors.client.post("/api/v1/tickets", json=water_ticket(), headers=headers)
    ).status_code == 201
    await actors.client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=actors["admin"])
    assert (
        await actors.client.post("/api/v1/tickets", json=water_ticket(), headers=headers)
    ).status_code == 401
