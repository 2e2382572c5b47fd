"""Webhook subscriptions and their deliveries."""

from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints

from app.models import DeliveryStatus
from app.schemas.tickets import Strict

EventType = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class WebhookCreate(Strict):
    url: AnyHttpUrl
    #: ``ticket.routed``, ``ticket.resolved`` ... or ``["*"]`` for every event the key may see.
    event_types: list[EventType] = Field(min_length=1, max_length=50)
    description: Description | None = None


class WebhookUpdate(Strict):
    url: AnyHttpUrl | None = None
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=50)
    description: Description | None = None
    #: false pauses the endpoint: no new deliveries are made for it and pending ones wait.
    active: bool | None = None


class RotateSecretIn(Strict):
    #: Hours the old secret keeps signing next to the new one (default: the service setting).
    overlap_hours: int | None = Field(default=None, ge=0, le=168)


class WebhookRead(BaseModel):
    id: int
    url: str
    event_types: list[str]
    description: str | None = None
    active: bool
    owner_key_id: int
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = None


class WebhookCreated(WebhookRead):
    #: Shown once (here and on rotation): the ``whsec_`` secret that signs every delivery.
    secret: str


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None = None
    latency_ms: int
    error: str | None = None
    response_excerpt: str | None = None


class DeliveryRead(BaseModel):
    id: int
    webhook_id: str
    event_type: str
    ticket_number: str | None = None
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    created_at: datetime
    delivered_at: datetime | None = None
    dead_at: datetime | None = None
    attempts: list[AttemptRead]


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    #: Pass as ``before`` for the next (older) page.
    next_before: int | None = None
