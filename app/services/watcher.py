"""The SLA watcher: warns and breaches running clocks exactly once, escalates breaches, and closes
resolved tickets whose citizen stayed silent.

Several watchers may run at once (replicas, ``python -m app.workers``): clocks and tickets are
claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and every mark is a conditional UPDATE
(``... WHERE warned_at IS NULL``) whose row count decides who records the event, so a mark is
written once even where row locks do not exist (SQLite, which runs one watcher anyway).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.models import CloseReason, SlaClock, Status, Ticket
from app.services.actions import close_ticket
from app.services.auth import SYSTEM
from app.services.deadlines import is_live
from app.services.lifecycle import record
from app.services.reference import ReferenceData

#: Who hears of an escalation (the webhook deliverer routes by these names).
ESCALATE_TO = ["supervisors", "provider"]


@dataclass
class WatchResult:
    warned: int = 0
    breached: int = 0
    settled: int = 0
    closed: int = 0
    numbers: list[str] = field(default_factory=list)

    @property
    def busy(self) -> int:
        return self.warned + self.breached + self.settled + self.closed


async def watch_clocks(
    session: AsyncSession, ref: ReferenceData, now: datetime, *, limit: int = 200
) -> WatchResult:
    """One pass over the clocks past their warning time. Call inside a unit of work."""
    result = WatchResult()
    claim = (
        select(SlaClock)
        .where(
            col(SlaClock.settled_at).is_(None),
            # Only clocks with something to record: a warned clock waits here until it is due, so a
            # crowd of warned long clocks can never starve a due one out of the batch.
            or_(
                and_(col(SlaClock.warned_at).is_(None), col(SlaClock.warn_at) <= now),
                col(SlaClock.due_at) <= now,
            ),
        )
        .order_by(col(SlaClock.due_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    clocks = list((await session.scalars(claim)).all())
    if not clocks:
        return result
    ids = {c.ticket_id for c in clocks}
    tickets = {t.id: t for t in (await session.scalars(select(Ticket).where(col(Ticket.id).in_(ids)))).all()}
    for clock in clocks:
        ticket = tickets[clock.ticket_id]
        if not is_live(clock, ticket):
            if await _mark(session, clock, {"settled_at": now}):
                result.settled += 1
            continue
        stage = clock.stage.value
        provider = ref.providers.get(ticket.provider_id or 0)
        payload: dict[str, Any] = {
            "stage": stage,
            "due_at": clock.due_at.isoformat(),
            "started_at": clock.started_at.isoformat(),
            "provider": provider.code if provider else None,
        }
        if clock.due_at <= now:
            # A breach found late settles the warning too: a warning after the fact tells no one anything.
            marks = {"breached_at": now, "settled_at": now, "warned_at": clock.warned_at or now}
            if await _mark(session, clock, marks):
                record(session, ref, ticket, "sla_breached", SYSTEM, payload)
                record(session, ref, ticket, "escalated", SYSTEM, {**payload, "to": ESCALATE_TO})
                result.breached += 1
                result.numbers.append(ticket.number)
        elif clock.warned_at is None and await _mark(session, clock, {"warned_at": now}, unwarned=True):
            record(session, ref, ticket, "sla_warning", SYSTEM, payload)
            result.warned += 1
    await session.flush()
    return result


async def _mark(
    session: AsyncSession, clock: SlaClock, values: dict[str, datetime], *, unwarned: bool = False
) -> bool:
    """Set the marks if nobody has: the row count says whether this watcher won the clock."""
    query = update(SlaClock).where(col(SlaClock.id) == clock.id, col(SlaClock.settled_at).is_(None))
    if unwarned:
        query = query.where(col(SlaClock.warned_at).is_(None))
    outcome = await session.execute(query.values(**values).execution_options(synchronize_session=False))
    assert isinstance(outcome, CursorResult)
    if outcome.rowcount != 1:
        return False
    for name, value in values.items():
        setattr(clock, name, value)
    return True


async def close_silent(
    session: AsyncSession, ref: ReferenceData, now: datetime, silent_for: timedelta, *, limit: int = 200
) -> WatchResult:
    """Close resolved tickets the citizen has not answered for ``silent_for`` as no_response."""
    result = WatchResult()
    claim = (
        select(Ticket)
        .where(col(Ticket.status) == Status.resolved, col(Ticket.resolved_at) <= now - silent_for)
        .order_by(col(Ticket.resolved_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    for ticket in (await session.scalars(claim)).all():
        silent_days = round((now - (ticket.resolved_at or now)).total_seconds() / 86400, 1)
        payload = {"reason": CloseReason.no_response.value, "silent_days": silent_days}
        await close_ticket(session, ref, ticket, SYSTEM, CloseReason.no_response, payload)
        result.closed += 1
        result.numbers.append(ticket.number)
    await session.flush()
    return result
