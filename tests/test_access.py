"""The access matrix: who sees which tickets, who may act, who sees personal data."""

import pytest

from tests.conftest import Actors


async def test_other_provider_gets_404_for_ticket(actors: Actors) -> None:
    number = (await actors.file())["number"]
    assert (
        await actors.client.get(f"/api/v1/tickets/{number}", headers=actors["other_provider"])
    ).status_code == 404
    response = await actors.act(number, "accept", "other_provider")
    assert response.status_code == 404
    assert response.json()["type"] == "urn:hotline:problem:not-found"


async def test_provider_list_shows_only_its_tickets(actors: Actors) -> None:
    water = (await actors.file())["number"]
    lighting = (await actors.file(category_code="street-lighting"))["number"]
    mine = (await actors.client.get("/api/v1/tickets", headers=actors["provider"])).json()["items"]
    theirs = (await actors.client.get("/api/v1/tickets", headers=actors["other_provider"])).json()["items"]
    assert water in {t["number"] for t in mine} and lighting not in {t["number"] for t in mine}
    assert lighting in {t["number"] for t in theirs} and water not in {t["number"] for t in theirs}


async def test_declined_provider_still_sees_but_cannot_act(actors: Actors) -> None:
    number = (await actors.ticket_in("received"))["number"]
    read = await actors.client.get(f"/api/v1/tickets/{number}", headers=actors["provider"])
    assert read.status_code == 200
    assert read.json()["citizen"] is None  # personal data only for the provider holding it now
    await actors.act(number, "route", "operator", {"provider_code": "miskvodokanal"})
    other = await actors.act(number, "route", "operator", {"provider_code": "sumyteploenerho"})
    assert other.status_code == 200
    assert (await actors.act(number, "accept", "provider")).status_code == 403


@pytest.mark.parametrize("role", ["operator", "reader", "integrator"])
async def test_non_provider_cannot_accept(actors: Actors, role: str) -> None:
    number = (await actors.file())["number"]
    response = await actors.act(number, "accept", role)
    # The integrator did not file this ticket, so for it the ticket does not exist.
    assert response.status_code == (404 if role == "integrator" else 403)


async def test_reader_reads_without_personal_data(actors: Actors) -> None:
    number = (await actors.file())["number"]
    body = (await actors.client.get(f"/api/v1/tickets/{number}", headers=actors["reader"])).json()
    assert body["citizen"] is None
    assert body["allowed_actions"] == []


async def test_operator_and_holding_provider_see_personal_data(actors: Actors) -> None:
    number = (await actors.file())["number"]
    for role in ("operator", "supervisor", "provider"):
        body = (await actors.client.get(f"/api/v1/tickets/{number}", headers=actors[role])).json()
        assert body["citizen"]["phone"] == "+380671234567", role


async def test_integrator_sees_only_tickets_it_filed(actors: Actors) -> None:
    filed = await actors.client.post(
        "/api/v1/tickets", json={**_chatbot(), "channel": "chatbot"}, headers=actors["integrator"]
    )
    assert filed.status_code == 201
    by_operator = (await actors.file())["number"]
    listed = (await actors.client.get("/api/v1/tickets", headers=actors["integrator"])).json()["items"]
    assert [t["number"] for t in listed] == [filed.json()["number"]]
    assert listed[0]["citizen"] is None
    assert (
        await actors.client.get(f"/api/v1/tickets/{by_operator}", headers=actors["integrator"])
    ).status_code == 404


def _chatbot() -> dict[str, object]:
    return {
        "category_code": "water-leak",
        "description": "Порив на вулиці",
        "address": {"settlement": "Суми", "street": "вул. Соборна"},
    }


async def test_pbx_key_cannot_read_tickets(actors: Actors) -> None:
    assert (await actors.client.get("/api/v1/tickets", headers=actors["pbx"])).status_code == 403


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}],
    ids=["none", "unknown", "scheme"],
)
async def test_missing_or_bad_key_is_401(actors: Actors, headers: dict[str, str]) -> None:
    response = await actors.client.get("/api/v1/tickets", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_citizen_token_reads_own_ticket_only(actors: Actors) -> None:
    mine = await actors.file()
    other = await actors.file()
    token = {"X-Citizen-Token": mine["citizen_token"]}
    own = await actors.client.get(f"/api/v1/tickets/{mine['number']}", headers=token)
    assert own.status_code == 200 and own.json()["citizen"] is None
    assert (await actors.client.get(f"/api/v1/tickets/{other['number']}", headers=token)).status_code == 404
    assert (await actors.client.get("/api/v1/tickets", headers=token)).status_code == 401


async def test_citizen_token_cannot_accept(actors: Actors) -> None:
    created = await actors.file()
    response = await actors.client.post(
        f"/api/v1/tickets/{created['number']}/accept",
        json={},
        headers={"X-Citizen-Token": created["citizen_token"]},
    )
    assert response.status_code == 401  # provider actions take an API key only


async def test_only_admin_issues_keys(actors: Actors) -> None:
    for role in ("operator", "supervisor", "provider", "reader"):
        response = await actors.client.post(
            "/api/v1/api-keys", json={"name": "x", "role": "operator"}, headers=actors[role]
        )
        assert response.status_code == 403, role


async def test_revoked_key_is_401(actors: Actors) -> None:
    created = await actors.client.post(
        "/api/v1/api-keys", json={"name": "temp", "role": "operator"}, headers=actors["admin"]
    )
    key = created.json()
    headers = {"Authorization": f"Bearer {key['key']}"}
    assert (await actors.client.get("/api/v1/tickets", headers=headers)).status_code == 200
    revoked = await actors.client.post(f"/api/v1/api-keys/{key['id']}/revoke", headers=actors["admin"])
    assert revoked.json()["revoked_at"] is not None
    assert (await actors.client.get("/api/v1/tickets", headers=headers)).status_code == 401


async def test_key_secret_is_shown_once(actors: Actors) -> None:
    created = await actors.client.post(
        "/api/v1/api-keys",
        json={"name": "vodokanal", "role": "provider", "provider_code": "miskvodokanal"},
        headers=actors["admin"],
    )
    assert created.status_code == 201 and created.json()["key"].startswith("hl_")
    listed = (await actors.client.get("/api/v1/api-keys", headers=actors["admin"])).json()
    assert all("key" not in k for k in listed)
    assert any(k["provider_code"] == "miskvodokanal" for k in listed)


async def test_provider_key_needs_known_provider(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/api-keys",
        json={"name": "x", "role": "provider", "provider_code": "nope"},
        headers=actors["admin"],
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:hotline:problem:unknown-reference"


async def test_citizen_token_cannot_read_timeline_or_reopen(actors: Actors) -> None:
    created = await actors.ticket_in("confirmed")
    token = {"X-Citizen-Token": created["citizen_token"]}
    number = created["number"]
    assert (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=token)).status_code == 401
    reopen = await actors.client.post(
        f"/api/v1/tickets/{number}/reopen", json={"reason": "знову"}, headers=token
    )
    assert reopen.status_code == 401
