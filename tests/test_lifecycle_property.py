"""A generated state-machine test: random sequences of actions by random actors, through the services.

After every step: a successful change wrote exactly one event, a refused one wrote none; the state is
the one the transition table names; the reopen count never falls; nothing leaves a final state but a
reopen.
"""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import DomainError
from app.models import CloseReason, Status, Ticket, TicketEvent
from app.schemas.tickets import (
    AcceptIn,
    CloseIn,
    ConfirmIn,
    DeclineIn,
    RejectIn,
    ReopenIn,
    ResolveIn,
    RouteIn,
    StartIn,
    TicketCreate,
)
from app.services import actions
from app.services.auth import Principal
from app.services.lifecycle import FINAL_STATES, TRANSITIONS, Action
from app.services.reference import ReferenceData
from app.services.tickets import file_ticket
from tests.conftest import water_ticket

WINDOW = __import__("datetime").timedelta(days=30)


def principals(ref: ReferenceData) -> dict[str, Principal]:
    vodokanal = ref.provider_by_code["miskvodokanal"].id
    other = ref.provider_by_code["misksvitlo"].id
    return {
        "operator": Principal(kind="key", name="op", role="operator", key_id=None),
        "provider": Principal(kind="key", name="vk", role="provider", provider_id=vodokanal),
        "other_provider": Principal(kind="key", name="ms", role="provider", provider_id=other),
        "reader": Principal(kind="key", name="rd", role="reader"),
        "citizen": Principal(kind="citizen", name="citizen", role="citizen"),
        "supervisor": Principal(kind="key", name="sv", role="supervisor"),
    }


STEP = st.tuples(
    st.sampled_from([a for a in Action if a is not Action.extend]),
    st.sampled_from(["operator", "provider", "other_provider", "reader", "citizen", "supervisor"]),
    st.sampled_from(list(CloseReason)),
)


async def _apply(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    action: Action,
    who: Principal,
    reason: CloseReason,
) -> None:
    calls: dict[Action, Any] = {
        Action.route: lambda: actions.route(
            session, ref, ticket, who, RouteIn(provider_code="miskvodokanal")
        ),
        Action.accept: lambda: actions.accept(session, ref, ticket, who, AcceptIn()),
        Action.decline: lambda: actions.decline(session, ref, ticket, who, DeclineIn(reason="не наше")),
        Action.start: lambda: actions.start(session, ref, ticket, who, StartIn()),
        Action.resolve: lambda: actions.resolve(
            session, ref, ticket, who, ResolveIn(resolution="Замінили засувку", work_order="WO-1")
        ),
        Action.confirm: lambda: actions.confirm(session, ref, ticket, who, ConfirmIn(rating=5)),
        Action.reject: lambda: actions.reject(session, ref, ticket, who, RejectIn(reason="тече далі")),
        Action.reopen: lambda: actions.reopen(session, ref, ticket, who, ReopenIn(reason="знову"), WINDOW),
        Action.close: lambda: actions.close(
            session, ref, ticket, who, CloseIn(reason=reason, duplicate_of=None)
        ),
    }
    await calls[action]()


async def _events(session: AsyncSession, ticket: Ticket) -> int:
    count = await session.scalar(
        select(func.count()).select_from(TicketEvent).where(col(TicketEvent.ticket_id) == ticket.id)
    )
    return int(count or 0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=14))
async def test_random_action_sequences_keep_invariants(
    session: AsyncSession, reference: ReferenceData, steps: list[tuple[Action, str, CloseReason]]
) -> None:
    nested = await session.begin_nested()
    try:
        who = principals(reference)
        filed = await file_ticket(
            session, reference, TicketCreate.model_validate(water_ticket()), who["operator"]
        )
        ticket = filed.ticket
        who["citizen"] = Principal(kind="citizen", name="citizen", role="citizen", ticket_id=ticket.id)
        for action, role, reason in steps:
            before_status, before_reopens = ticket.status, ticket.reopen_count
            before_events = await _events(session, ticket)
            try:
                async with session.begin_nested():
                    await _apply(session, reference, ticket, action, who[role], reason)
                    await session.flush()
                succeeded = True
            except DomainError:
                succeeded = False
                await session.refresh(ticket)
            after_events = await _events(session, ticket)
            assert after_events == before_events + (1 if succeeded else 0)
            assert ticket.reopen_count >= before_reopens
            if succeeded:
                assert before_status in TRANSITIONS[action].sources
                assert ticket.status == (TRANSITIONS[action].target or before_status)
                if before_status in FINAL_STATES:
                    assert action is Action.reopen
            else:
                assert ticket.status == before_status
            assert ticket.status in Status
    finally:
        await nested.rollback()
