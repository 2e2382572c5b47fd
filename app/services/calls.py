"""The softphone integration: call events from the PBX, the call log, missed calls as call-backs.

A PBX delivers each event at least once and not always in order, so every event only fills in what
it knows: an ``answer`` or ``hangup`` for an unknown callId creates the call, a repeated event is
recognised by the call's ``events`` list and changes nothing, and times are kept in order
(started ≤ answered ≤ ended) whatever order they arrived in.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import Conflict, NotFound
from app.models import (
    BlockedNumber,
    Call,
    CallbackReason,
    CallbackStatus,
    CallDirection,
    CallOutcome,
    CallTicket,
    Citizen,
    Ticket,
    utcnow,
)
from app.schemas.cti import CallEventIn, CallEventType
from app.services import callbacks, lifecycle
from app.services.auth import Principal
from app.services.phones import normalize_phone, try_normalize_phone
from app.services.reference import ReferenceData
from app.services.tickets import decode_cursor, encode_cursor, get_ticket

REJECT = {"action": "reject", "reason": "busy"}
FINAL = frozenset(
    {
        CallOutcome.answered,
        CallOutcome.missed,
        CallOutcome.no_answer,
        CallOutcome.busy,
        CallOutcome.failed,
        CallOutcome.forwarded,
        CallOutcome.rejected,
    }
)
REACHED = frozenset({CallOutcome.talking, CallOutcome.answered})
_OUTBOUND_CAUSES = {
    "busy": CallOutcome.busy,
    "congestion": CallOutcome.failed,
    "notFound": CallOutcome.failed,
}


@dataclass(frozen=True)
class CallPolicy:
    region: str = "UA"
    #: How soon a missed call is to be returned.
    callback_due: timedelta = timedelta(minutes=15)


async def apply_event(session: AsyncSession, event: CallEventIn, policy: CallPolicy) -> dict[str, str]:
    """Apply one PBX event (at most once per callId and event) and return the PBX's instruction."""
    call = await _call_for_update(session, event.call_id)
    if event.event.value in call.events:
        return _reply(call, event.event)
    now = utcnow()
    _fill(call, event, policy.region)
    if event.event is CallEventType.new_call:
        if call.direction is CallDirection.inbound and call.phone and await is_blocked(session, call.phone):
            call.outcome = CallOutcome.rejected
    elif event.event is CallEventType.answer:
        call.answered_at = min(now, call.ended_at) if call.ended_at else now
        call.outcome = CallOutcome.answered if call.ended_at else CallOutcome.talking
        call.operator = event.user or call.operator
    else:
        call.ended_at = now
        call.hangup_cause = event.cause or call.hangup_cause
        call.outcome = _ended_outcome(call)
    if call.answered_at and call.ended_at:
        call.duration_seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
    call.events = [*call.events, event.event.value]
    call.updated_at = now
    await _settle_callbacks(session, call, policy)
    await session.flush()
    return _reply(call, event.event)


def _reply(call: Call, event: CallEventType) -> dict[str, str]:
    if event is CallEventType.new_call and call.outcome is CallOutcome.rejected:
        return dict(REJECT)
    return {}


async def _call_for_update(session: AsyncSession, call_id: str) -> Call:
    """The call row, locked; created if this is its first event (twin first events race safely)."""
    query = select(Call).where(col(Call.call_id) == call_id).with_for_update()
    call = await session.scalar(query)
    if call is not None:
        return call
    call = Call(call_id=call_id, events=[])
    try:
        async with session.begin_nested():
            session.add(call)
    except IntegrityError:
        call = await session.scalar(query.execution_options(populate_existing=True))
        if call is None:
            raise Conflict(f"Call {call_id!r} could not be recorded; retry.") from None
    return call


def _fill(call: Call, event: CallEventIn, region: str) -> None:
    """What every event may tell: the parties, the queue, the direction."""
    if event.direction is not None:
        call.direction = event.direction
    call.from_number = event.from_number or call.from_number
    call.to_number = event.to_number or call.to_number
    call.queue = event.queue or call.queue
    call.answering_number = event.answering_number or call.answering_number
    if event.user and event.event is not CallEventType.new_call:
        call.operator = call.operator or event.user
    citizen_side = call.from_number if call.direction is CallDirection.inbound else call.to_number
    call.phone = try_normalize_phone(citizen_side, region)


def _ended_outcome(call: Call) -> CallOutcome:
    if call.outcome is CallOutcome.rejected:
        return call.outcome
    if call.answered_at is not None:
        return CallOutcome.answered
    cause = call.hangup_cause or ""
    if cause == "forwarded":
        return CallOutcome.forwarded
    if call.direction is CallDirection.outbound:
        return _OUTBOUND_CAUSES.get(cause, CallOutcome.no_answer)
    # Inbound and never answered, whatever the cause (the caller gave up, the queue was full ...).
    return CallOutcome.failed if cause == "notFound" else CallOutcome.missed


