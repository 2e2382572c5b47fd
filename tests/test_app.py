"""Start-up, health, and the seed loader."""

from pathlib import Path

import httpx
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from app.main import create_app, shutdown, startup
from app.models import Category, RoutingRule, Street, Territory
from app.seed import load
from app.settings import Settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds" / "sumy"


async def test_startup_ensures_bootstrap_admin_key(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"bootstrap_admin_key": "boot-secret-for-test"}))
    await startup(app)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hotline.test") as client:
            keys = await client.get(
                "/api/v1/api-keys", headers={"Authorization": "Bearer boot-secret-for-test"}
            )
            assert keys.status_code == 200
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await shutdown(app)


async def test_seed_load_twice_changes_nothing(session: AsyncSession) -> None:
    async def counts() -> list[int]:
        return [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Territory, Street, Category, RoutingRule)
        ]

    before = await counts()
    await load(session, SEEDS)
    assert await counts() == before


async def test_unknown_path_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_openapi_lists_action_endpoints(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for action in ("route", "accept", "decline", "start", "resolve", "confirm", "reject", "reopen", "close"):
        assert f"/api/v1/tickets/{{number}}/{action}" in paths
