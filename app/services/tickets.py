"""Filing tickets and finding them."""

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.errors import InvalidInput, NotFound, UnknownReference
from app.models import (
    Channel,
    Citizen,
    CloseReason,
    Handoff,
    Priority,
    SlaStage,
    Status,
    Ticket,
    TicketEvent,
    TicketKind,
    ident,
    utcnow,
)
from app.schemas.tickets import TicketCreate
from app.services import lifecycle, new_rows
from app.services.access import visible_tickets
from app.services.auth import Principal, digest, new_secret
from app.services.deadlines import overdue_clause
from app.services.new_rows import NewRows
from app.services.numbers import next_ticket_number
from app.services.phones import normalize_phone
from app.services.reference import ReferenceData
from app.services.routing import locate, pick_provider
from app.services.sla import start_clock, start_statutory_clock


@dataclass
class Filed:
    ticket: Ticket
    citizen: Citizen | None
    citizen_token: str


async def file_ticket(
    session: AsyncSession,
    ref: ReferenceData,
    data: TicketCreate,
    actor: Principal,
    *,
    phone_region: str = "UA",
) -> Filed:
    """Register an appeal, route it by the rules at once, or close it at once if a consultation."""
    category = ref.category_by_code.get(data.category_code)
    if category is None or not category.active:
        raise UnknownReference(f"No active category with code {data.category_code!r}.", field="category_code")
    if data.kind is TicketKind.consultation and not data.answer:
        raise InvalidInput("A consultation records the answer given (field 'answer').", field="answer")
    address = data.address
    place = locate(
        ref,
        territory_code=data.territory_code,
        settlement=address.settlement if address else None,
        street=address.street if address else None,
    )
    citizen = await _citizen_for(session, data, phone_region)
    token = new_secret("ct_")
    now = utcnow()
    ticket = Ticket(
        number=await next_ticket_number(session),
        kind=data.kind,
        channel=data.channel,
        category_id=category.id or 0,
        description=data.description,
        priority=data.priority or category.default_priority,
        status=Status.received,
        address_text=address.text if address else None,
        settlement=(address.settlement if address else None)
        or (place.settlement.name if place.settlement else None),
        street=place.street.name if place.street else (address.street if address else None),
        house=address.house if address else None,
        apartment=address.apartment if address else None,
        territory_id=place.territory.id if place.territory else None,
        street_id=place.street.id if place.street else None,
        lat=data.lat,
        lon=data.lon,
        citizen_token_hash=digest(token),
        created_by_key_id=actor.key_id,
        call_id=data.call_id,
        created_at=now,
        updated_at=now,
    )
    # The new rows are written with a few INSERTs at the end, not by the ORM's unit of work.
    rows = NewRows()
    lifecycle.record(session, ref, ticket, "received", actor, {"channel": data.channel.value}, rows=rows)

    if data.kind is TicketKind.consultation:
        ticket.resolution = data.answer
        ticket.close_reason = CloseReason.consultation
        ticket.closed_at = now
        lifecycle.change(
            session, ref, ticket, lifecycle.Action.close, actor, {"reason": "consultation"}, rows=rows
        )
    else:
        start_statutory_clock(session, ref, ticket, now, rows=rows)
        provider = pick_provider(ref, ticket.category_id, ticket.territory_id)
        if provider is not None:
            hand_to(session, ref, ticket, provider.id or 0, actor, now, rows=rows)
            lifecycle.change(
                session,
                ref,
                ticket,
                lifecycle.Action.route,
                actor,
                {"provider": provider.code, "by": "rules"},
                rows=rows,
            )
    if citizen is not None:
        if citizen.id is None:
            await new_rows.insert_persistent(session, citizen)
        ticket.citizen_id = citizen.id
        ticket.citizen = citizen
    await new_rows.insert_persistent(session, ticket)
    await new_rows.write(session, ident(ticket), rows)
    return Filed(ticket=ticket, citizen=citizen, citizen_token=token)


def hand_to(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    provider_id: int,
    actor: Principal,
    at: datetime,
    *,
    rows: NewRows | None = None,
) -> None:
    """Open a handoff to the provider (the routing step shared by the rules and the dispatcher).

    A new handoff starts a new acknowledge clock, on the ticket and the handoff. With ``rows`` (a
    ticket being filed) the handoff and its clock are collected there.
    """
    ticket.provider_id = provider_id
    ticket.routed_at = at
    if rows is not None:
        start_clock(session, ref, ticket, SlaStage.acknowledge, at, rows=rows)
        rows.handoffs.append(
            {
                "provider_id": provider_id,
                "routed_at": at,
                "routed_by": actor.name,
                "ack_due_at": ticket.ack_due_at,
            }
        )
        return
    handoff = Handoff(provider_id=provider_id, routed_at=at, routed_by=actor.name)
    handoff.ticket = ticket
    session.add(handoff)
    start_clock(session, ref, ticket, SlaStage.acknowledge, at, handoff)


#: Built once, so each filing reuses the statement and its cache key.
_CITIZEN_BY_PHONE = (
    select(Citizen)
    .where(col(Citizen.phone) == bindparam("phone"), col(Citizen.erased_at).is_(None))
    .order_by(col(Citizen.id))
    .limit(1)
)


