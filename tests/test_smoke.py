from typing import Any

import httpx

from tests.conftest import KeyMaker, water_ticket


async def test_file_water_leak_routes_to_vodokanal(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    operator = await make_key("operator")
    response = await client.post("/api/v1/tickets", json=water_ticket(), headers=operator)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "routed"
    assert body["provider"]["code"] == "miskvodokanal"
