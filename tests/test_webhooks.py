"""Webhooks: subscriptions, signed deliveries to a real receiver on 127.0.0.1, retries, order, visibility."""

from typing import Any

import httpx
import pytest
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.models import Citizen, utcnow
from tests.conftest import KeyMaker, Pump, water_ticket
from tests.receiver import Receiver


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": events or ["*"]}, headers=headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def verified(secret: str, received: list[Any]) -> list[Any]:
    """Each request checked with the Standard Webhooks reference implementation."""
    return [Webhook(secret).verify(r.body, r.headers) for r in received]


async def file(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json=water_ticket(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_create_webhook_shows_secret_only_once(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    integrator = await make_key("integrator")
    created = await subscribe(client, integrator, "http://127.0.0.1:9/hook", ["ticket.routed"])
    assert created["secret"].startswith("whsec_")
    listed = (await client.get("/api/v1/webhooks", headers=integrator)).json()
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0]


async def test_create_webhook_with_unknown_event_type_is_refused(
    client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    integrator = await make_key("integrator")
    response = await client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/", "event_types": ["ticket.resovled"]},
        headers=integrator,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "event_types"


async def test_create_webhook_as_reader_is_forbidden(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = await make_key("reader")
    response = await client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/", "event_types": ["*"]}, headers=reader
    )
    assert response.status_code == 403


async def test_read_other_keys_webhook_is_not_found(client: httpx.AsyncClient, make_key: KeyMaker) -> None:
    created = await subscribe(client, await make_key("integrator"), "http://127.0.0.1:9/")
    other = await make_key("integrator")
    assert (await client.get(f"/api/v1/webhooks/{created['id']}", headers=other)).status_code == 404


async def test_deliver_integrator_messages_signed_per_standard_webhooks(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump
) -> None:
    integrator = await make_key("integrator")
    hook = await subscribe(client, integrator, receiver.url("/bot"))
    ticket = await file(client, integrator, channel="chatbot")
    await pump()
    bodies = verified(hook["secret"], receiver.at("/bot"))
    assert [b["type"] for b in bodies] == ["ticket.received", "ticket.routed"]
    assert all(b["ticket"]["number"] == ticket["number"] for b in bodies)
    assert ticket["number"] in bodies[0]["citizen_message"]["text"]
    assert "передано виконавцю" in bodies[1]["citizen_message"]["text"]
    assert all(b["ticket"].get("citizen") is None for b in bodies)


async def test_verify_tampered_body_fails(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump
) -> None:
    integrator = await make_key("integrator")
    hook = await subscribe(client, integrator, receiver.url("/bot"), ["ticket.received"])
    await file(client, integrator, channel="chatbot")
    await pump()
    [request] = receiver.at("/bot")
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(request.body.replace(b"received", b"confirmed"), request.headers)


async def test_receiver_500_then_200_gets_message_after_retry(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str], receiver: Receiver, pump: Pump
) -> None:
    receiver.script["/flaky"] = [500]
    hook = await subscribe(client, admin, receiver.url("/flaky"), ["ticket.received"])
    await file(client, admin)
    await pump()
    first, second = receiver.at("/flaky")
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    [delivery] = (await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin)).json()[
        "items"
    ]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 200]
    assert delivery["attempts"][0]["response_excerpt"] == "receiver says no"


async def test_receiver_always_failing_is_dead_lettered_and_replay_delivers(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver, pump: Pump
) -> None:
    receiver.script["/down"] = [503, 503, 503]
    hook = await subscribe(client, admin, receiver.url("/down"), ["ticket.received"])
    await file(client, admin)
    await pump()
    deliveries = f"/api/v1/webhooks/{hook['id']}/deliveries"
    [dead] = (await client.get(deliveries, headers=admin)).json()["items"]
    assert dead["status"] == "dead"
    assert dead["attempt_count"] == 3  # the first try and the two retries of the test schedule
    replayed = await client.post(f"{deliveries}/{dead['id']}/replay", headers=admin)
    assert replayed.status_code == 200, replayed.text
    await pump()
    [delivered] = (await client.get(deliveries, headers=admin)).json()["items"]
    assert delivered["status"] == "delivered"
    assert {r.headers["webhook-id"] for r in receiver.at("/down")} == {dead["webhook_id"]}


async def test_deliveries_for_one_ticket_arrive_in_order(
    client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str], receiver: Receiver, pump: Pump
) -> None:
    receiver.script["/ordered"] = [500]  # the first message fails once; the later ones must wait
    provider = await make_key("provider", "miskvodokanal")
    await subscribe(client, admin, receiver.url("/ordered"))
    ticket = await file(client, admin)
    number = ticket["number"]
    assert (
        await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    ).status_code == 200
    assert (
        await client.post(f"/api/v1/tickets/{number}/start", json={}, headers=provider)
    ).status_code == 200
    await pump()
    arrived = [r.type for r in receiver.at("/ordered")]
    assert arrived == [
        "ticket.received",
        "ticket.received",
        "ticket.routed",
        "ticket.accepted",
        "ticket.started",
    ]


async def test_provider_subscription_never_receives_other_providers_tickets(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump
) -> None:
    operator = await make_key("operator")
    water = await make_key("provider", "miskvodokanal")
    heat = await make_key("provider", "sumyteploenerho")
    await subscribe(client, water, receiver.url("/water"))
    await subscribe(client, heat, receiver.url("/heat"))
    leak = await file(client, operator)
    cold = await file(client, operator, category_code="no-heating", description="Холодні батареї в квартирі")
    await pump()
    assert {r.number for r in receiver.at("/water")} == {leak["number"]}
    assert {r.number for r in receiver.at("/heat")} == {cold["number"]}


