"""What each action demands and records, beyond the state change itself."""

from tests.conftest import RESOLUTION, Actors


async def test_decline_without_reason_is_422(actors: Actors) -> None:
    number = (await actors.file())["number"]
    response = await actors.act(number, "decline", "provider", {})
    assert response.status_code == 422
    assert response.json()["type"] == "urn:hotline:problem:validation-error"


async def test_decline_returns_to_dispatcher_with_reason(actors: Actors) -> None:
    number = (await actors.file())["number"]
    response = await actors.act(number, "decline", "provider", {"reason": "Приватна мережа ОСББ"})
    body = response.json()
    assert body["status"] == "received" and body["provider"] is None
    events = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["operator"])).json()
    assert events[-1]["type"] == "declined"
    assert events[-1]["payload"] == {"reason": "Приватна мережа ОСББ", "provider": "miskvodokanal"}


async def test_dispatcher_routes_without_provider_by_rules(actors: Actors) -> None:
    number = (await actors.ticket_in("received"))["number"]
    response = await actors.act(number, "route", "operator", {})
    assert response.json()["provider"]["code"] == "miskvodokanal"


async def test_route_without_matching_rule_asks_for_provider(actors: Actors) -> None:
    created = await actors.file(category_code="other")
    assert created["status"] == "received"
    response = await actors.act(created["number"], "route", "operator", {})
    assert response.status_code == 422
    assert response.json()["type"] == "urn:hotline:problem:invalid-input"


async def test_reroute_records_previous_provider(actors: Actors) -> None:
    number = (await actors.file())["number"]
    response = await actors.act(
        number, "route", "supervisor", {"provider_code": "departament-infrastruktury"}
    )
    assert response.json()["provider"]["code"] == "departament-infrastruktury"
    events = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["operator"])).json()
    assert events[-1]["payload"]["previous_provider"] == "miskvodokanal"


async def test_resolve_without_evidence_is_refused_where_category_demands(actors: Actors) -> None:
    number = (await actors.ticket_in("assigned"))["number"]
    response = await actors.act(number, "resolve", "provider", {"resolution": "Замінено ділянку труби"})
    assert response.status_code == 422
    assert "evidence" in response.json()["detail"]
    ok = await actors.act(
        number,
        "resolve",
        "provider",
        {"resolution": "Замінено ділянку труби", "evidence_url": "https://x.ua/p.jpg"},
    )
    assert ok.status_code == 200 and ok.json()["evidence_url"] == "https://x.ua/p.jpg"


async def test_resolve_as_passed_on_is_refused(actors: Actors) -> None:
    number = (await actors.ticket_in("assigned"))["number"]
    response = await actors.act(
        number, "resolve", "provider", {"resolution": "Передано в роботу", "work_order": "1"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "resolution"


async def test_resolve_with_malformed_evidence_url_is_422(actors: Actors) -> None:
    number = (await actors.ticket_in("assigned"))["number"]
    response = await actors.act(number, "resolve", "provider", {**RESOLUTION, "evidence_url": "not a url"})
    assert response.status_code == 422


async def test_reject_counts_reopen_and_keeps_provider(actors: Actors) -> None:
    created = await actors.ticket_in("resolved")
    response = await actors.act(
        created["number"], "reject", {"X-Citizen-Token": created["citizen_token"]}, {"reason": "Досі тече"}
    )
    body = response.json()
    assert body["status"] == "assigned" and body["reopen_count"] == 1
    assert body["provider"]["code"] == "miskvodokanal" and body["resolved_at"] is None


async def test_confirm_stores_rating_and_comment(actors: Actors) -> None:
    created = await actors.ticket_in("resolved")
    response = await actors.act(
        created["number"],
        "confirm",
        {"X-Citizen-Token": created["citizen_token"]},
        {"rating": 5, "comment": "Дякую"},
    )
    body = response.json()
    assert (body["status"], body["rating"], body["rating_comment"]) == ("confirmed", 5, "Дякую")


async def test_confirm_rating_out_of_range_is_422(actors: Actors) -> None:
    created = await actors.ticket_in("resolved")
    response = await actors.act(
        created["number"], "confirm", {"X-Citizen-Token": created["citizen_token"]}, {"rating": 9}
    )
    assert response.status_code == 422


async def test_reopen_after_confirmation_counts_and_assigns(actors: Actors) -> None:
    number = (await actors.ticket_in("confirmed"))["number"]
    body = (await actors.act(number, "reopen", "operator", {"reason": "Знову тече"})).json()
    assert (body["status"], body["reopen_count"], body["rating"]) == ("assigned", 1, None)


async def test_reopen_of_withdrawn_ticket_is_refused(actors: Actors) -> None:
    number = (await actors.file())["number"]
    await actors.act(number, "close", "operator", {"reason": "withdrawn"})
    response = await actors.act(number, "reopen", "operator", {"reason": "Передумав"})
    assert response.status_code == 422


async def test_close_as_duplicate_names_original(actors: Actors) -> None:
    original = (await actors.file())["number"]
    copy = (await actors.file())["number"]
    missing = await actors.act(copy, "close", "operator", {"reason": "duplicate"})
    assert missing.status_code == 422
    response = await actors.act(copy, "close", "operator", {"reason": "duplicate", "duplicate_of": original})
    assert response.json()["close_reason"] == "duplicate"


async def test_close_resolved_needs_no_response_reason(actors: Actors) -> None:
    number = (await actors.ticket_in("resolved"))["number"]
    response = await actors.act(number, "close", "operator", {"reason": "withdrawn"})
    assert response.status_code == 422


async def test_consultation_is_closed_at_once(actors: Actors) -> None:
    created = await actors.file(
        kind="consultation", category_code="consultation", answer="Графік відключень на сайті міськради"
    )
    assert created["status"] == "closed" and created["close_reason"] == "consultation"
    assert created["resolution"] == "Графік відключень на сайті міськради"
    events = (
        await actors.client.get(f"/api/v1/tickets/{created['number']}/events", headers=actors["operator"])
    ).json()
    assert [e["type"] for e in events] == ["received", "closed"]


async def test_consultation_without_answer_is_refused(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/tickets",
        json={
            "channel": "phone",
            "kind": "consultation",
            "category_code": "consultation",
            "description": "Питання",
        },
        headers=actors["operator"],
    )
    assert response.status_code == 422


async def test_timeline_lists_every_step_with_actor(actors: Actors) -> None:
    created = await actors.ticket_in("confirmed")
    events = (
        await actors.client.get(f"/api/v1/tickets/{created['number']}/events", headers=actors["operator"])
    ).json()
    steps = [(e["type"], e["actor"]["role"]) for e in events]
    assert steps == [
        ("received", "operator"),
        ("routed", "operator"),
        ("accepted", "provider"),
        ("resolved", "provider"),
        ("confirmed", "citizen"),
    ]
