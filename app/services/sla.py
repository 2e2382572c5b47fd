"""SLA policies and clocks: which deadline a stage gets, starting it, moving the statutory one.

A stage's clock starts where the stage starts: ``hand_to()`` (acknowledge), ``accept`` and
``reject``/``reopen`` (resolve), ``file_ticket`` (statutory). Each start stores the due time on the
ticket (and the handoff) and adds an ``SlaClock`` row that the watcher settles.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import InvalidInput, NotFound
from app.models import (
    ANY_PRIORITY,
    Category,
    Handoff,
    Priority,
    SlaClock,
    SlaPolicy,
    SlaStage,
    Ticket,
    utcnow,
)
from app.schemas.sla import SlaPolicyIn, SlaPolicyRead, SlaTerms
from app.schemas.tickets import ExtendIn
from app.services.access import ensure_may_act
from app.services.auth import Principal
from app.services.catalog import RELOAD_REFERENCE
from app.services.lifecycle import Action, change, check
from app.services.new_rows import NewRows
from app.services.reference import ReferenceData
from app.services.sla_calendar import add, length, parse_duration


@dataclass(frozen=True)
class Deadline:
    warn_at: datetime
    due_at: datetime


def policy_for(ref: ReferenceData, category_id: int, priority: Priority) -> SlaPolicy | None:
    """The nearest policy up the category tree: the priority's own row first, then the "any" row."""
    for category in ref.category_ancestry(category_id):
        rows = ref.sla_policies.get(category)
        if rows:
            found = rows.get(priority.value) or rows.get(ANY_PRIORITY)
            if found is not None:
                return found
    return None


def deadline(ref: ReferenceData, policy: SlaPolicy, stage: SlaStage, start: datetime) -> Deadline:
    config = ref.sla_config
    span = parse_duration(
        policy.acknowledge_within if stage is SlaStage.acknowledge else policy.resolve_within
    )
    total = length(span, policy.calendar, config)
    return Deadline(
        warn_at=add(start, total * config.warn_share, policy.calendar, config),
        due_at=add(start, total, policy.calendar, config),
    )


def start_clock(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    stage: SlaStage,
    at: datetime,
    handoff: Handoff | None = None,
    *,
    rows: NewRows | None = None,
) -> SlaClock | None:
    """Start the acknowledge or resolve clock of the ticket's category and priority (none: no clock).

    With ``rows`` (a ticket being filed) the clock is collected there and None is returned.
    """
    policy = policy_for(ref, ticket.category_id, ticket.priority)
    due = deadline(ref, policy, stage, at) if policy is not None else None
    if stage is SlaStage.acknowledge:
        ticket.ack_due_at = due.due_at if due else None
        if handoff is not None:
            handoff.ack_due_at = ticket.ack_due_at
    else:
        ticket.resolve_due_at = due.due_at if due else None
    return _add_clock(session, ticket, stage, at, due, rows) if due else None


def start_statutory_clock(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, at: datetime, *, rows: NewRows | None = None
) -> None:
    """The answer the law demands: 15 days, a month where the category needs a study (calendar days)."""
    config = ref.sla_config
    category = ref.categories[ticket.category_id]
    days = config.statutory_study_days if category.needs_study else config.statutory_days
    due_at = at + timedelta(days=days)
    ticket.statutory_due_at = due_at
    _add_clock(
        session,
        ticket,
        SlaStage.statutory,
        at,
        Deadline(at + (due_at - at) * config.warn_share, due_at),
        rows,
    )


def _add_clock(
    session: AsyncSession,
    ticket: Ticket,
    stage: SlaStage,
    at: datetime,
    due: Deadline,
    rows: NewRows | None = None,
) -> SlaClock | None:
    values: dict[str, Any] = {
        "stage": stage,
        "provider_id": ticket.provider_id,
        "started_at": at,
        "warn_at": due.warn_at,
        "due_at": due.due_at,
    }
    if rows is not None:
        rows.clocks.append(values)
        return None
    clock = SlaClock(**values)
    clock.ticket = ticket
    session.add(clock)
    return clock