async def test_provider_holding_ticket_receives_citizen_contact(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump
) -> None:
    integrator = await make_key("integrator")
    provider = await make_key("provider", "miskvodokanal")
    await subscribe(client, provider, receiver.url("/provider"), ["ticket.routed"])
    await subscribe(client, integrator, receiver.url("/bot"), ["ticket.routed"])
    await file(client, integrator, channel="chatbot")
    await pump()
    [to_provider] = receiver.at("/provider")
    [to_bot] = receiver.at("/bot")
    assert to_provider.json["ticket"]["citizen"]["phone"] == "+380671234567"
    assert "citizen" not in to_bot.json["ticket"]
    assert b"380671234567" not in to_bot.body


async def test_erased_citizen_contact_is_not_sent(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump, app: Any
) -> None:
    provider = await make_key("provider", "miskvodokanal")
    await subscribe(client, provider, receiver.url("/provider"), ["ticket.routed"])
    await file(client, await make_key("operator"), citizen={"name": "Стерта Особа", "phone": "+380501112233"})
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Citizen).where(Citizen.phone == "+380501112233").values(erased_at=utcnow())  # type: ignore[arg-type]
        )
        await session.commit()
    await pump()
    [request] = receiver.at("/provider")
    assert b"380501112233" not in request.body
    assert request.json["ticket"]["citizen"]["phone"] is None


async def test_rotated_secret_signs_with_both_during_overlap(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver, pump: Pump
) -> None:
    hook = await subscribe(client, admin, receiver.url("/rotated"), ["ticket.received"])
    rotated = await client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret", json={"overlap_hours": 1}, headers=admin
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret"] != hook["secret"]
    await file(client, admin)
    await pump()
    [request] = receiver.at("/rotated")
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verified(hook["secret"], [request])
    verified(rotated.json()["secret"], [request])


async def test_deleted_webhook_receives_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], receiver: Receiver, pump: Pump
) -> None:
    hook = await subscribe(client, admin, receiver.url("/gone"))
    assert (await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin)).status_code == 204
    await file(client, admin)
    await pump()
    assert receiver.at("/gone") == []


async def test_must_show_integrator_provider_and_phone_loop(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump
) -> None:
    """The issue's scenario, in-process: chatbot appeal → provider → resolved → citizen rejects → reopened."""
    bot = await make_key("integrator", name="city chatbot")
    provider = await make_key("provider", "miskvodokanal")
    bot_hook = await subscribe(client, bot, receiver.url("/bot"))
    provider_hook = await subscribe(
        client, provider, receiver.url("/provider"), ["ticket.routed", "ticket.reopened"]
    )
    ticket = await file(client, bot, channel="chatbot")
    number, token = ticket["number"], ticket["citizen_token"]
    await pump()
    assert [b["type"] for b in verified(bot_hook["secret"], receiver.at("/bot"))] == [
        "ticket.received",
        "ticket.routed",
    ]
    assert [b["type"] for b in verified(provider_hook["secret"], receiver.at("/provider"))] == [
        "ticket.routed"
    ]

    assert (
        await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=provider)
    ).status_code == 200
    resolved = await client.post(
        f"/api/v1/tickets/{number}/resolve",
        json={"resolution": "Замінено ділянку труби, витік усунуто", "work_order": "WO-15"},
        headers=provider,
    )
    assert resolved.status_code == 200, resolved.text
    await pump()
    resolved_msg = verified(bot_hook["secret"], receiver.at("/bot"))[-1]
    assert resolved_msg["type"] == "ticket.resolved"
    actions = {a["action"]: a for a in resolved_msg["citizen_message"]["actions"]}
    assert actions["reject"]["url"].endswith(f"/api/v1/tickets/{number}/reject")

    rejected = await client.post(
        actions["reject"]["url"], json={"reason": "Вода досі тече"}, headers={"X-Citizen-Token": token}
    )
    assert rejected.status_code == 200, rejected.text
    await pump()
    provider_types = [b["type"] for b in verified(provider_hook["secret"], receiver.at("/provider"))]
    assert provider_types == ["ticket.routed", "ticket.reopened"]

    operator = await make_key("operator")
    phone = await file(client, operator, channel="phone", citizen={"phone": "+380661234567"})
    assert (
        await client.post(f"/api/v1/tickets/{phone['number']}/accept", json={}, headers=provider)
    ).status_code == 200
    await client.post(
        f"/api/v1/tickets/{phone['number']}/resolve",
        json={"resolution": "Засувку перекрито, трубу замінено", "work_order": "WO-16"},
        headers=provider,
    )
    queue = (await client.get("/api/v1/callbacks", headers=operator)).json()
    assert phone["number"] in [task["ticket_number"] for task in queue]


async def test_provider_that_declined_hears_no_more_of_the_ticket(
    client: httpx.AsyncClient, make_key: KeyMaker, receiver: Receiver, pump: Pump
) -> None:
    operator = await make_key("operator")
    water = await make_key("provider", "miskvodokanal")
    infra = await make_key("provider", "departament-infrastruktury")
    await subscribe(client, water, receiver.url("/water"))
    number = (await file(client, operator))["number"]
    await client.post(f"/api/v1/tickets/{number}/decline", json={"reason": "Мережа ОСББ"}, headers=water)
    await client.post(
        f"/api/v1/tickets/{number}/route",
        json={"provider_code": "departament-infrastruktury"},
        headers=operator,
    )
    await client.post(f"/api/v1/tickets/{number}/accept", json={}, headers=infra)
    await pump()
    assert [r.type for r in receiver.at("/water")] == ["ticket.routed", "ticket.declined"]