async def _settle_callbacks(session: AsyncSession, call: Call, policy: CallPolicy) -> None:
    """A missed inbound call becomes a call-back, unless the caller got through (then it is done)."""
    if call.phone is None:
        return
    if call.outcome in REACHED:
        for task in await callbacks.open_tasks_for_phone(session, call.phone):
            if task.reason is not CallbackReason.missed_call:
                continue
            # This very call was taken for missed (its hangup came first): the task was never due.
            status = CallbackStatus.cancelled if task.call_id == call.call_id else CallbackStatus.done
            callbacks.finish(task, status, "caller_got_through", by="cti", note=f"call {call.call_id}")
        return
    if call.outcome is not CallOutcome.missed:
        return
    got_through_later = await session.scalar(
        select(Call.id)
        .where(
            col(Call.phone) == call.phone,
            col(Call.started_at) > call.started_at,
            col(Call.answered_at).is_not(None),
        )
        .limit(1)
    )
    if got_through_later is not None:
        return
    citizen_id = await session.scalar(
        select(Citizen.id)
        .where(col(Citizen.phone) == call.phone, col(Citizen.erased_at).is_(None))
        .order_by(col(Citizen.id))
        .limit(1)
    )
    await callbacks.open_task(
        session,
        CallbackReason.missed_call,
        phone=call.phone,
        citizen_id=citizen_id,
        call_id=call.call_id,
        due_at=(call.ended_at or utcnow()) + policy.callback_due,
    )


# --- blocked numbers ------------------------------------------------------------------------------


async def is_blocked(session: AsyncSession, phone: str) -> bool:
    found = await session.scalar(select(BlockedNumber.id).where(col(BlockedNumber.phone) == phone))
    return found is not None


async def block_number(
    session: AsyncSession, raw_phone: str, reason: str, by: Principal, region: str
) -> BlockedNumber:
    phone = normalize_phone(raw_phone, region)
    row = await session.scalar(select(BlockedNumber).where(col(BlockedNumber.phone) == phone))
    if row is None:
        row = BlockedNumber(phone=phone, reason=reason, created_by=by.name)
        session.add(row)
    else:
        row.reason = reason
    await session.flush()
    return row


async def unblock_number(session: AsyncSession, raw_phone: str, region: str) -> None:
    phone = normalize_phone(raw_phone, region)
    row = await session.scalar(select(BlockedNumber).where(col(BlockedNumber.phone) == phone))
    if row is None:
        raise NotFound(f"{phone} is not blocked.")
    await session.delete(row)
    await session.flush()


async def blocked_numbers(session: AsyncSession) -> list[BlockedNumber]:
    return list((await session.scalars(select(BlockedNumber).order_by(col(BlockedNumber.id)))).all())


# --- the call log ----------------------------------------------------------------------------------


@dataclass
class CallFilter:
    phone: str | None = None
    direction: CallDirection | None = None
    outcome: CallOutcome | None = None
    operator: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 50


@dataclass
class LinkedTicket:
    ticket: Ticket
    relation: str


async def list_calls(
    session: AsyncSession, f: CallFilter, region: str
) -> tuple[list[Call], dict[str, list[LinkedTicket]], str | None]:
    """A page of calls, newest first, with the tickets each produced or touched (three queries)."""
    query = select(Call)
    if f.phone:
        query = query.where(col(Call.phone) == normalize_phone(f.phone, region))
    if f.direction:
        query = query.where(col(Call.direction) == f.direction)
    if f.outcome:
        query = query.where(col(Call.outcome) == f.outcome)
    if f.operator:
        query = query.where(col(Call.operator) == f.operator)
    if f.since is not None:
        query = query.where(col(Call.started_at) >= f.since)
    if f.until is not None:
        query = query.where(col(Call.started_at) < f.until)
    if f.cursor:
        query = query.where(col(Call.id) < decode_cursor(f.cursor))
    rows = list((await session.scalars(query.order_by(col(Call.id).desc()).limit(f.limit + 1))).all())
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    linked = await tickets_of_calls(session, [c.call_id for c in rows])
    return rows, linked, encode_cursor(rows[-1].id or 0) if more and rows else None


async def tickets_of_calls(session: AsyncSession, call_ids: list[str]) -> dict[str, list[LinkedTicket]]:
    found: dict[str, list[LinkedTicket]] = {}
    if not call_ids:
        return found
    produced = await session.scalars(
        select(Ticket).where(col(Ticket.call_id).in_(call_ids)).order_by(col(Ticket.id))
    )
    for ticket in produced:
        found.setdefault(ticket.call_id or "", []).append(LinkedTicket(ticket, "produced"))
    touched = await session.execute(
        select(CallTicket.call_id, Ticket)
        .join(Ticket, col(Ticket.id) == col(CallTicket.ticket_id))
        .where(col(CallTicket.call_id).in_(call_ids))
        .order_by(col(CallTicket.id))
    )
    for call_id, ticket in touched:
        links = found.setdefault(call_id, [])
        if all(link.ticket.id != ticket.id for link in links):
            links.append(LinkedTicket(ticket, "touched"))
    return found


async def link_ticket(
    session: AsyncSession, ref: ReferenceData, actor: Principal, call_id: str, number: str
) -> Ticket:
    """Note that the operator dealt with this ticket during the call (and say so on its timeline)."""
    ticket = await get_ticket(session, actor, number)
    exists = await session.scalar(
        select(CallTicket.id).where(
            col(CallTicket.call_id) == call_id, col(CallTicket.ticket_id) == ticket.id
        )
    )
    if exists is None and ticket.call_id != call_id:
        session.add(CallTicket(call_id=call_id, ticket_id=ticket.id or 0, created_by=actor.name))
        lifecycle.record(session, ref, ticket, "call_linked", actor, {"call_id": call_id}, notify=False)
        await session.flush()
    return ticket
