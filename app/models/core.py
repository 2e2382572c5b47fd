"""The core tables: reference data, people and keys, tickets with their handoffs, events and outbox."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import UTCDateTime, enum_type, ts, utcnow


class Status(enum.StrEnum):
    received = "received"
    routed = "routed"
    assigned = "assigned"
    in_progress = "in_progress"
    resolved = "resolved"
    confirmed = "confirmed"
    closed = "closed"


OPEN_STATUSES = frozenset({Status.received, Status.routed, Status.assigned, Status.in_progress})


class TicketKind(enum.StrEnum):
    request = "request"
    complaint = "complaint"
    consultation = "consultation"


class Channel(enum.StrEnum):
    phone = "phone"
    chatbot = "chatbot"
    web = "web"
    email = "email"
    open311 = "open311"
    walk_in = "walk_in"


class Priority(enum.StrEnum):
    normal = "normal"
    high = "high"
    emergency = "emergency"


class CloseReason(enum.StrEnum):
    no_response = "no_response"
    consultation = "consultation"
    duplicate = "duplicate"
    withdrawn = "withdrawn"
    invalid = "invalid"


class Role(enum.StrEnum):
    admin = "admin"
    supervisor = "supervisor"
    operator = "operator"
    provider = "provider"
    integrator = "integrator"
    reader = "reader"
    pbx = "pbx"


class TerritoryKind(enum.StrEnum):
    community = "community"
    city = "city"
    city_district = "city_district"
    microdistrict = "microdistrict"
    starosta_district = "starosta_district"
    village = "village"


SETTLEMENT_KINDS = frozenset({TerritoryKind.city, TerritoryKind.village})


class Territory(SQLModel, table=True):
    __tablename__ = "territories"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    kind: TerritoryKind = Field(sa_type=enum_type(TerritoryKind))
    parent_id: int | None = Field(default=None, foreign_key="territories.id")
    postcode: str | None = Field(default=None, max_length=16)


class Street(SQLModel, table=True):
    __tablename__ = "streets"
    __table_args__ = (sa.UniqueConstraint("settlement_id", "search_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    #: The name folded for look-up: lower case, one apostrophe, no type prefix ("вул.", "просп." ...).
    search_name: str = Field(max_length=200)
    settlement_id: int = Field(foreign_key="territories.id")
    territory_id: int = Field(foreign_key="territories.id")


class Category(SQLModel, table=True):
    __tablename__ = "categories"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="categories.id")
    description: str = Field(default="", max_length=2000)
    evidence_required: bool = False
    default_priority: Priority = Field(default=Priority.normal, sa_type=enum_type(Priority))
    #: The appeal needs a study: the statutory deadline is a month rather than 15 days.
    needs_study: bool = False
    keywords: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    active: bool = True


class Provider(SQLModel, table=True):
    __tablename__ = "providers"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=300)
    kind: str = Field(default="municipal", max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=200)
    active: bool = True


class RoutingRule(SQLModel, table=True):
    __tablename__ = "routing_rules"
    __table_args__ = (sa.UniqueConstraint("category_id", "territory_id", name="category_territory"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int | None = Field(default=None, foreign_key="categories.id")
    territory_id: int | None = Field(default=None, foreign_key="territories.id")
    provider_id: int = Field(foreign_key="providers.id")
    active: bool = True


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    role: Role = Field(sa_type=enum_type(Role))
    provider_id: int | None = Field(default=None, foreign_key="providers.id")
    #: The first characters of the key, to tell keys apart in lists; the key itself is never stored.
    prefix: str = Field(max_length=16)
    key_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = ts()


class Citizen(SQLModel, table=True):
    __tablename__ = "citizens"

    id: int | None = Field(default=None, primary_key=True)
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=20, index=True)
    email: str | None = Field(default=None, max_length=200)
    preferred_channel: Channel | None = Field(default=None, sa_type=enum_type(Channel))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    erased_at: datetime | None = ts()


#: Optimistic lock: every UPDATE of a ticket checks and bumps it, so concurrent changes cannot both win.
_ticket_version = sa.Column("version", sa.Integer, nullable=False, default=1)


class Ticket(SQLModel, table=True):
    __tablename__ = "tickets"
    __mapper_args__ = {"version_id_col": _ticket_version}
    __table_args__ = (
        sa.Index("ix_tickets_status_provider", "status", "provider_id"),
        sa.Index("ix_tickets_provider_status", "provider_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=16, unique=True)
    kind: TicketKind = Field(default=TicketKind.request, sa_type=enum_type(TicketKind))
    channel: Channel = Field(sa_type=enum_type(Channel))
    category_id: int = Field(foreign_key="categories.id", index=True)
    description: str = Field(max_length=5000)
    priority: Priority = Field(default=Priority.normal, sa_type=enum_type(Priority))
    status: Status = Field(default=Status.received, sa_type=enum_type(Status))

    address_text: str | None = Field(default=None, max_length=500)
    settlement: str | None = Field(default=None, max_length=200)
    street: str | None = Field(default=None, max_length=200)
    house: str | None = Field(default=None, max_length=32)
    apartment: str | None = Field(default=None, max_length=32)
    territory_id: int | None = Field(default=None, foreign_key="territories.id", index=True)
    street_id: int | None = Field(default=None, foreign_key="streets.id")
    lat: float | None = None
    lon: float | None = None

    citizen_id: int | None = Field(default=None, foreign_key="citizens.id", index=True)
    citizen_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    #: The key that filed the ticket (an integrator's replies go back through it).
    created_by_key_id: int | None = Field(default=None, foreign_key="api_keys.id", index=True)
    #: The softphone call during which the ticket was filed.
    call_id: str | None = Field(default=None, max_length=128, index=True)

    provider_id: int | None = Field(default=None, foreign_key="providers.id")
    executor: str | None = Field(default=None, max_length=200)

    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    routed_at: datetime | None = ts()
    accepted_at: datetime | None = ts()
    started_at: datetime | None = ts()
    resolved_at: datetime | None = ts()
    confirmed_at: datetime | None = ts()
    closed_at: datetime | None = ts()

    ack_due_at: datetime | None = ts(index=True)
    resolve_due_at: datetime | None = ts(index=True)
    statutory_due_at: datetime | None = ts()

    resolution: str | None = Field(default=None, max_length=5000)
    evidence_url: str | None = Field(default=None, max_length=1000)
    work_order: str | None = Field(default=None, max_length=100)
    reopen_count: int = 0
    close_reason: CloseReason | None = Field(default=None, sa_type=enum_type(CloseReason))
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=2000)
    version: int = Field(default=1, sa_column=_ticket_version)

    citizen: Citizen | None = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Handoff(SQLModel, table=True):
    """One hand-over of a ticket to a provider: the link that breaks today, timed at every hop."""

    __tablename__ = "handoffs"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True, nullable=False)
    provider_id: int = Field(foreign_key="providers.id", index=True)
    routed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    routed_by: str = Field(max_length=200)
    ack_due_at: datetime | None = ts()
    acknowledged_at: datetime | None = ts()
    acknowledged_by: str | None = Field(default=None, max_length=200)
    declined_at: datetime | None = ts()
    declined_by: str | None = Field(default=None, max_length=200)
    decline_reason: str | None = Field(default=None, max_length=2000)
    #: Set when the ticket left this provider without a decline (rerouted by the dispatcher).
    ended_at: datetime | None = ts()

    ticket: "Ticket" = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class TicketEvent(SQLModel, table=True):
    """Append-only timeline: one row per change of a ticket."""

    __tablename__ = "ticket_events"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True, nullable=False)
    type: str = Field(max_length=32)
    from_status: Status | None = Field(default=None, sa_type=enum_type(Status))
    to_status: Status | None = Field(default=None, sa_type=enum_type(Status))
    actor_type: str = Field(max_length=16)
    actor_id: int | None = None
    actor_name: str = Field(max_length=200)
    actor_role: str | None = Field(default=None, max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)

    # Write-only links, so one flush inserts a new ticket, its events and outbox rows in order.
    ticket: "Ticket" = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class OutboxMessage(SQLModel, table=True):
    """What someone must hear of, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_pending", "dispatched_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int | None = Field(default=None, foreign_key="ticket_events.id")
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: datetime | None = ts()

    event: TicketEvent | None = Relationship(sa_relationship_kwargs={"lazy": "raise"})
    ticket: "Ticket" = Relationship(sa_relationship_kwargs={"lazy": "raise"})


