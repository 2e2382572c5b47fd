"""A server killed with SIGKILL between commit and delivery still delivers every message after a restart."""

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlmodel import col, select
from standardwebhooks.webhooks import Webhook

from app.models import WebhookDelivery, WebhookSubscription
from app.settings import Settings
from tests.conftest import ADMIN_SECRET, water_ticket
from tests.receiver import Receiver
from tests.servers import Server, free_port

APPEALS = 20
DEADLINE_SECONDS = 90.0


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    running = Server(
        settings.database_url,
        HOTLINE_WEBHOOK_POLL_SECONDS="0.2",
        HOTLINE_WEBHOOK_TIMEOUT_SECONDS="1",
        HOTLINE_WEBHOOK_RETRY_SCHEDULE=",".join(["1s"] * 60),
    )
    yield running
    running.stop()


async def test_kill_before_delivery_loses_no_message(
    server: Server, committed: FastAPI, settings: Settings
) -> None:
    receiver_port = free_port()  # nothing listens there at first: nothing can be delivered
    receiver: Receiver | None = None
    admin = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    await server.start()
    hook_id = None
    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
            key = await client.post(
                "/api/v1/api-keys", json={"name": "chatbot", "role": "integrator"}, headers=admin
            )
            bot = {"Authorization": f"Bearer {key.json()['key']}"}
            hook = await client.post(
                "/api/v1/webhooks",
                json={
                    "url": f"http://127.0.0.1:{receiver_port}/bot",
                    "event_types": ["ticket.received", "ticket.routed"],
                },
                headers=bot,
            )
            assert hook.status_code == 201, hook.text
            hook_id, secret = hook.json()["id"], hook.json()["secret"]
            numbers = []
            for _ in range(APPEALS):
                filed = await client.post(
                    "/api/v1/tickets", json=water_ticket(channel="chatbot"), headers=bot
                )
                assert filed.status_code == 201, filed.text
                numbers.append(filed.json()["number"])
        server.kill()

        receiver = Receiver(receiver_port).start()
        await server.start()
        expected = {(n, t) for n in numbers for t in ("ticket.received", "ticket.routed")}
        started = time.monotonic()
        while time.monotonic() - started < DEADLINE_SECONDS:
            got = {(r.number, r.type) for r in receiver.at("/bot")}
            if expected <= got:
                break
            await asyncio.sleep(0.3)
        server.stop()

        received = receiver.at("/bot")
        assert expected <= {(r.number, r.type) for r in received}
        for request in received:
            Webhook(secret).verify(request.body, request.headers)
        for number in numbers:
            first_seen = [r.type for r in received if r.number == number]
            assert first_seen.index("ticket.received") < first_seen.index("ticket.routed")
        async with committed.state.sessionmaker() as session:
            stored = set(
                await session.scalars(
                    select(WebhookDelivery.message_id).where(col(WebhookDelivery.subscription_id) == hook_id)
                )
            )
        assert len(stored) == APPEALS * 2
        assert stored == {r.headers["webhook-id"] for r in received}
    finally:
        server.stop()
        if receiver is not None:
            receiver.stop()
        if hook_id is not None:
            async with committed.state.sessionmaker() as session:
                await session.execute(
                    delete(WebhookSubscription).where(col(WebhookSubscription.id) == hook_id)
                )
                await session.commit()
