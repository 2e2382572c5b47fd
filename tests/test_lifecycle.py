"""Every transition of the lifecycle table, and every refused one, through the API."""

from typing import Any

import pytest

from app.models import Status
from app.services.lifecycle import TRANSITIONS, Action
from tests.conftest import RESOLUTION, Actors

STATES = [s.value for s in Status]
# extend has its own tests with the clocks; it needs a deadline to move.
ACTIONS = [a for a in Action if a is not Action.extend]


def call_for(
    action: Action, state: str, citizen: dict[str, str]
) -> tuple[str | dict[str, str], dict[str, Any]]:
    """Who takes the action and with what body, in a way the role rules allow."""
    calls: dict[Action, tuple[str | dict[str, str], dict[str, Any]]] = {
        Action.route: ("operator", {"provider_code": "miskvodokanal"}),
        Action.accept: ("provider", {"executor": "Бригада №3"}),
        Action.decline: ("provider", {"reason": "Це мережа іншого балансоутримувача"}),
        Action.start: ("provider", {}),
        Action.resolve: ("provider", RESOLUTION),
        Action.confirm: (citizen, {"rating": 4}),
        Action.reject: (citizen, {"reason": "Досі тече"}),
        Action.reopen: ("operator", {"reason": "Знову тече"}),
        Action.close: ("operator", {"reason": "no_response" if state == "resolved" else "withdrawn"}),
    }
    return calls[action]


LEGAL = [(a, s) for a in ACTIONS for s in STATES if Status(s) in TRANSITIONS[a].sources]
ILLEGAL = [(a, s) for a in ACTIONS for s in STATES if Status(s) not in TRANSITIONS[a].sources]


@pytest.mark.parametrize(("action", "state"), LEGAL, ids=[f"{a.value}-from-{s}" for a, s in LEGAL])
async def test_transition_moves_and_records_one_event(actors: Actors, action: Action, state: str) -> None:
    created = await actors.ticket_in(state)
    number, citizen = created["number"], {"X-Citizen-Token": created["citizen_token"]}
    before = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["operator"])).json()

    who, body = call_for(action, state, citizen)
    response = await actors.act(number, action.value, who, body)

    assert response.status_code == 200, response.text
    expected = TRANSITIONS[action].target or Status(state)
    assert response.json()["status"] == expected.value
    after = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["operator"])).json()
    assert len(after) == len(before) + 1
    assert (after[-1]["from_status"], after[-1]["to_status"]) == (state, expected.value)


@pytest.mark.parametrize(("action", "state"), ILLEGAL, ids=[f"{a.value}-from-{s}" for a, s in ILLEGAL])
async def test_illegal_transition_is_409_naming_state_and_allowed(
    actors: Actors, action: Action, state: str
) -> None:
    created = await actors.ticket_in(state)
    number, citizen = created["number"], {"X-Citizen-Token": created["citizen_token"]}
    before = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["admin"])).json()

    # The admin may take every action, so the refusal comes from the state alone.
    _, body = call_for(action, state, citizen)
    response = await actors.act(number, action.value, "admin", body)

    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:hotline:problem:illegal-transition"
    assert problem["current_status"] == state
    assert set(problem["allowed_actions"]) == {
        a.value for a, m in TRANSITIONS.items() if Status(state) in m.sources
    }
    after = (await actors.client.get(f"/api/v1/tickets/{number}/events", headers=actors["admin"])).json()
    assert len(after) == len(before)