class Counter(SQLModel, table=True):
    """Named counters for SQLite, which has no sequences (PostgreSQL uses ``ticket_number_seq``)."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("principal", "key", name="principal_key"),)

    id: int | None = Field(default=None, primary_key=True)
    principal: str = Field(max_length=80)
    key: str = Field(max_length=200)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    body_hash: str = Field(max_length=64)
    status_code: int
    headers: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    body: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class CallbackReason(enum.StrEnum):
    confirmation = "confirmation"
    missed_call = "missed_call"


class CallbackStatus(enum.StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class CallbackTask(SQLModel, table=True):
    """An operator's call-back: asking a phone citizen about a fix, or returning a missed call."""

    __tablename__ = "callback_tasks"
    __table_args__ = (sa.Index("ix_callback_tasks_queue", "status", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    reason: CallbackReason = Field(sa_type=enum_type(CallbackReason))
    status: CallbackStatus = Field(default=CallbackStatus.open, sa_type=enum_type(CallbackStatus))
    phone: str | None = Field(default=None, max_length=20, index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizens.id")
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    call_id: str | None = Field(default=None, max_length=128)
    due_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    outcome: str | None = Field(default=None, max_length=32)
    note: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    completed_at: datetime | None = ts()
    completed_by: str | None = Field(default=None, max_length=200)
