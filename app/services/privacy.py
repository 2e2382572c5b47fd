"""Erasure of a citizen's personal data (Law of Ukraine on personal data; the law on appeals, art. 10).

The person is anonymised where their data is stored — the citizen record, the call log, the call-back
queue — while tickets keep their category, territory, provider and timestamps, so the statistics and
the reports stay whole. What a citizen wrote in a description is the appeal itself and stays.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import NotFound
from app.models import Call, CallbackTask, Citizen, Ticket, utcnow
from app.services.auth import Principal
from app.services.lifecycle import record
from app.services.phones import try_normalize_phone
from app.services.reference import ReferenceData


@dataclass
class Erased:
    citizens: int = 0
    tickets: int = 0
    calls: int = 0
    callbacks: int = 0


async def erase(
    session: AsyncSession,
    ref: ReferenceData,
    actor: Principal,
    *,
    phone: str | None = None,
    ticket_number: str | None = None,
    region: str = "UA",
) -> Erased:
    """Anonymise every citizen with this phone number, or the citizen of this ticket."""
    citizens = await _citizens(session, phone=phone, ticket_number=ticket_number, region=region)
    if not citizens:
        raise NotFound("No citizen with that phone number or ticket.")
    phones = {c.phone for c in citizens if c.phone}
    now, done = utcnow(), Erased(citizens=len(citizens))
    for citizen in citizens:
        citizen.name = citizen.phone = citizen.email = None
        citizen.preferred_channel = None
        citizen.erased_at = now
    tickets = await session.scalars(
        select(Ticket).where(col(Ticket.citizen_id).in_([c.id for c in citizens]))
    )
    for ticket in tickets:
        # The timeline says that it happened, not whose data it was.
        record(session, ref, ticket, "personal_data_erased", actor, notify=False)
        done.tickets += 1
    if phones:
        for call in await session.scalars(select(Call).where(col(Call.phone).in_(phones))):
            call.phone = call.from_number = call.to_number = None
            done.calls += 1
        for task in await session.scalars(select(CallbackTask).where(col(CallbackTask.phone).in_(phones))):
            task.phone = None
            done.callbacks += 1
    await session.flush()
    return done


async def _citizens(
    session: AsyncSession, *, phone: str | None, ticket_number: str | None, region: str
) -> list[Citizen]:
    if ticket_number:
        ticket = await session.scalar(select(Ticket).where(col(Ticket.number) == ticket_number.strip()))
        if ticket is None or ticket.citizen_id is None:
            return []
        citizen = await session.get(Citizen, ticket.citizen_id)
        return [citizen] if citizen is not None and citizen.erased_at is None else []
    normalized = try_normalize_phone(phone, region)
    if normalized is None:
        return []
    query = select(Citizen).where(col(Citizen.phone) == normalized, col(Citizen.erased_at).is_(None))
    return list((await session.scalars(query)).all())
