"""Webhook subscriptions, Standard Webhooks signatures, and the delivery queue's bookkeeping.

The HTTP calls themselves are made by the sender job (``app/workers/webhooks.py``); this module
claims what is due, records every attempt, and schedules the retries.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import exists
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    ApiKey,
    Citizen,
    DeliveryStatus,
    OutboxMessage,
    Role,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)
from app.services.auth import Principal
from app.services.views import citizen_view

SECRET_PREFIX = "whsec_"
#: Roles that may subscribe: a provider hears of its tickets, an integrator of the tickets it filed,
#: admins and supervisors of everything.
SUBSCRIBERS = frozenset({Role.admin, Role.supervisor, Role.provider, Role.integrator})
MANAGES_ALL = frozenset({Role.admin})
EVENT_TYPES = frozenset(
    f"ticket.{name}"
    for name in (
        "received",
        "routed",
        "accepted",
        "declined",
        "started",
        "resolved",
        "confirmed",
        "rejected",
        "reopened",
        "closed",
        "deadline_extended",
        "sla_warning",
        "sla_breached",
        "escalated",
        "call_linked",
    )
)
ALL_EVENTS = "*"
EXCERPT = 500


# --- signing ----------------------------------------------------------------------------------------


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed with the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signing_secrets(subscription: WebhookSubscription) -> list[str]:
    """The current secret, and the previous one while its overlap period lasts."""
    found = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > utcnow():
        found.append(subscription.previous_secret)
    return found


def signature_header(keys: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(key, message_id, timestamp, body) for key in keys)


# --- retry schedule ---------------------------------------------------------------------------------

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")


def parse_schedule(text: str) -> list[timedelta]:
    """``"5s,30s,2m"`` → the waits before each retry."""
    steps = []
    for part in text.split(","):
        match = _STEP.match(part.strip())
        if match is None:
            raise ValueError(f"bad webhook retry step {part!r}: use e.g. 5s, 2m, 1h, 1d")
        steps.append(timedelta(seconds=float(match[1]) * _UNITS[match[2]]))
    return steps


def backoff(schedule: list[timedelta], failures: int) -> timedelta | None:
    """The wait after the ``failures``-th failure, with ±20% jitter; None once the schedule is spent."""
    if failures > len(schedule):
        return None
    return schedule[failures - 1] * random.uniform(0.8, 1.2)


# --- subscriptions ----------------------------------------------------------------------------------


def check_event_types(event_types: list[str]) -> list[str]:
    unknown = sorted(set(event_types) - EVENT_TYPES - {ALL_EVENTS})
    if unknown:
        raise InvalidInput(
            f"Unknown event types: {', '.join(unknown)}.", field="event_types", known=sorted(EVENT_TYPES)
        )
    return sorted(set(event_types))


def wants(subscription: WebhookSubscription, event_type: str) -> bool:
    return ALL_EVENTS in subscription.event_types or event_type in subscription.event_types


async def create_subscription(
    session: AsyncSession, owner: Principal, *, url: str, event_types: list[str], description: str | None
) -> WebhookSubscription:
    subscription = WebhookSubscription(
        owner_key_id=owner.key_id or 0,
        url=url,
        event_types=check_event_types(event_types),
        description=description,
        secret=new_signing_secret(),
    )
    session.add(subscription)
    await session.flush()
    return subscription


async def list_subscriptions(session: AsyncSession, principal: Principal) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(col(WebhookSubscription.deleted_at).is_(None))
    if principal.role not in MANAGES_ALL:
        query = query.where(col(WebhookSubscription.owner_key_id) == principal.key_id)
    return list((await session.scalars(query.order_by(col(WebhookSubscription.id)))).all())


async def get_subscription(session: AsyncSession, principal: Principal, sub_id: int) -> WebhookSubscription:
    """The subscription if the key owns it (or is an admin); else 404."""
    subscription = await session.get(WebhookSubscription, sub_id)
    if (
        subscription is None
        or subscription.deleted_at is not None
        or (principal.role not in MANAGES_ALL and subscription.owner_key_id != principal.key_id)
    ):
        raise NotFound(f"No webhook {sub_id}.")
    return subscription


async def update_subscription(
    session: AsyncSession, subscription: WebhookSubscription, changes: dict[str, Any]
) -> WebhookSubscription:
    if "event_types" in changes:
        changes["event_types"] = check_event_types(changes["event_types"])
    for name, value in changes.items():
        setattr(subscription, name, value)
    subscription.updated_at = utcnow()
    await session.flush()
    return subscription


async def delete_subscription(session: AsyncSession, subscription: WebhookSubscription) -> None:
    """Stop it; the row and its delivery history stay, pending deliveries are no longer sent."""
    subscription.deleted_at = subscription.updated_at = utcnow()
    subscription.active = False
    await session.flush()


async def rotate_secret(
    session: AsyncSession, subscription: WebhookSubscription, overlap: timedelta
) -> WebhookSubscription:
    """A new secret; the old one keeps signing alongside it for ``overlap``."""
    now = utcnow()
    subscription.previous_secret = subscription.secret if overlap > timedelta(0) else None
    subscription.previous_secret_expires_at = now + overlap if overlap > timedelta(0) else None
    subscription.secret = new_signing_secret()
    subscription.updated_at = now
    await session.flush()
    return subscription


# --- deliveries: reading and replay -----------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    subscription: WebhookSubscription,
    *,
    status: DeliveryStatus | None = None,
    before: int | None = None,
    limit: int = 50,
) -> tuple[list[WebhookDelivery], dict[int, list[WebhookAttempt]]]:
    """A page of the subscription's deliveries, newest first, with their attempts."""
    query = select(WebhookDelivery).where(col(WebhookDelivery.subscription_id) == subscription.id)
    if status is not None:
        query = query.where(col(WebhookDelivery.status) == status)
    if before is not None:
        query = query.where(col(WebhookDelivery.id) < before)
    rows = list((await session.scalars(query.order_by(col(WebhookDelivery.id).desc()).limit(limit))).all())
    attempts: dict[int, list[WebhookAttempt]] = {row.id or 0: [] for row in rows}
    if rows:
        found = await session.scalars(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(list(attempts)))
            .order_by(col(WebhookAttempt.id))
        )
        for attempt in found:
            attempts[attempt.delivery_id].append(attempt)
    return rows, attempts


