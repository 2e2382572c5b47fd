"""Tickets as the API reads and writes them."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from app.models import Channel, CloseReason, Priority, Status, TicketKind

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CitizenIn(Strict):
    name: ShortText | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    email: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
        | None
    ) = None
    preferred_channel: Channel | None = None


class AddressIn(Strict):
    settlement: ShortText | None = None
    street: ShortText | None = None
    house: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    apartment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class TicketCreate(Strict):
    channel: Channel
    kind: TicketKind = TicketKind.request
    category_code: ShortText
    description: Text
    priority: Priority | None = None
    citizen: CitizenIn | None = None
    address: AddressIn | None = None
    territory_code: ShortText | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    call_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    #: For a consultation: the answer the operator gave, recorded as its resolution.
    answer: Text | None = None


class CodeName(BaseModel):
    code: str
    name: str


class TerritoryRef(CodeName):
    kind: str


class AddressOut(BaseModel):
    settlement: str | None = None
    street: str | None = None
    house: str | None = None
    apartment: str | None = None
    text: str | None = None
    lat: float | None = None
    lon: float | None = None


class CitizenOut(BaseModel):
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_channel: Channel | None = None


class Deadlines(BaseModel):
    acknowledge: datetime | None = None
    resolve: datetime | None = None
    statutory: datetime | None = None
    #: Running deadlines that have passed: "acknowledge", "resolve", "statutory".
    breached: list[str] = Field(default_factory=list)


class TicketRead(BaseModel):
    number: str
    kind: TicketKind
    channel: Channel
    status: Status
    priority: Priority
    category: CodeName
    description: str
    address: AddressOut
    territory: TerritoryRef | None = None
    provider: CodeName | None = None
    executor: str | None = None
    citizen: CitizenOut | None = None
    call_id: str | None = None
    created_at: datetime
    updated_at: datetime
    routed_at: datetime | None = None
    accepted_at: datetime | None = None
    started_at: datetime | None = None
    resolved_at: datetime | None = None
    confirmed_at: datetime | None = None
    closed_at: datetime | None = None
    due: Deadlines
    resolution: str | None = None
    evidence_url: str | None = None
    work_order: str | None = None
    reopen_count: int = 0
    close_reason: CloseReason | None = None
    rating: int | None = None
    rating_comment: str | None = None
    allowed_actions: list[str] = Field(default_factory=list)


class TicketCreated(TicketRead):
    #: Shown once: the citizen's key to follow, confirm or reject this ticket.
    citizen_token: str | None = None


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None = None


class ActorOut(BaseModel):
    type: str
    name: str
    role: str | None = None


class EventRead(BaseModel):
    id: int
    type: str
    from_status: Status | None = None
    to_status: Status | None = None
    actor: ActorOut
    at: datetime
    payload: dict[str, Any]


# --- actions ----------------------------------------------------------------------------------------


class RouteIn(Strict):
    #: The provider to hand the ticket to; omitted, the routing rules choose.
    provider_code: ShortText | None = None
    note: Reason | None = None


class AcceptIn(Strict):
    executor: ShortText | None = None
    note: Reason | None = None


class DeclineIn(Strict):
    reason: Reason


class StartIn(Strict):
    executor: ShortText | None = None
    note: Reason | None = None


class ResolveIn(Strict):
    resolution: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]
    evidence_url: AnyHttpUrl | None = None
    work_order: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None
    ) = None


class ConfirmIn(Strict):
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class RejectIn(Strict):
    reason: Reason


class ReopenIn(Strict):
    reason: Reason


class CloseIn(Strict):
    reason: CloseReason
    note: Reason | None = None
    #: For reason=duplicate: the number of the ticket this one repeats.
    duplicate_of: ShortText | None = None


class ExtendIn(Strict):
    until: datetime
    reason: Reason
