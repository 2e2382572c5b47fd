"""SLA policies through the API, and the deadlines the lifecycle sets from them."""

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.conftest import KeyMaker, water_ticket

PT2S = {"acknowledge_within": "PT2S", "resolve_within": "PT1H", "calendar": "24x7"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_put_policy_applies_to_category_and_its_subtree(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"acknowledge_within": "pt3h", "resolve_within": "P2D", "calendar": "working_hours"}
    put = await client.put("/api/v1/categories/heating/sla", json=body, headers=admin)
    assert put.status_code == 200, put.text
    assert put.json()["acknowledge_within"] == "PT3H"
    child = await client.get("/api/v1/categories/no-heating/sla", headers=admin)
    assert child.json()["defined_at"] == "heating"
    assert child.json()["resolve_within"] == "P2D"
    assert child.json()["by_priority"] == {}


async def test_put_policy_by_priority_is_read_back(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = {**PT2S, "by_priority": {"emergency": {**PT2S, "acknowledge_within": "PT1M"}}}
    await client.put("/api/v1/categories/water-leak/sla", json=body, headers=admin)
    read = await client.get("/api/v1/categories/water-leak/sla", headers=admin)
    assert read.json()["by_priority"]["emergency"]["acknowledge_within"] == "PT1M"


async def test_put_policy_as_operator_is_forbidden(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    operator = await make_key("operator")
    response = await client.put("/api/v1/categories/water/sla", json=PT2S, headers=operator)
    assert response.status_code == 403


async def test_put_policy_in_months_is_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.put(
        "/api/v1/categories/water/sla", json={**PT2S, "resolve_within": "P1M"}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("validation-error")


async def test_read_policy_of_unknown_category_is_not_found(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    assert (await client.get("/api/v1/categories/nope/sla", headers=admin)).status_code == 404


async def test_seeded_policies_cover_every_category(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    categories = (await client.get("/api/v1/categories", headers=admin)).json()
    for category in categories:
        policy = (await client.get(f"/api/v1/categories/{category['code']}/sla", headers=admin)).json()
        assert policy["defined_at"] is not None, category["code"]


async def test_file_ticket_sets_acknowledge_and_statutory_deadlines(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    body: dict[str, Any] = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()
    assert at(body["due"]["acknowledge"]) - at(body["routed_at"]) == timedelta(seconds=2)
    assert at(body["due"]["statutory"]) - at(body["created_at"]) == timedelta(days=15)
    assert body["due"]["breached"] == []


async def test_file_ticket_needing_study_gets_a_month(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    ticket = water_ticket(category_code="building-management-complaint")
    body = (await client.post("/api/v1/tickets", json=ticket, headers=admin)).json()
    assert at(body["due"]["statutory"]) - at(body["created_at"]) == timedelta(days=30)


async def test_accept_starts_resolve_clock(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    provider = await make_key("provider", "miskvodokanal")
    body = (await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)).json()
    assert at(body["due"]["resolve"]) - at(body["accepted_at"]) == timedelta(hours=1)


async def test_reject_starts_new_resolve_clock(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    provider = await make_key("provider", "miskvodokanal")
    first = (await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)).json()
    done = {"resolution": "Замінено ділянку труби", "work_order": "WO-1"}
    await client.post(f"/api/v1/tickets/{number}/resolve", json=done, headers=provider)
    again = await client.post(f"/api/v1/tickets/{number}/reject", json={"reason": "Досі тече"}, headers=admin)
    assert again.status_code == 200, again.text
    assert at(again.json()["due"]["resolve"]) > at(first["due"]["resolve"])


async def test_reroute_starts_new_acknowledge_clock(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    first = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()
    rerouted = await client.post(
        f"/api/v1/tickets/{first['number']}/route", json={"provider_code": "sumyteploenerho"}, headers=admin
    )
    assert rerouted.status_code == 200, rerouted.text
    assert at(rerouted.json()["due"]["acknowledge"]) > at(first["due"]["acknowledge"])


async def test_extend_moves_statutory_deadline_and_tells_citizen(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    filed = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()
    until = (at(filed["created_at"]) + timedelta(days=40)).isoformat()
    response = await client.post(
        f"/api/v1/tickets/{filed['number']}/extend",
        json={"until": until, "reason": "Потрібне обстеження мережі"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert at(response.json()["due"]["statutory"]) == at(until)
    events = (await client.get(f"/api/v1/tickets/{filed['number']}/events", headers=admin)).json()
    assert events[-1]["type"] == "deadline_extended"
    assert events[-1]["payload"]["reason"] == "Потрібне обстеження мережі"


async def test_extend_past_45_days_is_refused(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    filed = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()
    until = (at(filed["created_at"]) + timedelta(days=46)).isoformat()
    response = await client.post(
        f"/api/v1/tickets/{filed['number']}/extend", json={"until": until, "reason": "Довго"}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["field"] == "until"


async def test_extend_by_other_provider_is_forbidden(
    client: httpx.AsyncClient, admin: dict[str, str], make_key: KeyMaker
) -> None:
    filed = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()
    other = await make_key("provider", "sumyteploenerho")
    until = (at(filed["created_at"]) + timedelta(days=20)).isoformat()
    response = await client.post(
        f"/api/v1/tickets/{filed['number']}/extend",
        json={"until": until, "reason": "Чужа заявка"},
        headers=other,
    )
    assert response.status_code in (403, 404)


async def test_list_due_before_finds_ticket_with_deadline_in_range(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put("/api/v1/categories/water-leak/sla", json=PT2S, headers=admin)
    number = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()["number"]
    soon = (datetime.now().astimezone() + timedelta(minutes=5)).isoformat()
    found = await client.get("/api/v1/tickets", params={"due_before": soon, "limit": 200}, headers=admin)
    assert number in [t["number"] for t in found.json()["items"]]
    late = await client.get("/api/v1/tickets", params={"overdue": "true", "limit": 200}, headers=admin)
    assert number not in [t["number"] for t in late.json()["items"]]
