"""Housekeeping of stored data."""

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import IdempotencyRecord, utcnow


async def purge_idempotency_keys(session: AsyncSession, older_than_hours: int) -> int:
    """Forget stored Idempotency-Key responses past their time to live."""
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    result = await session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
