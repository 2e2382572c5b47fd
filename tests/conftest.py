"""Test fixtures: every test runs on SQLite and on PostgreSQL.

Each backend gets a database of its own, built by the Alembic migrations and loaded with the Sumy
seeds once per run. Each test runs inside a transaction that is rolled back afterwards (the app's
commits become SAVEPOINT releases), so tests are isolated and fast. Tests that need real commits
from several connections (races, workers) use ``committed``, which cleans up after itself.
"""

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine, session_scope
from app.main import create_app
from app.models import Role
from app.seed import load as load_seeds
from app.services.auth import create_key, ensure_key
from app.services.reference import ReferenceData
from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [
    b.strip() for b in os.environ.get("HOTLINE_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()
]
ADMIN_SECRET = "test-admin-secret"

KeyMaker = Callable[..., Awaitable[dict[str, str]]]


def migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "heads")


async def _create_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated, seeded database for the whole run, per backend."""
    backend = request.param
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'hotline.db'}"
    else:
        name = f"hotline_test_{uuid.uuid4().hex[:10]}"
        await _create_pg_database(name)
        url = str(
            make_url(PG_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(False)
        )
    import asyncio

    await asyncio.to_thread(migrate, url)
    engine = create_engine(Settings(database_url=url))
    from app.db import create_sessionmaker

    async with session_scope(create_sessionmaker(engine)) as session:
        await load_seeds(session, ROOT / "seeds" / "sumy")
    await engine.dispose()
    yield url
    if backend != "sqlite":
        await _drop_pg_database(make_url(url).database or "")


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, run_workers=False, bootstrap_admin_key=ADMIN_SECRET)


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection in an outer transaction that is rolled back after the test."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        yield conn
        if outer.is_active:
            await outer.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection, expire_on_commit=False, autoflush=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
async def reference(session: AsyncSession) -> ReferenceData:
    ref = ReferenceData()
    await ref.load(session)
    return ref


async def _wire(app: FastAPI, factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    app.state.sessionmaker = factory
    async with factory() as session:
        await ensure_key(
            session, secret=settings.bootstrap_admin_key, name="bootstrap admin", role=Role.admin
        )
        await app.state.reference.load(session)
        await session.commit()


@pytest.fixture
async def app(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> FastAPI:
    """The application on the test's rolled-back connection (its workers not started)."""
    application = create_app(settings)
    await _wire(application, sessionmaker, settings)
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
        yield client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_SECRET}"}


@pytest.fixture
def make_key(app: FastAPI) -> KeyMaker:
    """Issue a key of a role through the service; returns the request headers that use it."""

    async def make(role: str, provider_code: str | None = None, name: str | None = None) -> dict[str, str]:
        async with app.state.sessionmaker() as session:
            _, secret = await create_key(
                session,
                app.state.reference,
                name=name or f"{role} {provider_code or ''}".strip(),
                role=Role(role),
                provider_code=provider_code,
            )
            await session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


def water_ticket(**overrides: Any) -> dict[str, Any]:
    """A water leak on a Sumy street: routed to Міськводоканал by the seed rules."""
    body: dict[str, Any] = {
        "channel": "phone",
        "category_code": "water-leak",
        "description": "Тече вода з-під асфальту біля під'їзду",
        "citizen": {"name": "Олена Коваль", "phone": "+380671234567"},
        "address": {"settlement": "Суми", "street": "вул. Харківська", "house": "12"},
    }
    body.update(overrides)
    return body


@pytest.fixture
async def committed(settings: Settings) -> AsyncIterator[FastAPI]:
    """The application on the real engine: commits are real. Tickets it files are deleted afterwards."""
    application = create_app(settings)
    engine = create_engine(settings)
    from app.db import create_sessionmaker

    factory = create_sessionmaker(engine)
    await _wire(application, factory, settings)
    async with factory() as session:
        first = (await session.execute(text("SELECT coalesce(max(id), 0) FROM tickets"))).scalar_one()
    yield application
    async with factory() as session:
        for table in ("outbox", "ticket_events", "handoffs", "callback_tasks", "sla_clocks"):
            await session.execute(text(f"DELETE FROM {table} WHERE ticket_id > :first"), {"first": first})
        await session.execute(text("DELETE FROM tickets WHERE id > :first"), {"first": first})
        await session.commit()
    await engine.dispose()
