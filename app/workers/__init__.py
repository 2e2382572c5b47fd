"""Periodic jobs: in the API process by default, or on their own with ``python -m app.workers``.

Each job is a coroutine taking a ``WorkerContext``; it opens its own unit of work, so a failure in
one run is logged and the next run starts clean. Jobs that must run once across replicas claim rows
with ``FOR UPDATE SKIP LOCKED``.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import session_scope
from app.models import utcnow
from app.services.maintenance import purge_idempotency_keys
from app.services.reference import ReferenceData
from app.services.watcher import close_silent, watch_clocks
from app.settings import Settings
from app.workers.webhooks import dispatch_all, send_due

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    reference: ReferenceData


JobFn = Callable[[WorkerContext], Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    interval: Callable[[Settings], float]
    run: JobFn
    #: Runs in every process that serves requests, whatever ``run_workers`` says (process-local state).
    per_process: bool = False


async def refresh_reference(ctx: WorkerContext) -> None:
    async with session_scope(ctx.sessionmaker) as session:
        await ctx.reference.load(session)


async def purge_keys(ctx: WorkerContext) -> None:
    async with session_scope(ctx.sessionmaker) as session:
        await purge_idempotency_keys(session, ctx.settings.idempotency_ttl_hours)


async def dispatch_outbox(ctx: WorkerContext) -> None:
    await dispatch_all(ctx.sessionmaker, ctx.reference, ctx.settings)


async def send_webhooks(ctx: WorkerContext) -> None:
    await send_due(ctx.sessionmaker, ctx.settings)


async def watch_sla(ctx: WorkerContext) -> None:
    """Warn, breach and escalate clocks, then close silent resolved tickets; batch by batch."""
    batch = 200
    while True:
        async with session_scope(ctx.sessionmaker) as session:
            found = await watch_clocks(session, ctx.reference, utcnow(), limit=batch)
        if found.busy < batch:
            break
    silent_for = timedelta(days=ctx.settings.auto_close_silent_days)
    while True:
        async with session_scope(ctx.sessionmaker) as session:
            closed = await close_silent(session, ctx.reference, utcnow(), silent_for, limit=batch)
        if closed.busy < batch:
            break


def jobs() -> list[Job]:
    """Every periodic job; later modules add theirs here."""
    return [
        Job("reference-refresh", lambda s: s.reference_refresh_seconds, refresh_reference, per_process=True),
        Job("idempotency-purge", lambda s: 3600.0, purge_keys),
        Job("outbox-dispatch", lambda s: s.webhook_poll_seconds, dispatch_outbox),
        Job("webhook-send", lambda s: s.webhook_poll_seconds, send_webhooks),
        Job("sla-watch", lambda s: s.watch_interval, watch_sla),
    ]


async def _loop(job: Job, ctx: WorkerContext) -> None:
    interval = max(job.interval(ctx.settings), 0.05)
    while True:
        try:
            await job.run(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker job %s failed; retrying in %.1fs", job.name, interval)
        await asyncio.sleep(interval)


def start(ctx: WorkerContext, *, shared: bool = True) -> list["asyncio.Task[None]"]:
    """Start the jobs: the per-process ones always, the shared ones (claiming work) when ``shared``."""
    chosen = [job for job in jobs() if shared or job.per_process]
    return [asyncio.create_task(_loop(job, ctx), name=f"hotline:{job.name}") for job in chosen]


async def stop(tasks: list["asyncio.Task[None]"]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
