"""The call-back queue as operators read and work it."""

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.models import CallbackReason, CallbackStatus, Status
from app.schemas.tickets import Reason, Strict


class Outcome(enum.StrEnum):
    confirmed = "confirmed"
    rejected = "rejected"
    unreachable = "unreachable"
    reached = "reached"


class CallbackOutcomeIn(Strict):
    #: confirmation calls: confirmed / rejected / unreachable; missed calls: reached / unreachable.
    outcome: Outcome
    #: For confirmed: the citizen's rating of the fix, 1–5.
    rating: int | None = Field(default=None, ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    #: For rejected: what the citizen says is still wrong.
    reason: Reason | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class CallbackRead(BaseModel):
    id: int
    reason: CallbackReason
    status: CallbackStatus
    due_at: datetime
    attempts: int
    phone: str | None = None
    citizen_name: str | None = None
    ticket_number: str | None = None
    ticket_status: Status | None = None
    call_id: str | None = None
    outcome: str | None = None
    note: str | None = None
    created_at: datetime
    completed_at: datetime | None = None
    completed_by: str | None = None
