"""Table models and enums. Enums are stored as strings and timestamps as aware UTC on both databases."""

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, Relationship, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def ident(row: Any) -> int:
    """The primary key of a row that has been flushed (mypy knows ids as ``int | None``)."""
    value = row.id
    if value is None:
        raise RuntimeError(f"{type(row).__name__} has no id yet; flush first")
    return int(value)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp; SQLite hands back naive values, which are UTC by construction."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda members: [m.value for m in members],
    )


def ts(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


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


# --- reference data -------------------------------------------------------------------------------


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


# --- people and access -----------------------------------------------------------------------------


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


# --- tickets ---------------------------------------------------------------------------------------


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


# --- softphone (CTI) and Open311 ----------------------------------------------------------------------


class CallDirection(enum.StrEnum):
    inbound = "in"
    outbound = "out"


class CallOutcome(enum.StrEnum):
    ringing = "ringing"
    talking = "talking"
    answered = "answered"
    #: An inbound call nobody answered (the caller hung up or the queue gave up): a call-back is due.
    missed = "missed"
    #: An outbound call the citizen did not pick up.
    no_answer = "no_answer"
    busy = "busy"
    failed = "failed"
    forwarded = "forwarded"
    #: The number is on the blocked list; the PBX was told to answer busy.
    rejected = "rejected"


class Call(SQLModel, table=True):
    """One call as the PBX reported it; every event fills in what it knows, in any order."""

    __tablename__ = "calls"
    __table_args__ = (sa.Index("ix_calls_phone_started", "phone", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=128, unique=True)
    direction: CallDirection = Field(default=CallDirection.inbound, sa_type=enum_type(CallDirection))
    #: The citizen's number in E.164 (the caller when inbound, the callee when outbound); None if withheld.
    phone: str | None = Field(default=None, max_length=20)
    from_number: str | None = Field(default=None, max_length=64)
    to_number: str | None = Field(default=None, max_length=64)
    queue: str | None = Field(default=None, max_length=100)
    operator: str | None = Field(default=None, max_length=200)
    answering_number: str | None = Field(default=None, max_length=64)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    answered_at: datetime | None = ts()
    ended_at: datetime | None = ts()
    duration_seconds: int | None = None
    outcome: CallOutcome = Field(default=CallOutcome.ringing, sa_type=enum_type(CallOutcome))
    hangup_cause: str | None = Field(default=None, max_length=32)
    #: The events already applied (newCall, answer, hangup): a repeated event changes nothing.
    events: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CallTicket(SQLModel, table=True):
    """A ticket an operator touched during a call (tickets filed during it carry ``Ticket.call_id``)."""

    __tablename__ = "call_tickets"
    __table_args__ = (sa.UniqueConstraint("call_id", "ticket_id", name="call_ticket"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=128, index=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)


class BlockedNumber(SQLModel, table=True):
    """An abusive caller: the PBX is told to answer busy."""

    __tablename__ = "blocked_numbers"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20, unique=True)
    reason: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(max_length=200)


class AttributeDatatype(enum.StrEnum):
    string = "string"
    number = "number"
    datetime = "datetime"
    text = "text"
    singlevaluelist = "singlevaluelist"
    multivaluelist = "multivaluelist"


class CategoryAttribute(SQLModel, table=True):
    """A question a category asks when filed (an Open311 service definition attribute)."""

    __tablename__ = "category_attributes"
    __table_args__ = (sa.UniqueConstraint("category_id", "code", name="category_code"),)

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="categories.id", index=True)
    code: str = Field(max_length=64)
    datatype: AttributeDatatype = Field(sa_type=enum_type(AttributeDatatype))
    required: bool = False
    #: False: the attribute only informs the user (no input expected).
    variable: bool = True
    description: str = Field(max_length=500)
    datatype_description: str | None = Field(default=None, max_length=500)
    order: int = 1
    #: For list datatypes: [{"key": ..., "name": ...}].
    values: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)


class Open311Request(SQLModel, table=True):
    """What an Open311 client sent beyond the ticket itself (shown back in GET requests)."""

    __tablename__ = "open311_requests"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", unique=True)
    address_id: str | None = Field(default=None, max_length=100)
    media_url: str | None = Field(default=None, max_length=1000)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


# --- webhooks --------------------------------------------------------------------------------------


class DeliveryStatus(enum.StrEnum):
    pending = "pending"
    delivered = "delivered"
    dead = "dead"


class WebhookSubscription(SQLModel, table=True):
    """An endpoint that hears of tickets its owner key may see. Deleted ones stay for their history."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    owner_key_id: int = Field(foreign_key="api_keys.id", index=True)
    url: str = Field(max_length=1000)
    #: Event types it wants (``ticket.routed`` ...), or ``["*"]`` for all.
    event_types: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    description: str | None = Field(default=None, max_length=200)
    active: bool = True
    #: The signing secret (``whsec_`` + base64). Kept in clear: an HMAC needs it on every delivery.
    secret: str = Field(max_length=100)
    #: The secret before the last rotation, also signed with until ``previous_secret_expires_at``.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = ts()
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deleted_at: datetime | None = ts()


class WebhookDelivery(SQLModel, table=True):
    """One outbox message for one subscription: sent, retried and dead-lettered on its own."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("outbox_id", "subscription_id", name="outbox_subscription"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_order", "subscription_id", "ticket_id", "status", "outbox_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: The ``webhook-id`` header: the same on every attempt and replay, so receivers can deduplicate.
    message_id: str = Field(max_length=64, unique=True)
    subscription_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False)
    )
    outbox_id: int = Field(
        sa_column=sa.Column(sa.ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    ticket_id: int | None = Field(
        default=None, sa_column=sa.Column(sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=True)
    )
    event_type: str = Field(max_length=64)
    #: The body without personal data; ``citizen_id`` set means the citizen's contact is added when sent.
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    citizen_id: int | None = None
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=enum_type(DeliveryStatus))
    #: Failed attempts since the last (re)start; picks the next wait from the retry schedule.
    failures: int = 0
    attempt_count: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = ts()
    dead_at: datetime | None = ts()


class WebhookAttempt(SQLModel, table=True):
    """Every try at a delivery, answered or not."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=sa.Column(
            sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_code: int | None = None
    latency_ms: int = 0
    error: str | None = Field(default=None, max_length=500)
    response_excerpt: str | None = Field(default=None, max_length=500)


# --- SLA: policies per category, and the clocks the watcher keeps ----------------------------------


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
