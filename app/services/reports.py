"""The weekly report for the Project Office: intake, outcomes, deadlines and each provider's chain.

Everything is derived from stored rows — tickets, handoffs and the timeline — for one ISO week in the
hotline's time zone, so a report can be produced again for any past week and gives the same numbers
(except the backlog, which is the state when it is produced).
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import InvalidInput
from app.models import OPEN_STATUSES, Handoff, Ticket, TicketEvent, TicketKind, utcnow
from app.services.reference import ReferenceData

OUTCOME_EVENTS = ("resolved", "confirmed", "rejected", "reopened", "closed", "sla_warning", "sla_breached")


@dataclass
class ProviderWeek:
    code: str
    name: str
    routed: int = 0
    acknowledged: int = 0
    declined: int = 0
    ack_minutes: list[float] = field(default_factory=list)
    resolved: int = 0
    resolve_hours: list[float] = field(default_factory=list)
    confirmed: int = 0
    rejected: int = 0
    no_response: int = 0
    breaches: int = 0
    open_now: int = 0
    overdue_now: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "routed": self.routed,
            "acknowledged": self.acknowledged,
            "declined": self.declined,
            "median_minutes_to_acknowledge": _median(self.ack_minutes),
            "resolved": self.resolved,
            "median_hours_to_resolve": _median(self.resolve_hours),
            "confirmed": self.confirmed,
            "rejected": self.rejected,
            "closed_no_response": self.no_response,
            "confirmation_rate": _share(self.confirmed, self.confirmed + self.rejected + self.no_response),
            "sla_breaches": self.breaches,
            "open_now": self.open_now,
            "overdue_now": self.overdue_now,
        }


def week_bounds(week: str | None, zone: str, today: date | None = None) -> tuple[str, datetime, datetime]:
    """The ISO week ('2026-W48'; default: the last complete one) as local midnights, in UTC."""
    tz = ZoneInfo(zone)
    if week is None:
        local_today = today or utcnow().astimezone(tz).date()
        monday = local_today - timedelta(days=local_today.weekday() + 7)
    else:
        try:
            year, number = week.upper().split("-W")
            monday = date.fromisocalendar(int(year), int(number), 1)
        except ValueError as exc:
            raise InvalidInput(f"{week!r} is not an ISO week like 2026-W48.", field="week") from exc
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}", start, end


async def weekly(session: AsyncSession, ref: ReferenceData, week: str | None, zone: str) -> dict[str, Any]:
    label, start, end = week_bounds(week, zone)
    providers = {pid: ProviderWeek(p.code, p.name) for pid, p in ref.providers.items()}
    intake = await _intake(session, ref, start, end)
    outcomes, sla = await _outcomes(session, ref, providers, start, end)
    await _handoffs(session, providers, start, end)
    backlog = await _backlog(session, providers)
    rows = [p.as_dict() for p in providers.values() if p.routed or p.resolved or p.open_now or p.breaches]
    return {
        "week": label,
        "from": start,
        "to": end,
        "timezone": zone,
        "intake": intake,
        "outcomes": outcomes,
        "sla": sla,
        "backlog_now": backlog,
        "providers": sorted(rows, key=lambda r: (-r["routed"], r["code"])),
    }


async def _intake(
    session: AsyncSession, ref: ReferenceData, start: datetime, end: datetime
) -> dict[str, Any]:
    rows = (
        await session.execute(
            select(col(Ticket.channel), col(Ticket.category_id), col(Ticket.kind)).where(
                col(Ticket.created_at) >= start, col(Ticket.created_at) < end
            )
        )
    ).all()
    groups = Counter(ref.top_category(r.category_id).code for r in rows if r.category_id in ref.categories)
    consultations = sum(1 for r in rows if r.kind is TicketKind.consultation)
    return {
        "total": len(rows),
        "by_channel": dict(Counter(r.channel.value for r in rows)),
        "by_category_group": dict(groups.most_common()),
        "consultations_at_first_contact": consultations,
        "first_contact_resolution_rate": _share(consultations, len(rows)),
    }


async def _outcomes(
    session: AsyncSession,
    ref: ReferenceData,
    providers: dict[int, ProviderWeek],
    start: datetime,
    end: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    query = (
        select(TicketEvent, Ticket.provider_id, Ticket.accepted_at)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(
            col(TicketEvent.at) >= start, col(TicketEvent.at) < end, col(TicketEvent.type).in_(OUTCOME_EVENTS)
        )
    )
    counts: Counter[str] = Counter()
    ratings: list[int] = []
    breaches: Counter[str] = Counter()
    by_code = {p.code: p for p in providers.values()}
    for event, provider_id, accepted_at in (await session.execute(query)).all():
        kind = event.type
        if kind == "closed" and event.payload.get("reason") != "no_response":
            continue
        counts[kind] += 1
        holder = providers.get(provider_id) if provider_id else None
        if kind == "sla_breached":
            breaches[str(event.payload.get("stage"))] += 1
            breached = by_code.get(str(event.payload.get("provider")))
            if breached is not None:
                breached.breaches += 1
        elif holder is not None:
            if kind == "resolved":
                holder.resolved += 1
                if accepted_at is not None and accepted_at <= event.at:
                    holder.resolve_hours.append((event.at - accepted_at).total_seconds() / 3600)
            elif kind == "confirmed":
                holder.confirmed += 1
            elif kind == "rejected":
                holder.rejected += 1
            elif kind == "closed":
                holder.no_response += 1
        if kind == "confirmed" and isinstance(event.payload.get("rating"), int):
            ratings.append(event.payload["rating"])
    answered = counts["confirmed"] + counts["rejected"] + counts["closed"]
    outcomes = {
        "resolved": counts["resolved"],
        "confirmed": counts["confirmed"],
        "rejected": counts["rejected"],
        "reopened": counts["reopened"],
        "closed_no_response": counts["closed"],
        "confirmation_rate": _share(counts["confirmed"], answered),
        "reopen_rate": _share(counts["rejected"] + counts["reopened"], counts["resolved"]),
        "average_rating": round(statistics.fmean(ratings), 2) if ratings else None,
        "ratings": len(ratings),
    }
    sla = {
        "warnings": counts["sla_warning"],
        "breaches": dict(breaches),
        "breaches_total": counts["sla_breached"],
    }
    return outcomes, sla


async def _handoffs(
    session: AsyncSession, providers: dict[int, ProviderWeek], start: datetime, end: datetime
) -> None:
    query = select(Handoff).where(col(Handoff.routed_at) >= start, col(Handoff.routed_at) < end)
    for handoff in await session.scalars(query):
        row = providers.get(handoff.provider_id)
        if row is None:
            continue
        row.routed += 1
        if handoff.acknowledged_at is not None:
            row.acknowledged += 1
            row.ack_minutes.append((handoff.acknowledged_at - handoff.routed_at).total_seconds() / 60)
        if handoff.declined_at is not None:
            row.declined += 1


async def _backlog(session: AsyncSession, providers: dict[int, ProviderWeek]) -> dict[str, int]:
    now = utcnow()
    overdue = func.sum(func.coalesce(col(Ticket.statutory_due_at) < now, False).cast(Integer))
    query = (
        select(col(Ticket.provider_id), func.count(), overdue)
        .where(col(Ticket.status).in_(list(OPEN_STATUSES)))
        .group_by(col(Ticket.provider_id))
    )
    totals: dict[str, int] = defaultdict(int)
    for provider_id, open_count, overdue_count in (await session.execute(query)).all():
        totals["open"] += int(open_count)
        totals["overdue_statutory"] += int(overdue_count or 0)
        row = providers.get(provider_id) if provider_id else None
        if row is None:
            totals["with_dispatcher"] += int(open_count)
        else:
            row.open_now, row.overdue_now = int(open_count), int(overdue_count or 0)
    return {"open": 0, "overdue_statutory": 0, "with_dispatcher": 0, **totals}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
