"""The bootstrap admin key when several replicas start at once with the same secret."""

import asyncio
import time
import uuid

import pytest
from sqlalchemy import delete, func, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from app.db import create_sessionmaker, is_sqlite
from app.models import ApiKey, Role
from app.services.auth import digest, ensure_key
from app.settings import Settings

WAITING_INSERT = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO api_keys%'"
)


async def test_ensure_key_losing_insert_race_returns_winners_key(
    engine: AsyncEngine, settings: Settings
) -> None:
    """Two start-ups both find no key and both insert: the second waits on the unique index, then,
    once the first commits, must take the first one's row instead of failing start-up."""
    if is_sqlite(settings.database_url):
        pytest.skip("SQLite has one writer: start-ups cannot both insert (no replicas on one SQLite file)")
    secret = f"race-{uuid.uuid4().hex}"
    factory = create_sessionmaker(engine)
    try:
        async with factory() as first, factory() as second, factory() as observer:
            won = await ensure_key(first, secret=secret, name="bootstrap admin", role=Role.admin)
            racing = asyncio.create_task(
                ensure_key(second, secret=secret, name="bootstrap admin", role=Role.admin)
            )
            deadline = time.monotonic() + 10
            while not racing.done() and not await observer.scalar(WAITING_INSERT):
                await observer.rollback()  # pg_stat_activity is a per-transaction snapshot
                assert time.monotonic() < deadline, "the second insert never waited on the first"
                await asyncio.sleep(0.05)
            await first.commit()
            lost = await asyncio.wait_for(racing, timeout=10)
            await second.commit()
        assert lost.id == won.id
        async with factory() as session:
            rows = await session.scalar(
                select(func.count()).select_from(ApiKey).where(col(ApiKey.key_hash) == digest(secret))
            )
        assert rows == 1
    finally:
        async with factory() as session:
            await session.execute(delete(ApiKey).where(col(ApiKey.key_hash) == digest(secret)))
            await session.commit()
