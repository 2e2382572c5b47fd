"""The actions on a ticket. Each checks who may act, sets its fields, then records the change."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import InvalidInput, UnknownReference
from app.models import Channel, CloseReason, Handoff, SlaStage, Status, Ticket, utcnow
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
)
from app.services import callbacks
from app.services.access import ensure_may_act
from app.services.auth import Principal
from app.services.lifecycle import Action, change, check
from app.services.reference import ReferenceData
from app.services.routing import pick_provider
from app.services.sla import start_clock
from app.services.tickets import hand_to

#: Texts that say the appeal went somewhere, not that anything was done.
NOT_A_RESOLUTION = frozenset(
    {
        "передано",
        "передано в роботу",
        "інформацію передано",
        "інформація передана",
        "передано виконавцю",
        "passed on",
        "information passed on",
        "forwarded",
    }
)


async def open_handoff(session: AsyncSession, ticket: Ticket) -> Handoff | None:
    query = (
        select(Handoff)
        .where(
            Handoff.ticket_id == ticket.id,
            col(Handoff.declined_at).is_(None),
            col(Handoff.ended_at).is_(None),
        )
        .order_by(Handoff.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return await session.scalar(query)


async def route(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: RouteIn
) -> None:
    ensure_may_act(actor, ticket, Action.route)
    check(ticket, Action.route)
    if data.provider_code:
        provider = ref.provider_by_code.get(data.provider_code)
        if provider is None or not provider.active:
            raise UnknownReference(
                f"No active provider with code {data.provider_code!r}.", field="provider_code"
            )
        by = "dispatcher"
    else:
        provider = pick_provider(ref, ticket.category_id, ticket.territory_id)
        if provider is None:
            raise InvalidInput("No routing rule matches this ticket; name the provider (provider_code).")
        by = "rules"
    now = utcnow()
    previous = await open_handoff(session, ticket)
    if previous is not None:
        previous.ended_at = now
    hand_to(session, ref, ticket, provider.id or 0, actor, now)
    payload = {"provider": provider.code, "by": by}
    if previous is not None:
        payload["previous_provider"] = ref.providers[previous.provider_id].code
    if data.note:
        payload["note"] = data.note
    change(session, ref, ticket, Action.route, actor, payload)


async def accept(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: AcceptIn
) -> None:
    ensure_may_act(actor, ticket, Action.accept)
    check(ticket, Action.accept)
    now = utcnow()
    handoff = await open_handoff(session, ticket)
    if handoff is not None:
        handoff.acknowledged_at = now
        handoff.acknowledged_by = actor.name
    ticket.accepted_at = now
    start_clock(session, ref, ticket, SlaStage.resolve, now)
    if data.executor:
        ticket.executor = data.executor
    change(session, ref, ticket, Action.accept, actor, _drop_none(executor=data.executor, note=data.note))


async def decline(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: DeclineIn
) -> None:
    ensure_may_act(actor, ticket, Action.decline)
    check(ticket, Action.decline)
    now = utcnow()
    handoff = await open_handoff(session, ticket)
    if handoff is not None:
        handoff.declined_at = now
        handoff.declined_by = actor.name
        handoff.decline_reason = data.reason
    provider = ref.providers.get(ticket.provider_id or 0)
    ticket.provider_id = None
    ticket.ack_due_at = None
    change(
        session,
        ref,
        ticket,
        Action.decline,
        actor,
        {"reason": data.reason, "provider": provider.code if provider else None},
    )


async def start(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: StartIn
) -> None:
    ensure_may_act(actor, ticket, Action.start)
    check(ticket, Action.start)
    ticket.started_at = utcnow()
    if data.executor:
        ticket.executor = data.executor
    change(session, ref, ticket, Action.start, actor, _drop_none(executor=data.executor, note=data.note))


async def resolve(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: ResolveIn
) -> None:
    ensure_may_act(actor, ticket, Action.resolve)
    check(ticket, Action.resolve)
    if " ".join(data.resolution.casefold().strip(" .!").split()) in NOT_A_RESOLUTION:
        raise InvalidInput("'Passed on' is not a resolution: say what was done.", field="resolution")
    category = ref.categories[ticket.category_id]
    if category.evidence_required and not (data.evidence_url or data.work_order):
        raise InvalidInput(
            f"Category {category.code!r} needs evidence: a photo URL (evidence_url) or a work-order number "
            "(work_order).",
            field="evidence_url",
        )
    ticket.resolved_at = utcnow()
    ticket.resolution = data.resolution
    ticket.evidence_url = str(data.evidence_url) if data.evidence_url else None
    ticket.work_order = data.work_order
    change(
        session,
        ref,
        ticket,
        Action.resolve,
        actor,
        _drop_none(resolution=data.resolution, evidence_url=ticket.evidence_url, work_order=data.work_order),
    )
    if ticket.channel is Channel.phone:
        # A phone citizen has no channel of their own: an operator calls back to ask.
        await callbacks.open_confirmation(session, ticket)


async def confirm(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: ConfirmIn
) -> None:
    ensure_may_act(actor, ticket, Action.confirm)
    check(ticket, Action.confirm)
    ticket.confirmed_at = utcnow()
    ticket.rating = data.rating
    ticket.rating_comment = data.comment
    change(session, ref, ticket, Action.confirm, actor, _drop_none(rating=data.rating, comment=data.comment))
    await callbacks.settle_confirmation(session, ticket, "confirmed", actor.name)


async def reject(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: RejectIn
) -> None:
    """'Not fixed': back to the same provider as assigned, counted as a reopen."""
    ensure_may_act(actor, ticket, Action.reject)
    check(ticket, Action.reject)
    _back_to_work(ticket)
    start_clock(session, ref, ticket, SlaStage.resolve, utcnow())
    change(
        session,
        ref,
        ticket,
        Action.reject,
        actor,
        {"reason": data.reason, "reopen_count": ticket.reopen_count},
    )
    await callbacks.settle_confirmation(session, ticket, "rejected", actor.name)


async def reopen(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    actor: Principal,
    data: ReopenIn,
    window: timedelta,
) -> None:
    ensure_may_act(actor, ticket, Action.reopen)
    check(ticket, Action.reopen)
    if ticket.status is Status.closed and ticket.close_reason is not CloseReason.no_response:
        raise InvalidInput(
            f"A ticket closed as {ticket.close_reason.value if ticket.close_reason else 'closed'} cannot be "
            "reopened; file a new one.",
            field="reason",
        )
    ended = ticket.confirmed_at if ticket.status is Status.confirmed else ticket.closed_at
    if ended is not None and utcnow() - ended > window:
        raise InvalidInput(
            f"The reopen window of {window.days} days has passed; file a new ticket.", field="reason"
        )
    if ticket.provider_id is None:
        raise InvalidInput("The ticket has no provider to go back to; route it instead.")
    _back_to_work(ticket)
    start_clock(session, ref, ticket, SlaStage.resolve, utcnow())
    change(
        session,
        ref,
        ticket,
        Action.reopen,
        actor,
        {"reason": data.reason, "reopen_count": ticket.reopen_count},
    )


def _back_to_work(ticket: Ticket) -> None:
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.confirmed_at = None
    ticket.closed_at = None
    ticket.close_reason = None
    ticket.rating = None
    ticket.rating_comment = None


async def close(
    session: AsyncSession, ref: ReferenceData, ticket: Ticket, actor: Principal, data: CloseIn
) -> None:
    ensure_may_act(actor, ticket, Action.close)
    check(ticket, Action.close)
    if data.reason is CloseReason.no_response and ticket.status is not Status.resolved:
        raise InvalidInput("Only a resolved ticket can close for no response.", field="reason")
    if ticket.status is Status.resolved and data.reason is not CloseReason.no_response:
        raise InvalidInput(
            "A resolved ticket waits for the citizen: confirm, reject, or close it as no_response.",
            field="reason",
        )
    if data.reason is CloseReason.consultation and ticket.kind.value != "consultation":
        raise InvalidInput("Only a consultation closes as consultation.", field="reason")
    payload = _drop_none(reason=data.reason.value, note=data.note)
    if data.reason is CloseReason.duplicate:
        if not data.duplicate_of:
            raise InvalidInput("Name the ticket this one repeats (duplicate_of).", field="duplicate_of")
        original = await session.scalar(select(col(Ticket.id)).where(Ticket.number == data.duplicate_of))
        if original is None or data.duplicate_of == ticket.number:
            raise UnknownReference(f"No other ticket {data.duplicate_of!r}.", field="duplicate_of")
        payload["duplicate_of"] = data.duplicate_of
    await close_ticket(session, ref, ticket, actor, data.reason, payload)


async def close_ticket(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    actor: Principal,
    reason: CloseReason,
    payload: dict[str, object] | None = None,
) -> None:
    """Close without confirmation (also used by the watcher and the call-back queue for no_response)."""
    check(ticket, Action.close)
    now = utcnow()
    if ticket.status in (Status.routed, Status.assigned, Status.in_progress):
        handoff = await open_handoff(session, ticket)
        if handoff is not None:
            handoff.ended_at = now
    if ticket.status is Status.resolved:
        await callbacks.settle_confirmation(session, ticket, reason.value, actor.name)
    ticket.closed_at = now
    ticket.close_reason = reason
    change(session, ref, ticket, Action.close, actor, payload or {"reason": reason.value})


def _drop_none(**values: object) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}