async def replay(
    session: AsyncSession, subscription: WebhookSubscription, delivery_id: int
) -> WebhookDelivery:
    """Send a dead or past delivery again, under the same ``webhook-id``, with a fresh schedule."""
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription.id:
        raise NotFound(f"No delivery {delivery_id} for webhook {subscription.id}.")
    if delivery.status is DeliveryStatus.pending:
        raise Conflict(f"Delivery {delivery_id} is still pending; it will be retried on its own.")
    delivery.status = DeliveryStatus.pending
    delivery.failures = 0
    delivery.next_attempt_at = utcnow()
    delivery.dead_at = None
    await session.flush()
    return delivery


# --- deliveries: the sender's side ------------------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A claimed delivery, with all the sender needs, so no session is held during the HTTP call."""

    delivery_id: int
    message_id: str
    url: str
    secrets: list[str]
    body: bytes


def render_body(payload: dict[str, Any], citizen: Citizen | None) -> bytes:
    body = dict(payload)
    if citizen is not None:
        body["ticket"] = {**body.get("ticket", {}), "citizen": citizen_view(citizen).model_dump(mode="json")}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def claim_due(session: AsyncSession, *, limit: int, lease: timedelta) -> list[Outgoing]:
    """Take due deliveries, at most the oldest pending one per (endpoint, ticket), and lease them.

    A delivery waits while an earlier message of its ticket is pending for the same endpoint, or is
    not yet fanned out, so one ticket's messages reach one endpoint in order. The lease (a later
    ``next_attempt_at``) keeps other workers off it; if this process dies, it falls due again.
    """
    now = utcnow()
    earlier = aliased(WebhookDelivery)
    waiting_for_earlier = exists().where(
        col(earlier.subscription_id) == WebhookDelivery.subscription_id,
        col(earlier.ticket_id) == WebhookDelivery.ticket_id,
        col(earlier.status) == DeliveryStatus.pending,
        col(earlier.outbox_id) < WebhookDelivery.outbox_id,
    )
    not_fanned_out = exists().where(
        col(OutboxMessage.ticket_id) == WebhookDelivery.ticket_id,
        col(OutboxMessage.dispatched_at).is_(None),
        col(OutboxMessage.id) < WebhookDelivery.outbox_id,
    )
    query = (
        select(WebhookDelivery)
        .join(WebhookSubscription, col(WebhookSubscription.id) == WebhookDelivery.subscription_id)
        .where(
            col(WebhookDelivery.status) == DeliveryStatus.pending,
            col(WebhookDelivery.next_attempt_at) <= now,
            col(WebhookSubscription.active).is_(True),
            col(WebhookSubscription.deleted_at).is_(None),
            ~waiting_for_earlier,
            ~not_fanned_out,
        )
        .order_by(col(WebhookDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDelivery)
    )
    deliveries = list((await session.scalars(query)).all())
    if not deliveries:
        return []
    sub_ids = {d.subscription_id for d in deliveries}
    subs = {
        s.id: s
        for s in await session.scalars(
            select(WebhookSubscription).where(col(WebhookSubscription.id).in_(sub_ids))
        )
    }
    citizen_ids = {d.citizen_id for d in deliveries if d.citizen_id}
    citizens = (
        {c.id: c for c in await session.scalars(select(Citizen).where(col(Citizen.id).in_(citizen_ids)))}
        if citizen_ids
        else {}
    )
    claimed = []
    for delivery in deliveries:
        delivery.next_attempt_at = now + lease
        subscription = subs[delivery.subscription_id]
        citizen = citizens.get(delivery.citizen_id) if delivery.citizen_id else None
        claimed.append(
            Outgoing(
                delivery_id=delivery.id or 0,
                message_id=delivery.message_id,
                url=subscription.url,
                secrets=signing_secrets(subscription),
                body=render_body(delivery.payload, citizen),
            )
        )
    await session.flush()
    return claimed


@dataclass(frozen=True)
class Result:
    delivery_id: int
    status_code: int | None
    latency_ms: int
    error: str | None = None
    response_excerpt: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def record_attempt(session: AsyncSession, result: Result, schedule: list[timedelta]) -> WebhookDelivery:
    """Store the attempt; mark the delivery delivered, due again after its backoff, or dead."""
    delivery = await session.get(WebhookDelivery, result.delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {result.delivery_id}.")
    now = utcnow()
    session.add(
        WebhookAttempt(
            delivery_id=result.delivery_id,
            attempted_at=now,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=(result.error or "")[:EXCERPT] or None,
            response_excerpt=(result.response_excerpt or "")[:EXCERPT] or None,
        )
    )
    delivery.attempt_count += 1
    delivery.last_status_code = result.status_code
    delivery.last_error = (result.error or "")[:EXCERPT] or None
    if result.ok:
        delivery.status = DeliveryStatus.delivered
        delivery.delivered_at = now
    else:
        delivery.failures += 1
        wait = backoff(schedule, delivery.failures)
        if wait is None:
            delivery.status = DeliveryStatus.dead
            delivery.dead_at = now
        else:
            delivery.next_attempt_at = now + wait
    await session.flush()
    return delivery


async def owner_keys(session: AsyncSession, ids: set[int]) -> dict[int, ApiKey]:
    if not ids:
        return {}
    return {k.id or 0: k for k in await session.scalars(select(ApiKey).where(col(ApiKey.id).in_(ids)))}
