"""Test fixtures: every test runs on SQLite and on PostgreSQL.

Each backend gets a database of its own, built by the Alembic migrations and loaded with the Sumy
seeds once per run. Each test runs inside a transaction that is rolled back afterwards (the app's
commits become SAVEPOINT releases), so tests are isolated and fast. Tests that need real commits
from several connections (races, workers) use ``committed``, which cleans up after itself.
"""

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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
from sqlmodel import SQLModel

from app.db import create_engine, session_scope
from app.main import create_app
from app.models import Role
from app.seed import load as load_seeds
from app.services.auth import create_key, ensure_key
from app.services.reference import ReferenceData
from app.settings import Settings
from tests.receiver import Receiver

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
        # Every table that points at a ticket, dependents first, so later features clean up too.
        for table in reversed(SQLModel.metadata.sorted_tables):
            if "ticket_id" in table.c and table.name != "tickets":
                await session.execute(table.delete().where(table.c.ticket_id > first))
        await session.execute(text("DELETE FROM tickets WHERE id > :first"), {"first": first})
        await session.commit()
    await engine.dispose()


class Actors:
    """Keys for each role, plus helpers to file a ticket and drive it to a state through the API."""

    def __init__(self, client: httpx.AsyncClient, keys: dict[str, dict[str, str]]) -> None:
        self.client = client
        self.keys = keys

    def __getitem__(self, role: str) -> dict[str, str]:
        return self.keys[role]

    async def file(self, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/tickets", json=water_ticket(**overrides), headers=self["operator"]
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def act(
        self, number: str, action: str, who: str | dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = self[who] if isinstance(who, str) else who
        return await self.client.post(f"/api/v1/tickets/{number}/{action}", json=body or {}, headers=headers)

    async def ticket_in(self, state: str) -> dict[str, Any]:
        """A fresh water-leak ticket driven through the API to ``state``; returns the creation body."""
        created = await self.file()
        number, citizen = created["number"], {"X-Citizen-Token": created["citizen_token"]}
        steps: dict[str, list[tuple[str, str | dict[str, str], dict[str, Any]]]] = {
            "routed": [],
            "received": [("decline", "provider", {"reason": "Не наша мережа"})],
            "assigned": [("accept", "provider", {})],
            "in_progress": [("accept", "provider", {}), ("start", "provider", {})],
            "resolved": [("accept", "provider", {}), ("resolve", "provider", RESOLUTION)],
            "confirmed": [
                ("accept", "provider", {}),
                ("resolve", "provider", RESOLUTION),
                ("confirm", citizen, {}),
            ],
            "closed": [
                ("accept", "provider", {}),
                ("resolve", "provider", RESOLUTION),
                ("close", "operator", {"reason": "no_response"}),
            ],
        }
        for action, who, body in steps[state]:
            response = await self.act(number, action, who, body)
            assert response.status_code == 200, response.text
        return created


RESOLUTION = {"resolution": "Замінено ділянку труби, тиск відновлено", "work_order": "WO-2026-0042"}


@pytest.fixture
async def actors(client: httpx.AsyncClient, make_key: KeyMaker, admin: dict[str, str]) -> Actors:
    keys = {
        "admin": admin,
        "operator": await make_key("operator"),
        "supervisor": await make_key("supervisor"),
        "provider": await make_key("provider", "miskvodokanal"),
        "other_provider": await make_key("provider", "misksvitlo"),
        "integrator": await make_key("integrator"),
        "reader": await make_key("reader"),
        "pbx": await make_key("pbx"),
    }
    return Actors(client, keys)


# --- webhooks (issue 4) -----------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP receiver on 127.0.0.1, stopped after the test."""
    started = Receiver().start()
    yield started
    started.stop()


Pump = Callable[[], Awaitable[None]]


@pytest.fixture
def pump(app: FastAPI, settings: Settings) -> Pump:
    """Run the outbox dispatcher and the webhook sender until nothing more is due (retries at once)."""
    from app.workers.webhooks import dispatch_all, send_due

    fast = settings.model_copy(update={"webhook_retry_schedule": "0s,0s", "webhook_timeout_seconds": 5.0})

    async def run() -> None:
        for _ in range(20):
            await dispatch_all(app.state.sessionmaker, app.state.reference, fast)
            if await send_due(app.state.sessionmaker, fast) == 0:
                return

    return run
