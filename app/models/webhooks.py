"""Webhook subscriptions, their deliveries and every attempt."""

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, enum_type, ts, utcnow


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
