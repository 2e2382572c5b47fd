"""The application: create_app() wires settings, database, reference data, routers and workers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import workers
from app.db import create_engine, create_sessionmaker, session_scope
from app.errors import install_error_handlers
from app.models import Role
from app.routers import (
    callbacks,
    cti,
    health,
    keys,
    metrics,
    open311,
    privacy,
    reference,
    reports,
    sla,
    tickets,
    webhooks,
)
from app.services.auth import PrincipalCache, ensure_key
from app.services.reference import ReferenceData
from app.services.sla_calendar import config_from
from app.settings import Settings, get_settings


async def startup(app: FastAPI) -> None:
    """Open the database, load reference data, ensure the bootstrap admin key."""
    settings: Settings = app.state.settings
    app.state.engine = create_engine(settings)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    async with session_scope(app.state.sessionmaker) as session:
        if settings.bootstrap_admin_key:
            await ensure_key(
                session, secret=settings.bootstrap_admin_key, name="bootstrap admin", role=Role.admin
            )
        await app.state.reference.load(session)


async def shutdown(app: FastAPI) -> None:
    await app.state.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await startup(app)
        ctx = workers.WorkerContext(settings, app.state.sessionmaker, app.state.reference)
        tasks = workers.start(ctx, shared=settings.run_workers)
        try:
            yield
        finally:
            await workers.stop(tasks)
            await shutdown(app)

    app = FastAPI(
        title="hotline",
        version="0.1.0",
        summary="Ticketing API for a city hotline: receive, route, assign, resolve, confirm.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.principals = PrincipalCache(settings.key_cache_seconds)
    app.state.reference = ReferenceData(sla_config=config_from(settings))
    install_error_handlers(app)
    for module in (health, keys, tickets, reference, sla, metrics, webhooks, callbacks, privacy, reports):
        app.include_router(module.router)
    app.include_router(cti.router)
    app.include_router(open311.router)
    open311.install_error_handlers(app)
    return app
