"""Call events as PBXs send them (the generic-CTI shape), the call log and the screen pop."""

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.models import CallbackReason, CallDirection, CallOutcome, Channel, Status
from app.schemas.tickets import CitizenOut

Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]


class CallEventType(enum.StrEnum):
    new_call = "newCall"
    answer = "answer"
    hangup = "hangup"


class CallEventIn(BaseModel):
    """One event; PBXs add fields of their own, which are ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    event: CallEventType
    call_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] = Field(
        alias="callId"
    )
    from_number: Short | None = Field(default=None, alias="from")
    to_number: Short | None = Field(default=None, alias="to")
    direction: CallDirection | None = None
    user: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    queue: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    answering_number: Short | None = Field(default=None, alias="answeringNumber")
    #: normalClearing, busy, cancel, noAnswer, congestion, notFound, forwarded (others are kept as given).
    cause: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None


class TicketBrief(BaseModel):
    number: str
    status: Status
    category: str
    provider: str | None = None
    created_at: datetime
    resolve_due_at: datetime | None = None
    statutory_due_at: datetime | None = None
    overdue: bool = False


class CallTicketRef(BaseModel):
    number: str
    status: Status
    #: "produced": filed during the call; "touched": linked to it by an operator.
    relation: str


class CallRead(BaseModel):
    call_id: str
    direction: CallDirection
    phone: str | None
    from_number: str | None
    to_number: str | None
    queue: str | None
    operator: str | None
    answering_number: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    outcome: CallOutcome
    hangup_cause: str | None
    tickets: list[CallTicketRef] = Field(default_factory=list)


class CallPage(BaseModel):
    items: list[CallRead]
    next_cursor: str | None = None


class CallbackBrief(BaseModel):
    id: int
    reason: CallbackReason
    due_at: datetime
    ticket_number: str | None = None
    call_id: str | None = None


class CallerFlags(BaseModel):
    repeat_caller: bool
    calls_recently: int
    open_callback_task: bool
    has_open_tickets: bool
    has_overdue_tickets: bool
    blocked: bool


class ScreenPop(BaseModel):
    phone: str
    citizen: CitizenOut | None
    preferred_channel: Channel | None = None
    open_tickets: list[TicketBrief]
    recent_tickets: list[TicketBrief]
    last_calls: list[CallRead]
    callback_tasks: list[CallbackBrief]
    flags: CallerFlags
    #: What to say first, in a line: the flags in words.
    notes: list[str]


class LinkTicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]


class BlockedNumberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class BlockedNumberRead(BaseModel):
    phone: str
    reason: str
    created_at: datetime
    created_by: str
