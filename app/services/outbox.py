"""The outbox dispatcher: fans committed outbox rows out into per-endpoint webhook deliveries.

Each row goes to every active subscription that wants its type and whose owner key may see the
ticket now (the same rule as reading it through the API). The citizen's contact is marked for the
receivers entitled to it and added when sent, so an erasure in between is respected.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.models import OutboxMessage, Role, Ticket, WebhookDelivery, WebhookSubscription, utcnow
from app.services.access import STAFF, sees_personal_data, visible_tickets
from app.services.auth import Principal, principal_for_key
from app.services.citizen_messages import citizen_message
from app.services.reference import ReferenceData
from app.services.webhooks import owner_keys, wants


async def claim_undispatched(session: AsyncSession, limit: int) -> list[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.dispatched_at).is_(None))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(query)).all())


async def _visible_ids(session: AsyncSession, principal: Principal, ticket_ids: set[int]) -> set[int]:
    if principal.role in STAFF:
        return ticket_ids
    query = select(Ticket.id).where(col(Ticket.id).in_(ticket_ids), visible_tickets(principal))
    return {i for i in (await session.scalars(query)) if i is not None}


def _concerns(ref: ReferenceData, provider: Principal, payload: dict[str, Any]) -> bool:
    """A provider hears of a ticket while it holds it, and of the step that takes it away — not of
    what the next provider does with a ticket it once declined."""
    own = ref.providers.get(provider.provider_id or 0)
    if own is None:
        return False
    holder = (payload.get("ticket") or {}).get("provider") or {}
    data = payload.get("data") or {}
    return own.code in {holder.get("code"), data.get("provider"), data.get("previous_provider")}


async def dispatch(session: AsyncSession, ref: ReferenceData, *, limit: int = 100, base_url: str = "") -> int:
    """Fan out one batch of undispatched outbox rows; returns how many rows were taken."""
    rows = await claim_undispatched(session, limit)
    if not rows:
        return 0
    subscriptions = list(
        (
            await session.scalars(
                select(WebhookSubscription).where(
                    col(WebhookSubscription.active).is_(True), col(WebhookSubscription.deleted_at).is_(None)
                )
            )
        ).all()
    )
    keys = await owner_keys(session, {s.owner_key_id for s in subscriptions})
    ticket_ids = {r.ticket_id for r in rows if r.ticket_id is not None}
    tickets = (
        {t.id: t for t in await session.scalars(select(Ticket).where(col(Ticket.id).in_(ticket_ids)))}
        if ticket_ids
        else {}
    )
    audience: list[tuple[WebhookSubscription, Principal, set[int]]] = []
    for subscription in subscriptions:
        key = keys.get(subscription.owner_key_id)
        if key is None or key.revoked_at is not None:
            continue
        principal = principal_for_key(key)
        audience.append((subscription, principal, await _visible_ids(session, principal, ticket_ids)))

    now = utcnow()
    for row in rows:
        ticket = tickets.get(row.ticket_id) if row.ticket_id is not None else None
        for subscription, principal, visible in audience:
            if ticket is None or ticket.id not in visible or not wants(subscription, row.type):
                continue
            if principal.role == Role.provider and not _concerns(ref, principal, row.payload):
                continue
            payload = dict(row.payload)
            if principal.role == Role.integrator:
                message = citizen_message(row.type, payload, base_url)
                if message is not None:
                    payload["citizen_message"] = message
            entitled = sees_personal_data(principal, ticket) and ticket.citizen_id is not None
            session.add(
                WebhookDelivery(
                    message_id=f"msg_{uuid.uuid4().hex}",
                    subscription_id=subscription.id or 0,
                    outbox_id=row.id or 0,
                    ticket_id=ticket.id,
                    event_type=row.type,
                    payload=payload,
                    citizen_id=ticket.citizen_id if entitled else None,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        row.dispatched_at = now
    await session.flush()
    return len(rows)
