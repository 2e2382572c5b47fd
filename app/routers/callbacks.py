"""The operators' call-back queue: confirmation calls to phone citizens and missed calls."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.models import CallbackReason
from app.routers.deps import PrincipalDep, RefDep, SessionDep, SettingsDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.callbacks import CallbackOutcomeIn, CallbackRead
from app.services import callback_outcomes
from app.services.callback_outcomes import QueueItem

router = APIRouter(prefix="/api/v1/callbacks", tags=["callbacks"], route_class=TransactionalRoute)


def _read(item: QueueItem) -> CallbackRead:
    task, citizen = item.task, item.citizen
    return CallbackRead(
        id=task.id or 0,
        reason=task.reason,
        status=task.status,
        due_at=task.due_at,
        attempts=task.attempts,
        phone=task.phone,
        citizen_name=citizen.name if citizen and citizen.erased_at is None else None,
        ticket_number=item.ticket.number if item.ticket else None,
        ticket_status=item.ticket.status if item.ticket else None,
        call_id=task.call_id,
        outcome=task.outcome,
        note=task.note,
        created_at=task.created_at,
        completed_at=task.completed_at,
        completed_by=task.completed_by,
    )


@router.get("", response_model=list[CallbackRead])
async def callback_queue(
    session: SessionDep,
    principal: PrincipalDep,
    reason: CallbackReason | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CallbackRead]:
    """Open call-backs, the most overdue first."""
    callback_outcomes.ensure_operator(principal)
    return [_read(i) for i in await callback_outcomes.queue_items(session, reason=reason, limit=limit)]


@router.post("/{task_id}/outcome", response_model=CallbackRead)
async def callback_outcome(
    task_id: int,
    data: CallbackOutcomeIn,
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    principal: PrincipalDep,
) -> CallbackRead:
    """Record the call: confirmed (rating) / rejected (reason) / unreachable, or reached for a missed call.

    After ``HOTLINE_CALLBACK_MAX_ATTEMPTS`` unreachable confirmation calls the ticket closes as no_response.
    """
    item = await callback_outcomes.record_outcome(
        session,
        ref,
        task_id,
        principal,
        data,
        max_attempts=settings.callback_max_attempts,
        retry_after=timedelta(minutes=settings.callback_retry_minutes),
    )
    return _read(item)