async def extend(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: ExtendIn
) -> None:
    """Move the statutory deadline later (never past the legal maximum); the citizen hears of it."""
    ensure_may_act(actor, ticket, Action.extend)
    check(ticket, Action.extend)
    if data.until.tzinfo is None:
        raise InvalidInput("Give 'until' with its time zone (e.g. 2025-05-01T17:00:00+03:00).", field="until")
    until = data.until.astimezone(UTC)
    limit = ticket.created_at + timedelta(days=ref.sla_config.statutory_max_days)
    if until > limit:
        raise InvalidInput(
            f"The statutory deadline may not pass {limit.isoformat()} "
            f"({ref.sla_config.statutory_max_days} days from registration).",
            field="until",
            latest=limit,
        )
    before = ticket.statutory_due_at
    if until <= utcnow() or (before is not None and until <= before):
        raise InvalidInput("An extension moves the deadline later than it is now.", field="until")
    now = utcnow()
    ticket.statutory_due_at = until
    warn_at = max(now, now + (until - now) * ref.sla_config.warn_share)
    _add_clock(session, ticket, SlaStage.statutory, now, Deadline(warn_at, until))
    payload = {
        "from": before.isoformat() if before else None,
        "until": until.isoformat(),
        "reason": data.reason,
    }
    change(session, ref, ticket, Action.extend, actor, payload)


# --- policies through the API -------------------------------------------------------------------


def _terms(policy: SlaPolicy) -> SlaTerms:
    return SlaTerms(
        acknowledge_within=policy.acknowledge_within,
        resolve_within=policy.resolve_within,
        calendar=policy.calendar,
    )


def _read(category: Category, defined_at: Category | None, rows: dict[str, SlaPolicy]) -> SlaPolicyRead:
    default = rows.get(ANY_PRIORITY)
    return SlaPolicyRead(
        category=category.code,
        defined_at=defined_at.code if defined_at else None,
        acknowledge_within=default.acknowledge_within if default else None,
        resolve_within=default.resolve_within if default else None,
        calendar=default.calendar if default else None,
        by_priority={Priority(p): _terms(row) for p, row in rows.items() if p != ANY_PRIORITY},
    )


def category_policy(ref: ReferenceData, code: str) -> SlaPolicyRead:
    """The policy a category's tickets get: its own, or the nearest ancestor's."""
    category = ref.category_by_code.get(code)
    if category is None:
        raise NotFound(f"No category {code!r}.")
    for category_id in ref.category_ancestry(category.id or 0):
        rows = ref.sla_policies.get(category_id)
        if rows:
            return _read(category, ref.categories[category_id], rows)
    return _read(category, None, {})


async def set_policy(
    session: AsyncSession, ref: ReferenceData, code: str, data: SlaPolicyIn
) -> SlaPolicyRead:
    """Replace the category's own policy (its subtree inherits it where it has none of its own)."""
    category = ref.category_by_code.get(code)
    if category is None:
        raise NotFound(f"No category {code!r}.")
    await session.execute(delete(SlaPolicy).where(col(SlaPolicy.category_id) == category.id))
    rows: dict[str, SlaPolicy] = {}
    terms: dict[str, SlaTerms] = {ANY_PRIORITY: data, **{p.value: t for p, t in data.by_priority.items()}}
    for priority, term in terms.items():
        rows[priority] = SlaPolicy(
            category_id=category.id or 0,
            priority=priority,
            acknowledge_within=term.acknowledge_within,
            resolve_within=term.resolve_within,
            calendar=term.calendar,
        )
        session.add(rows[priority])
    await session.flush()
    session.info[RELOAD_REFERENCE] = True
    return _read(category, category, rows)


async def clear_policy(session: AsyncSession, ref: ReferenceData, code: str) -> None:
    """Drop the category's own policy: it inherits its parent's again."""
    category = ref.category_by_code.get(code)
    if category is None:
        raise NotFound(f"No category {code!r}.")
    await session.execute(delete(SlaPolicy).where(col(SlaPolicy.category_id) == category.id))
    session.info[RELOAD_REFERENCE] = True


async def seed_policies(session: AsyncSession, ref: ReferenceData, rows: list[dict[str, object]]) -> int:
    """Upsert policies from a seed file (category code → terms), then reload the snapshot."""
    for row in rows:
        data = SlaPolicyIn.model_validate({k: v for k, v in row.items() if k != "category"})
        await set_policy(session, ref, str(row["category"]), data)
    await ref.load(session)
    return len(rows)


async def clocks_of(session: AsyncSession, ticket: Ticket) -> list[SlaClock]:
    query = select(SlaClock).where(col(SlaClock.ticket_id) == ticket.id).order_by(col(SlaClock.id))
    return list((await session.scalars(query)).all())
