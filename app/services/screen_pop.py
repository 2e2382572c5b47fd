"""The screen pop: what an operator should see the moment a number rings, in five small queries."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.models import OPEN_STATUSES, Call, CallbackTask, Citizen, Ticket, utcnow
from app.services import callbacks
from app.services.calls import LinkedTicket, is_blocked
from app.services.phones import normalize_phone

OPEN_SHOWN = 20
RECENT_SHOWN = 5
CALLS_SHOWN = 10


@dataclass
class Caller:
    phone: str
    citizen: Citizen | None
    open_tickets: list[Ticket]
    recent_tickets: list[Ticket]
    calls: list[Call]
    tasks: list[CallbackTask]
    calls_recently: int
    blocked: bool
    ticket_numbers_by_id: dict[int, str]

    @property
    def repeat_caller(self) -> bool:
        return self.calls_recently > 1

    @property
    def open_callback_task(self) -> bool:
        return bool(self.tasks)

    @property
    def overdue(self) -> list[Ticket]:
        now = utcnow()
        return [t for t in self.open_tickets if t.resolve_due_at is not None and t.resolve_due_at < now]


async def look_up(session: AsyncSession, raw_phone: str, *, region: str, repeat_days: int) -> Caller:
    phone = normalize_phone(raw_phone, region)
    citizen = await session.scalar(
        select(Citizen)
        .where(col(Citizen.phone) == phone, col(Citizen.erased_at).is_(None))
        .order_by(col(Citizen.id))
        .limit(1)
    )
    calls = list(
        (
            await session.scalars(
                select(Call).where(col(Call.phone) == phone).order_by(col(Call.started_at).desc()).limit(50)
            )
        ).all()
    )
    # The citizen's tickets, and tickets filed during their calls even if no phone was written down.
    citizens_with_phone = select(Citizen.id).where(col(Citizen.phone) == phone)
    calls_of_phone = select(Call.call_id).where(col(Call.phone) == phone)
    tickets = list(
        (
            await session.scalars(
                select(Ticket)
                .where(
                    or_(
                        col(Ticket.citizen_id).in_(citizens_with_phone),
                        col(Ticket.call_id).in_(calls_of_phone),
                    )
                )
                .order_by(col(Ticket.id).desc())
                .limit(OPEN_SHOWN + RECENT_SHOWN * 4)
            )
        ).all()
    )
    tasks = await callbacks.open_tasks_for_phone(session, phone)
    blocked = await is_blocked(session, phone)
    since = utcnow() - timedelta(days=repeat_days)
    return Caller(
        phone=phone,
        citizen=citizen,
        open_tickets=[t for t in tickets if t.status in OPEN_STATUSES][:OPEN_SHOWN],
        recent_tickets=[t for t in tickets if t.status not in OPEN_STATUSES][:RECENT_SHOWN],
        calls=calls[:CALLS_SHOWN],
        tasks=tasks,
        calls_recently=sum(1 for c in calls if c.started_at >= since),
        blocked=blocked,
        ticket_numbers_by_id={t.id: t.number for t in tickets if t.id is not None},
    )


def links_from_tickets(caller: Caller) -> dict[str, list[LinkedTicket]]:
    """Tickets filed during the caller's calls, from what the look-up already read (no extra query)."""
    found: dict[str, list[LinkedTicket]] = {}
    for ticket in [*caller.open_tickets, *caller.recent_tickets]:
        if ticket.call_id:
            found.setdefault(ticket.call_id, []).append(LinkedTicket(ticket, "produced"))
    return found
