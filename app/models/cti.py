"""The softphone's calls and blocked numbers, category questions, and Open311 request extras."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, enum_type, ts, utcnow


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
