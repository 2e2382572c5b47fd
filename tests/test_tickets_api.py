"""Filing and reading tickets: validation, ETags, filters, pagination."""

from typing import Any

import pytest

from tests.conftest import Actors, water_ticket


async def test_create_returns_number_token_and_location(actors: Actors) -> None:
    response = await actors.client.post("/api/v1/tickets", json=water_ticket(), headers=actors["operator"])
    body = response.json()
    assert response.status_code == 201
    assert response.headers["location"] == f"/api/v1/tickets/{body['number']}"
    assert body["citizen_token"].startswith("ct_")
    assert body["provider"] == {"code": "miskvodokanal", "name": "КП «Міськводоканал» Сумської міської ради"}
    read = (await actors.client.get(f"/api/v1/tickets/{body['number']}", headers=actors["operator"])).json()
    assert "citizen_token" not in read


@pytest.mark.parametrize(
    "change",
    [
        {"channel": "fax"},
        {"description": ""},
        {"category_code": None},
        {"lat": 123.0},
        {"unexpected": 1},
        {"citizen": {"phone": "+380671234567", "email": "not-an-email"}},
    ],
    ids=["channel", "description", "category", "lat", "extra-field", "email"],
)
async def test_create_malformed_is_422_problem(actors: Actors, change: dict[str, Any]) -> None:
    response = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(**change), headers=actors["operator"]
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


@pytest.mark.parametrize(
    "payload", [b"{", b"[]", b"null", "не json".encode()], ids=["cut", "array", "null", "text"]
)
async def test_create_with_broken_json_is_422_not_500(actors: Actors, payload: bytes) -> None:
    response = await actors.client.post(
        "/api/v1/tickets", content=payload, headers={**actors["operator"], "content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_create_with_unknown_category_is_422_unknown_reference(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/tickets", json=water_ticket(category_code="no-such"), headers=actors["operator"]
    )
    assert response.status_code == 422
    assert response.json()["type"] == "urn:hotline:problem:unknown-reference"


async def test_create_with_bad_phone_is_422(actors: Actors) -> None:
    body = water_ticket(citizen={"name": "Іван", "phone": "12"})
    response = await actors.client.post("/api/v1/tickets", json=body, headers=actors["operator"])
    assert response.status_code == 422 and response.json()["field"] == "phone"


async def test_phone_is_normalised_and_citizen_reused(actors: Actors) -> None:
    first = await actors.file(citizen={"name": "Олена", "phone": "067 123 45 67"})
    second = await actors.file(citizen={"name": "Олена К.", "phone": "+380671234567"})
    assert first["citizen"]["phone"] == second["citizen"]["phone"] == "+380671234567"
    found = (
        await actors.client.get(
            "/api/v1/tickets", params={"citizen_phone": "0671234567"}, headers=actors["operator"]
        )
    ).json()["items"]
    assert {first["number"], second["number"]} <= {t["number"] for t in found}


async def test_read_unknown_ticket_is_404(actors: Actors) -> None:
    response = await actors.client.get("/api/v1/tickets/99-99999", headers=actors["operator"])
    assert response.status_code == 404


async def test_etag_stale_if_match_is_412(actors: Actors) -> None:
    number = (await actors.file())["number"]
    read = await actors.client.get(f"/api/v1/tickets/{number}", headers=actors["provider"])
    etag = read.headers["etag"]
    accepted = await actors.client.post(
        f"/api/v1/tickets/{number}/accept", json={}, headers={**actors["provider"], "If-Match": etag}
    )
    assert accepted.status_code == 200 and accepted.headers["etag"] != etag
    stale = await actors.client.post(
        f"/api/v1/tickets/{number}/start", json={}, headers={**actors["provider"], "If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == accepted.headers["etag"]


async def test_list_filters_by_status_and_category(actors: Actors) -> None:
    routed = (await actors.file())["number"]
    assigned = (await actors.ticket_in("assigned"))["number"]
    lighting = (await actors.file(category_code="street-lighting"))["number"]
    found = await actors.client.get(
        "/api/v1/tickets", params={"status": "routed", "category": "water"}, headers=actors["operator"]
    )
    numbers = {t["number"] for t in found.json()["items"]}
    assert routed in numbers and assigned not in numbers and lighting not in numbers


async def test_list_free_text_finds_description(actors: Actors) -> None:
    number = (await actors.file(description="Відкритий люк біля школи №7"))["number"]
    found = await actors.client.get(
        "/api/v1/tickets", params={"q": "люк біля школи"}, headers=actors["operator"]
    )
    assert [t["number"] for t in found.json()["items"]] == [number]


async def test_list_pages_with_cursor_without_overlap(actors: Actors) -> None:
    filed = [(await actors.file(description=f"Серія {i}"))["number"] for i in range(5)]
    seen: list[str] = []
    params: dict[str, Any] = {"q": "Серія", "limit": 2}
    while True:
        page = (await actors.client.get("/api/v1/tickets", params=params, headers=actors["operator"])).json()
        seen += [t["number"] for t in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == list(reversed(filed))


async def test_list_bad_cursor_or_unknown_filter_value_is_4xx(actors: Actors) -> None:
    bad_cursor = await actors.client.get(
        "/api/v1/tickets", params={"cursor": "@@@"}, headers=actors["operator"]
    )
    assert bad_cursor.status_code == 422
    bad_status = await actors.client.get(
        "/api/v1/tickets", params={"status": "lost"}, headers=actors["operator"]
    )
    assert bad_status.status_code == 422
    bad_provider = await actors.client.get(
        "/api/v1/tickets", params={"provider": "x"}, headers=actors["operator"]
    )
    assert bad_provider.status_code == 422


async def test_territory_filter_includes_subtree(actors: Actors) -> None:
    in_city = (await actors.file())["number"]
    village = (
        await actors.file(
            category_code="street-lighting", address={"settlement": "Битиця", "street": "вул. Центральна"}
        )
    )["number"]
    found = await actors.client.get(
        "/api/v1/tickets", params={"territory": "sumy"}, headers=actors["operator"]
    )
    numbers = {t["number"] for t in found.json()["items"]}
    assert in_city in numbers and village not in numbers


async def test_list_free_text_treats_wildcards_literally(actors: Actors) -> None:
    await actors.file(description="Тиск 50 відсотків")
    found = await actors.client.get("/api/v1/tickets", params={"q": "50%"}, headers=actors["operator"])
    assert found.json()["items"] == []
