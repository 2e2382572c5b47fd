"""The operators' call-back queue: confirmation calls to phone citizens and returns of missed calls.

Shared by the confirmation loop and the softphone integration; each opens tasks through here.
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.models import CallbackReason, CallbackStatus, CallbackTask, Channel, Citizen, Ticket, utcnow


async def open_task(
    session: AsyncSession,
    reason: CallbackReason,
    *,
    phone: str | None,
    citizen_id: int | None = None,
    ticket_id: int | None = None,
    call_id: str | None = None,
    due_at: datetime | None = None,
) -> CallbackTask:
    """An open task for this reason and ticket/phone, reusing one that is already open."""
    existing = await find_open_task(session, reason, phone=phone, ticket_id=ticket_id)
    if existing is not None:
        return existing
    task = CallbackTask(
        reason=reason,
        phone=phone,
        citizen_id=citizen_id,
        ticket_id=ticket_id,
        call_id=call_id,
        due_at=due_at or utcnow(),
    )
    session.add(task)
    await session.flush()
    return task


async def find_open_task(
    session: AsyncSession, reason: CallbackReason, *, phone: str | None = None, ticket_id: int | None = None
) -> CallbackTask | None:
    query = select(CallbackTask).where(
        col(CallbackTask.status) == CallbackStatus.open, col(CallbackTask.reason) == reason
    )
    if ticket_id is not None:
        query = query.where(col(CallbackTask.ticket_id) == ticket_id)
    elif phone is not None:
        query = query.where(col(CallbackTask.phone) == phone, col(CallbackTask.ticket_id).is_(None))
    else:
        return None
    return await session.scalar(query.order_by(col(CallbackTask.id)).limit(1))


async def open_tasks_for_phone(session: AsyncSession, phone: str) -> list[CallbackTask]:
    query = select(CallbackTask).where(
        col(CallbackTask.status) == CallbackStatus.open, col(CallbackTask.phone) == phone
    )
    return list((await session.scalars(query.order_by(col(CallbackTask.due_at)))).all())


def finish(
    task: CallbackTask, status: CallbackStatus, outcome: str, by: str, note: str | None = None
) -> None:
    task.status = status
    task.outcome = outcome
    task.note = note
    task.completed_at = utcnow()
    task.completed_by = by


async def queue(session: AsyncSession, *, limit: int = 100) -> list[CallbackTask]:
    """Open tasks, the most overdue first."""
    query = (
        select(CallbackTask)
        .where(col(CallbackTask.status) == CallbackStatus.open)
        .order_by(col(CallbackTask.due_at), col(CallbackTask.id))
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def open_confirmation(session: AsyncSession, ticket: Ticket) -> CallbackTask | None:
    """Ask a phone citizen whether the fix is real: a call-back task, if we have a number to call."""
    citizen = await session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    if citizen is None or citizen.erased_at is not None or not citizen.phone:
        return None
    return await open_task(
        session,
        CallbackReason.confirmation,
        phone=citizen.phone,
        citizen_id=citizen.id,
        ticket_id=ticket.id,
    )


async def settle_confirmation(session: AsyncSession, ticket: Ticket, outcome: str, by: str) -> None:
    """The citizen answered some other way: the confirmation call is no longer needed."""
    if ticket.channel is not Channel.phone:
        return
    task = await find_open_task(session, CallbackReason.confirmation, ticket_id=ticket.id)
    if task is not None:
        finish(task, CallbackStatus.cancelled, outcome, by, "answered without the call")