async def _citizen_for(session: AsyncSession, data: TicketCreate, region: str) -> Citizen | None:
    """The citizen who appeals: matched by phone when known, so their history stays together."""
    person = data.citizen
    if person is None or not (person.name or person.phone or person.email):
        return None
    phone = normalize_phone(person.phone, region) if person.phone else None
    citizen = None
    if phone is not None:
        citizen = await session.scalar(_CITIZEN_BY_PHONE, {"phone": phone})
    if citizen is None:
        # New: ``file_ticket`` inserts it with the ticket.
        citizen = Citizen(
            name=person.name, phone=phone, email=person.email, preferred_channel=person.preferred_channel
        )
    else:
        # What the citizen tells us now is the freshest contact. Only changes are set: an unchanged
        # citizen leaves the session clean, so the commit has nothing to flush.
        if person.name and person.name != citizen.name:
            citizen.name = person.name
        if person.email and person.email != citizen.email:
            citizen.email = person.email
        if person.preferred_channel and person.preferred_channel != citizen.preferred_channel:
            citizen.preferred_channel = person.preferred_channel
    return citizen


async def get_ticket(session: AsyncSession, principal: Principal, number: str) -> Ticket:
    """The ticket by its number, if the principal may see it (else 404: its existence is not told)."""
    query = select(Ticket).where(Ticket.number == number.strip(), visible_tickets(principal))
    ticket = await session.scalar(query)
    if ticket is None:
        raise NotFound(f"No ticket {number!r}.")
    return ticket


async def get_citizen(session: AsyncSession, ticket: Ticket) -> Citizen | None:
    return await session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None


@dataclass
class TicketFilter:
    status: list[Status] | None = None
    provider_code: str | None = None
    category_code: str | None = None
    territory_code: str | None = None
    channel: Channel | None = None
    priority: Priority | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    citizen_phone: str | None = None
    q: str | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(str(ticket_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput("The cursor is not one this API gave out.", field="cursor") from exc


def _filtered(
    ref: ReferenceData, principal: Principal, f: TicketFilter, region: str
) -> SelectOfScalar[Ticket]:
    query = select(Ticket).where(visible_tickets(principal))
    if f.status:
        query = query.where(Ticket.status.in_(f.status))  # type: ignore[attr-defined]
    if f.provider_code:
        provider = ref.provider_by_code.get(f.provider_code)
        if provider is None:
            raise UnknownReference(f"No provider with code {f.provider_code!r}.", field="provider")
        query = query.where(Ticket.provider_id == provider.id)
    if f.category_code:
        category = ref.category_by_code.get(f.category_code)
        if category is None:
            raise UnknownReference(f"No category with code {f.category_code!r}.", field="category")
        query = query.where(Ticket.category_id.in_(ref.category_subtree(category.id or 0)))  # type: ignore[attr-defined]
    if f.territory_code:
        territory = ref.territory_by_code.get(f.territory_code)
        if territory is None:
            raise UnknownReference(f"No territory with code {f.territory_code!r}.", field="territory")
        query = query.where(Ticket.territory_id.in_(ref.territory_subtree(territory.id or 0)))  # type: ignore[union-attr]
    if f.channel:
        query = query.where(Ticket.channel == f.channel)
    if f.priority:
        query = query.where(Ticket.priority == f.priority)
    if f.created_from:
        query = query.where(Ticket.created_at >= f.created_from)
    if f.created_to:
        query = query.where(Ticket.created_at < f.created_to)
    if f.citizen_phone:
        phone = normalize_phone(f.citizen_phone, region)
        query = query.where(
            col(Ticket.citizen_id).in_(select(col(Citizen.id)).where(col(Citizen.phone) == phone))
        )
    if f.q:
        escaped = f.q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(col(Ticket.description)).like(pattern, escape="\\"),
                func.lower(col(Ticket.address_text)).like(pattern, escape="\\"),
                func.lower(col(Ticket.street)).like(pattern, escape="\\"),
                col(Ticket.number) == f.q.strip(),
            )
        )
    if f.overdue is not None:
        late = overdue_clause(utcnow())
        query = query.where(late if f.overdue else ~late)
    if f.due_before is not None:
        if f.due_before.tzinfo is None:
            raise InvalidInput("Give due_before with its time zone.", field="due_before")
        query = query.where(overdue_clause(f.due_before))
    return query


async def list_tickets(
    session: AsyncSession, ref: ReferenceData, principal: Principal, f: TicketFilter, region: str = "UA"
) -> tuple[list[Ticket], str | None]:
    """A page of tickets, newest first, with the cursor of the next page (keyset pagination)."""
    query = _filtered(ref, principal, f, region)
    if f.cursor:
        query = query.where(col(Ticket.id) < decode_cursor(f.cursor))
    rows = list((await session.scalars(query.order_by(col(Ticket.id).desc()).limit(f.limit + 1))).all())
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    return rows, encode_cursor(rows[-1].id or 0) if more and rows else None


async def ticket_events(session: AsyncSession, ticket: Ticket) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
    return list((await session.scalars(query)).all())


async def citizens_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Citizen]:
    if not ids:
        return {}
    rows = await session.scalars(select(Citizen).where(Citizen.id.in_(ids)))  # type: ignore[union-attr]
    return {c.id: c for c in rows if c.id is not None}
