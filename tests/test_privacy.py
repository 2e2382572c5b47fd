"""Erasing a citizen's personal data: gone everywhere it was stored, while the tickets still count."""

from tests.conftest import Actors
from tests.test_cti import events, send

PHONE = "+380501112233"


async def test_erase_by_phone_anonymises_citizen_calls_and_callbacks(actors: Actors) -> None:
    for body in events("c-erase", caller="0501112233"):
        await send(actors.client, actors["pbx"], body)
    created = await actors.file(citizen={"name": "Марія Бондар", "phone": PHONE, "email": "m@example.ua"})
    number = created["number"]
    await actors.act(number, "accept", "provider")
    await actors.act(
        number, "resolve", "provider", {"resolution": "Замінено трубу на вводі", "work_order": "WO-9"}
    )

    response = await actors.client.post(
        "/api/v1/citizens/erase", json={"phone": "050 111 22 33"}, headers=actors["admin"]
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"citizens": 1, "tickets": 1, "calls": 1, "callbacks": 1}
    ticket = (await actors.client.get(f"/api/v1/tickets/{number}", headers=actors["operator"])).json()
    assert ticket["citizen"] == {"name": None, "phone": None, "email": None, "preferred_channel": None}
    assert ticket["status"] == "resolved" and ticket["category"]["code"] == "water-leak"
    pop = (await actors.client.get(f"/api/v1/cti/callers/{PHONE}", headers=actors["operator"])).json()
    assert pop["citizen"] is None and pop["last_calls"] == []
    queue = (await actors.client.get("/api/v1/callbacks", headers=actors["operator"])).json()
    assert all(t["phone"] != PHONE for t in queue)
    events_ = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["operator"])).json()
    assert events_[-1]["type"] == "personal_data_erased"
    assert PHONE not in str(events_) and "Марія" not in str(events_)


async def test_erase_by_ticket_number(actors: Actors) -> None:
    number = (await actors.file(citizen={"name": "Петро", "phone": "+380671110000"}))["number"]
    response = await actors.client.post(
        "/api/v1/citizens/erase", json={"ticket_number": number}, headers=actors["admin"]
    )
    assert response.json()["citizens"] == 1
    again = await actors.client.post(
        "/api/v1/citizens/erase", json={"ticket_number": number}, headers=actors["admin"]
    )
    assert again.status_code == 404


async def test_erase_needs_exactly_one_selector(actors: Actors) -> None:
    both = await actors.client.post(
        "/api/v1/citizens/erase", json={"phone": PHONE, "ticket_number": "26-00001"}, headers=actors["admin"]
    )
    neither = await actors.client.post("/api/v1/citizens/erase", json={}, headers=actors["admin"])
    assert both.status_code == neither.status_code == 422


async def test_erase_is_admin_only(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/citizens/erase", json={"phone": PHONE}, headers=actors["supervisor"]
    )
    assert response.status_code == 403
