"""Which deadlines of a ticket are running and which have passed: shared by views, filters and the watcher."""

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col

from app.models import OPEN_STATUSES, SlaClock, SlaStage, Status, Ticket

WORK_STATUSES = (Status.assigned, Status.in_progress)


def is_live(clock: SlaClock, ticket: Ticket) -> bool:
    """Whether the clock still runs: its stage is the ticket's current one, with this very deadline."""
    if clock.stage is SlaStage.acknowledge:
        return (
            ticket.status is Status.routed
            and ticket.ack_due_at == clock.due_at
            and ticket.provider_id == clock.provider_id
        )
    if clock.stage is SlaStage.resolve:
        return ticket.status in WORK_STATUSES and ticket.resolve_due_at == clock.due_at
    return ticket.status in OPEN_STATUSES and ticket.statutory_due_at == clock.due_at


def overdue_clause(moment: datetime) -> ColumnElement[bool]:
    """Tickets with a running deadline before ``moment`` (never NULL, so it can be negated)."""
    return or_(
        and_(
            col(Ticket.status) == Status.routed,
            col(Ticket.ack_due_at).is_not(None),
            col(Ticket.ack_due_at) < moment,
        ),
        and_(
            col(Ticket.status).in_(WORK_STATUSES),
            col(Ticket.resolve_due_at).is_not(None),
            col(Ticket.resolve_due_at) < moment,
        ),
        and_(
            col(Ticket.status).in_(OPEN_STATUSES),
            col(Ticket.statutory_due_at).is_not(None),
            col(Ticket.statutory_due_at) < moment,
        ),
        false(),
    )


def breached_stages(ticket: Ticket, now: datetime) -> list[str]:
    """The ticket's running deadlines that have passed (what ``overdue_clause`` selects)."""
    passed: list[str] = []
    if ticket.status is Status.routed and ticket.ack_due_at is not None and ticket.ack_due_at < now:
        passed.append(SlaStage.acknowledge.value)
    if ticket.status in WORK_STATUSES and ticket.resolve_due_at is not None and ticket.resolve_due_at < now:
        passed.append(SlaStage.resolve.value)
    if (
        ticket.status in OPEN_STATUSES
        and ticket.statutory_due_at is not None
        and ticket.statutory_due_at < now
    ):
        passed.append(SlaStage.statutory.value)
    return passed
