"""The lifecycle as data: one transition table, one function every change goes through.

``change()`` checks a move against ``TRANSITIONS``, applies it, and writes the event row and the
outbox row in the caller's transaction. Events that change no state (SLA marks, notes) go through
``record()``, which writes the same pair.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import IllegalTransition
from app.models import OutboxMessage, Status, Ticket, TicketEvent, utcnow
from app.services import metrics
from app.services.auth import Principal
from app.services.new_rows import NewRows
from app.services.reference import ReferenceData
from app.services.views import ticket_view


class Action(StrEnum):
    route = "route"
    accept = "accept"
    decline = "decline"
    start = "start"
    resolve = "resolve"
    confirm = "confirm"
    reject = "reject"
    reopen = "reopen"
    close = "close"
    extend = "extend"


@dataclass(frozen=True)
class Move:
    sources: frozenset[Status]
    #: The state the move leads to; None keeps the current one.
    target: Status | None


def _from(*states: Status) -> frozenset[Status]:
    return frozenset(states)


S = Status
TRANSITIONS: dict[Action, Move] = {
    Action.route: Move(_from(S.received, S.routed), S.routed),
    Action.accept: Move(_from(S.routed), S.assigned),
    Action.decline: Move(_from(S.routed), S.received),
    Action.start: Move(_from(S.assigned), S.in_progress),
    Action.resolve: Move(_from(S.assigned, S.in_progress), S.resolved),
    Action.confirm: Move(_from(S.resolved), S.confirmed),
    Action.reject: Move(_from(S.resolved), S.assigned),
    Action.reopen: Move(_from(S.confirmed, S.closed), S.assigned),
    Action.close: Move(_from(S.received, S.routed, S.assigned, S.in_progress, S.resolved), S.closed),
    Action.extend: Move(_from(S.received, S.routed, S.assigned, S.in_progress), None),
}

FINAL_STATES = frozenset({Status.confirmed, Status.closed})

#: The event type (and ``ticket.<type>`` webhook) that each action writes.
EVENT_OF_ACTION: dict[Action, str] = {
    Action.route: "routed",
    Action.accept: "accepted",
    Action.decline: "declined",
    Action.start: "started",
    Action.resolve: "resolved",
    Action.confirm: "confirmed",
    Action.reject: "rejected",
    Action.reopen: "reopened",
    Action.close: "closed",
    Action.extend: "deadline_extended",
}


#: Further messages an action sends besides its own: a rejection is also a reopen for the provider.
ALSO_ANNOUNCED: dict[Action, tuple[str, ...]] = {Action.reject: ("reopened",)}


def allowed_actions(status: Status) -> list[str]:
    return [action.value for action, move in TRANSITIONS.items() if status in move.sources]


def check(ticket: Ticket, action: Action) -> Status:
    """The state the action leads to from the ticket's state, or IllegalTransition."""
    move = TRANSITIONS[action]
    if ticket.status not in move.sources:
        raise IllegalTransition(
            f"Ticket {ticket.number} is {ticket.status.value}; '{action.value}' is not possible now.",
            current_status=ticket.status.value,
            allowed_actions=allowed_actions(ticket.status),
        )
    return move.target or ticket.status


def change(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    action: Action,
    actor: Principal,
    payload: dict[str, Any] | None = None,
    *,
    rows: NewRows | None = None,
) -> None:
    """Move the ticket by ``action`` and record it. Set the ticket's other fields before calling.

    ``rows``: the ticket is being filed; its event and outbox rows are collected there (see
    ``app.services.new_rows``) rather than added to the session as ORM objects.
    """
    target = check(ticket, action)
    before = ticket.status
    ticket.status = target
    record(
        session,
        ref,
        ticket,
        EVENT_OF_ACTION[action],
        actor,
        payload,
        from_status=before,
        also_announce=ALSO_ANNOUNCED.get(action, ()),
        rows=rows,
    )


def record(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    event_type: str,
    actor: Principal,
    payload: dict[str, Any] | None = None,
    *,
    from_status: Status | None = None,
    notify: bool = True,
    also_announce: tuple[str, ...] = (),
    rows: NewRows | None = None,
) -> None:
    """Append an event, and the outbox message that reports it, to the current transaction.

    With ``rows`` (a ticket being filed) both are collected there as plain rows, written by
    ``new_rows.write()`` in the same transaction.
    """
    now = utcnow()
    ticket.updated_at = now
    data = payload or {}
    values: dict[str, Any] = {
        "type": event_type,
        "from_status": from_status,
        "to_status": ticket.status,
        "actor_type": actor.kind,
        "actor_id": actor.key_id,
        "actor_name": actor.name,
        "actor_role": actor.role,
        "at": now,
        "payload": data,
    }
    event: TicketEvent | None = None
    index = 0
    if rows is None:
        event = TicketEvent(**values)
        event.ticket = ticket
        session.add(event)
    else:
        index = rows.add_event(values)
    metrics.observe(session, ref, ticket, event_type, data, from_status, ticket.status)
    if not notify:
        return
    # The snapshot has no personal data: the dispatcher adds the citizen's contact, as it is at
    # delivery time (or erased), for the receivers allowed to see it.
    snapshot = ticket_view(ticket, ref).model_dump(mode="json", exclude={"citizen"})
    for announced in (event_type, *also_announce):
        message_type = f"ticket.{announced}"
        message_payload = {
            "type": message_type,
            "at": now.isoformat(),
            "actor": {"type": actor.kind, "name": actor.name, "role": actor.role},
            "from_status": from_status.value if from_status else None,
            "to_status": ticket.status.value,
            "data": data,
            "ticket": snapshot,
        }
        if rows is not None:
            rows.outbox.append((index, {"type": message_type, "created_at": now, "payload": message_payload}))
            continue
        message = OutboxMessage(type=message_type, created_at=now, payload=message_payload)
        message.event = event
        message.ticket = ticket
        session.add(message)
