"""Webhook subscriptions: register an endpoint, rotate its secret, read and replay its deliveries."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.routers.deps import PrincipalDep, SessionDep, SettingsDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.webhooks import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    RotateSecretIn,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from app.services import webhooks
from app.services.access import require_role

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], route_class=TransactionalRoute)


def _read(sub: WebhookSubscription) -> WebhookRead:
    return WebhookRead.model_validate(sub, from_attributes=True)


def _created(sub: WebhookSubscription) -> WebhookCreated:
    return WebhookCreated(**_read(sub).model_dump(), secret=sub.secret)


def _delivery(d: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryRead:
    return DeliveryRead(
        id=d.id or 0,
        webhook_id=d.message_id,
        event_type=d.event_type,
        ticket_number=(d.payload.get("ticket") or {}).get("number"),
        status=d.status,
        attempt_count=d.attempt_count,
        next_attempt_at=d.next_attempt_at if d.status is DeliveryStatus.pending else None,
        last_status_code=d.last_status_code,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        dead_at=d.dead_at,
        attempts=[AttemptRead.model_validate(a, from_attributes=True) for a in attempts],
    )


@router.post("", response_model=WebhookCreated, status_code=status.HTTP_201_CREATED)
async def create_webhook(data: WebhookCreate, session: SessionDep, principal: PrincipalDep) -> WebhookCreated:
    """Subscribe an endpoint to events of the tickets this key may see. The secret is shown only here."""
    require_role(principal, webhooks.SUBSCRIBERS, "subscribe to webhooks")
    sub = await webhooks.create_subscription(
        session, principal, url=str(data.url), event_types=data.event_types, description=data.description
    )
    return _created(sub)


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(session: SessionDep, principal: PrincipalDep) -> list[WebhookRead]:
    """This key's endpoints (an admin sees all)."""
    require_role(principal, webhooks.SUBSCRIBERS, "read webhooks")
    return [_read(s) for s in await webhooks.list_subscriptions(session, principal)]


@router.get("/{webhook_id}", response_model=WebhookRead)
async def read_webhook(webhook_id: int, session: SessionDep, principal: PrincipalDep) -> WebhookRead:
    require_role(principal, webhooks.SUBSCRIBERS, "read webhooks")
    return _read(await webhooks.get_subscription(session, principal, webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookRead)
async def update_webhook(
    webhook_id: int, data: WebhookUpdate, session: SessionDep, principal: PrincipalDep
) -> WebhookRead:
    """Change the URL or the event types, or pause (active=false) and resume the endpoint."""
    require_role(principal, webhooks.SUBSCRIBERS, "change webhooks")
    sub = await webhooks.get_subscription(session, principal, webhook_id)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        changes["url"] = str(data.url)
    return _read(await webhooks.update_subscription(session, sub, changes))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: int, session: SessionDep, principal: PrincipalDep) -> Response:
    """Stop the endpoint; pending deliveries to it are no longer sent."""
    require_role(principal, webhooks.SUBSCRIBERS, "delete webhooks")
    await webhooks.delete_subscription(
        session, await webhooks.get_subscription(session, principal, webhook_id)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookCreated)
async def rotate_webhook_secret(
    webhook_id: int,
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    data: RotateSecretIn | None = None,
) -> WebhookCreated:
    """A new secret, shown once; the old one keeps signing next to it during the overlap."""
    require_role(principal, webhooks.SUBSCRIBERS, "change webhooks")
    sub = await webhooks.get_subscription(session, principal, webhook_id)
    hours = data.overlap_hours if data and data.overlap_hours is not None else None
    overlap = timedelta(hours=settings.webhook_secret_overlap_hours if hours is None else hours)
    return _created(await webhooks.rotate_secret(session, sub, overlap))


@router.get("/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    status: DeliveryStatus | None = None,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """Deliveries to the endpoint, newest first, each with every attempt made."""
    require_role(principal, webhooks.SUBSCRIBERS, "read webhooks")
    sub = await webhooks.get_subscription(session, principal, webhook_id)
    rows, attempts = await webhooks.list_deliveries(session, sub, status=status, before=before, limit=limit)
    items = [_delivery(d, attempts[d.id or 0]) for d in rows]
    return DeliveryPage(items=items, next_before=rows[-1].id if len(rows) == limit else None)


@router.post("/{webhook_id}/deliveries/{delivery_id}/replay", response_model=DeliveryRead)
async def replay_delivery(
    webhook_id: int, delivery_id: int, session: SessionDep, principal: PrincipalDep
) -> DeliveryRead:
    """Send a dead or past delivery again, with the same webhook-id and a fresh retry schedule."""
    require_role(principal, webhooks.SUBSCRIBERS, "replay webhooks")
    sub = await webhooks.get_subscription(session, principal, webhook_id)
    return _delivery(await webhooks.replay(session, sub, delivery_id), [])
