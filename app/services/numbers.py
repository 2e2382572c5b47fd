"""Ticket numbers a citizen can say on the phone: the year and a sequence, e.g. ``26-00042``."""

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Counter, utcnow

SEQUENCE = "ticket_number_seq"
_NEXTVAL = text(f"SELECT nextval('{SEQUENCE}')")


async def next_ticket_number(session: AsyncSession) -> str:
    if session.get_bind().dialect.name == "postgresql":
        # A sequence takes no row lock, so concurrent filings never wait on each other.
        value = (await session.execute(_NEXTVAL)).scalar_one()
    else:
        value = (
            await session.execute(
                update(Counter)
                .where(col(Counter.name) == "ticket")
                .values(value=col(Counter.value) + 1)
                .returning(col(Counter.value))
            )
        ).scalar_one()
    return f"{utcnow():%y}-{value:05d}"
