"""The webhook jobs: fan the outbox out into deliveries, and send what is due with httpx.

No session is held while a receiver is called: deliveries are claimed (leased) in one short
transaction, sent, and the outcomes recorded in another. A process killed in between leaves the
lease to expire, and the delivery is sent again (at least once; the ``webhook-id`` stays the same).
"""

import asyncio
import time
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.services import outbox, webhooks
from app.services.reference import ReferenceData
from app.settings import Settings

USER_AGENT = "hotline-webhooks/1"
#: Rounds per run: a ticket's next message goes out as soon as the one before it is delivered.
MAX_ROUNDS = 20
PARALLEL = 10


async def dispatch_all(
    factory: async_sessionmaker[AsyncSession], ref: ReferenceData, settings: Settings
) -> int:
    """Fan out every undispatched outbox row, a batch per transaction."""
    total = 0
    for _ in range(MAX_ROUNDS):
        async with session_scope(factory) as session:
            taken = await outbox.dispatch(
                session, ref, limit=settings.webhook_batch_size, base_url=settings.public_base_url
            )
        total += taken
        if taken < settings.webhook_batch_size:
            break
    return total


async def _post(client: httpx.AsyncClient, item: webhooks.Outgoing) -> webhooks.Result:
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": item.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhooks.signature_header(item.secrets, item.message_id, timestamp, item.body),
    }
    started = time.perf_counter()
    try:
        response = await client.post(item.url, content=item.body, headers=headers)
    except httpx.HTTPError as exc:
        latency = int((time.perf_counter() - started) * 1000)
        return webhooks.Result(item.delivery_id, None, latency, error=f"{type(exc).__name__}: {exc}")
    latency = int((time.perf_counter() - started) * 1000)
    return webhooks.Result(
        item.delivery_id,
        response.status_code,
        latency,
        response_excerpt=response.text[: webhooks.EXCERPT],
    )


async def send_due(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Send due deliveries until none is due; returns how many attempts were made."""
    schedule = webhooks.parse_schedule(settings.webhook_retry_schedule)
    # Long enough for the slowest receiver; if we die, the delivery is due again after it.
    lease = timedelta(seconds=settings.webhook_timeout_seconds * 2 + 5)
    limit = asyncio.Semaphore(PARALLEL)
    attempts = 0
    async with httpx.AsyncClient(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:

        async def post(item: webhooks.Outgoing) -> webhooks.Result:
            async with limit:
                return await _post(client, item)

        for _ in range(MAX_ROUNDS):
            async with session_scope(factory) as session:
                claimed = await webhooks.claim_due(session, limit=settings.webhook_batch_size, lease=lease)
            if not claimed:
                break
            results = await asyncio.gather(*(post(item) for item in claimed))
            async with session_scope(factory) as session:
                for result in results:
                    await webhooks.record_attempt(session, result, schedule)
            attempts += len(results)
            if not any(r.ok for r in results):
                break
    return attempts
