"""``/metrics`` for Prometheus: counters of this process (or of all its workers) and database gauges."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.routers.deps import RefDep, SettingsDep
from app.services.metrics import database_gauges, exposition

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, ref: RefDep, settings: SettingsDep) -> Response:
    async with request.app.state.sessionmaker() as session:
        gauges = await database_gauges(session, ref)
        await session.rollback()
    return Response(exposition(gauges, settings.prometheus_multiproc_dir), media_type=CONTENT_TYPE_LATEST)
