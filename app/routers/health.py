"""Liveness and readiness for orchestrators and load balancers."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and the reference data is loaded."""
    try:
        async with request.app.state.sessionmaker() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure here means "not ready", and says why
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
    if not request.app.state.reference.loaded:
        return JSONResponse({"status": "unavailable", "reference": "not loaded"}, status_code=503)
    return JSONResponse({"status": "ok"})
