"""What came of a call-back: the operator's answer becomes the ticket's confirm, reject or no_response."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import Forbidden, InvalidInput, NotFound
from app.models import (
    CallbackReason,
    CallbackStatus,
    CallbackTask,
    Citizen,
    CloseReason,
    Ticket,
    utcnow,
)
from app.schemas.callbacks import CallbackOutcomeIn, Outcome
from app.schemas.tickets import ConfirmIn, RejectIn
from app.services import actions, callbacks
from app.services.access import STAFF
from app.services.auth import Principal
from app.services.reference import ReferenceData

OUTCOMES: dict[CallbackReason, frozenset[Outcome]] = {
    CallbackReason.confirmation: frozenset({Outcome.confirmed, Outcome.rejected, Outcome.unreachable}),
    CallbackReason.missed_call: frozenset({Outcome.reached, Outcome.unreachable}),
}


@dataclass
class QueueItem:
    task: CallbackTask
    ticket: Ticket | None
    citizen: Citizen | None


def ensure_operator(principal: Principal) -> None:
    if principal.role not in STAFF:
        raise Forbidden(f"A {principal.role} key may not work the call-back queue.")


async def queue_items(
    session: AsyncSession, *, reason: CallbackReason | None = None, limit: int = 100
) -> list[QueueItem]:
    """Open tasks, the most overdue first, with their tickets and citizens (one query each)."""
    query = select(CallbackTask).where(col(CallbackTask.status) == CallbackStatus.open)
    if reason is not None:
        query = query.where(col(CallbackTask.reason) == reason)
    query = query.order_by(col(CallbackTask.due_at), col(CallbackTask.id)).limit(limit)
    tasks = list((await session.scalars(query)).all())
    ticket_ids = {t.ticket_id for t in tasks if t.ticket_id}
    citizen_ids = {t.citizen_id for t in tasks if t.citizen_id}
    tickets = (
        {t.id: t for t in await session.scalars(select(Ticket).where(col(Ticket.id).in_(ticket_ids)))}
        if ticket_ids
        else {}
    )
    citizens = (
        {c.id: c for c in await session.scalars(select(Citizen).where(col(Citizen.id).in_(citizen_ids)))}
        if citizen_ids
        else {}
    )
    return [QueueItem(t, tickets.get(t.ticket_id or 0), citizens.get(t.citizen_id or 0)) for t in tasks]


async def record_outcome(
    session: AsyncSession,
    ref: ReferenceData,
    task_id: int,
    actor: Principal,
    data: CallbackOutcomeIn,
    *,
    max_attempts: int,
    retry_after: timedelta,
) -> QueueItem:
    """Apply the call's outcome to the task and, for a confirmation, to its ticket."""
    ensure_operator(actor)
    task = await session.get(CallbackTask, task_id)
    if task is None:
        raise NotFound(f"No call-back task {task_id}.")
    if task.status is not CallbackStatus.open:
        raise InvalidInput(f"Call-back task {task_id} is already {task.status.value}.", field="outcome")
    if data.outcome not in OUTCOMES[task.reason]:
        allowed = ", ".join(sorted(o.value for o in OUTCOMES[task.reason]))
        raise InvalidInput(f"A {task.reason.value} call ends as one of: {allowed}.", field="outcome")
    ticket = await session.get(Ticket, task.ticket_id) if task.ticket_id else None
    if task.reason is CallbackReason.confirmation and ticket is None:
        raise InvalidInput(f"Call-back task {task_id} has no ticket to confirm.")
    task.attempts += 1
    if data.outcome is Outcome.confirmed:
        assert ticket is not None
        await actions.confirm(
            session, ref, ticket, actor, ConfirmIn(rating=data.rating, comment=data.comment)
        )
        callbacks.finish(task, CallbackStatus.done, data.outcome.value, actor.name, data.note)
    elif data.outcome is Outcome.rejected:
        if not data.reason:
            raise InvalidInput("Say what the citizen says is still wrong (reason).", field="reason")
        assert ticket is not None
        await actions.reject(session, ref, ticket, actor, RejectIn(reason=data.reason))
        callbacks.finish(task, CallbackStatus.done, data.outcome.value, actor.name, data.note)
    elif data.outcome is Outcome.reached:
        callbacks.finish(task, CallbackStatus.done, data.outcome.value, actor.name, data.note)
    elif task.attempts < max_attempts:
        task.outcome = data.outcome.value
        task.note = data.note
        task.due_at = utcnow() + retry_after
    elif ticket is not None and task.reason is CallbackReason.confirmation:
        await actions.close_ticket(
            session,
            ref,
            ticket,
            actor,
            CloseReason.no_response,
            {"reason": CloseReason.no_response.value, "unreachable_calls": task.attempts},
        )
        callbacks.finish(task, CallbackStatus.done, CloseReason.no_response.value, actor.name, data.note)
    else:
        callbacks.finish(task, CallbackStatus.cancelled, data.outcome.value, actor.name, data.note)
    await session.flush()
    citizen = await session.get(Citizen, task.citizen_id) if task.citizen_id else None
    return QueueItem(task, ticket, citizen)
