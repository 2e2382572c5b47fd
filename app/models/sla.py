"""SLA policies per category and the clocks the watcher keeps."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import UTCDateTime, enum_type, ts, utcnow
from app.models.core import Ticket


class SlaCalendar(enum.StrEnum):
    always = "24x7"
    working_hours = "working_hours"


class SlaStage(enum.StrEnum):
    acknowledge = "acknowledge"
    resolve = "resolve"
    statutory = "statutory"


#: The ``priority`` of a policy row that holds for every priority.
ANY_PRIORITY = "any"


class SlaPolicy(SQLModel, table=True):
    """A category's clocks (inherited by its subtree); one row per priority, or "any"."""

    __tablename__ = "sla_policies"
    __table_args__ = (sa.UniqueConstraint("category_id", "priority", name="category_priority"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="categories.id")
    priority: str = Field(default=ANY_PRIORITY, max_length=16)
    #: ISO 8601 durations as given (``PT2H``, ``P3D``): on working hours a day is a working day.
    acknowledge_within: str = Field(max_length=32)
    resolve_within: str = Field(max_length=32)
    calendar: SlaCalendar = Field(sa_type=enum_type(SlaCalendar))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaClock(SQLModel, table=True):
    """One running deadline of a ticket's stage; the watcher warns and breaches it at most once each."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        sa.Index("ix_sla_clocks_pending", "settled_at", "warn_at"),
        sa.Index("ix_sla_clocks_due", "settled_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True, nullable=False)
    stage: SlaStage = Field(sa_type=enum_type(SlaStage))
    provider_id: int | None = Field(default=None, foreign_key="providers.id")
    started_at: datetime = Field(sa_type=UTCDateTime)
    warn_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    warned_at: datetime | None = ts()
    breached_at: datetime | None = ts()
    #: When the watcher is done with the clock: breached, or the stage ended (found at warn time).
    settled_at: datetime | None = ts()

    ticket: "Ticket" = Relationship(sa_relationship_kwargs={"lazy": "raise"})


# The overdue gauges and filters read the statutory deadline of open tickets.
sa.Index("ix_tickets_status_statutory_due_at", Ticket.__table__.c.status, Ticket.__table__.c.statutory_due_at)  # type: ignore[attr-defined]
