"""Helpers for the SLA tests: let time pass for a ticket, read metric samples."""

from datetime import timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col, select

from app.models import Handoff, SlaClock, Ticket


async def age(factory: async_sessionmaker[AsyncSession], number: str, by: timedelta) -> None:
    """Move every stored timestamp of the ticket ``by`` into the past, as if that much time had passed."""
    async with factory() as session:
        ticket = (await session.scalars(select(Ticket).where(col(Ticket.number) == number))).one()
        for name in (
            "created_at",
            "routed_at",
            "accepted_at",
            "resolved_at",
            "ack_due_at",
            "resolve_due_at",
            "statutory_due_at",
        ):
            value = getattr(ticket, name)
            if value is not None:
                setattr(ticket, name, value - by)
        clocks = (await session.scalars(select(SlaClock).where(col(SlaClock.ticket_id) == ticket.id))).all()
        for clock in clocks:
            clock.started_at -= by
            clock.warn_at -= by
            clock.due_at -= by
        handoffs = (await session.scalars(select(Handoff).where(col(Handoff.ticket_id) == ticket.id))).all()
        for handoff in handoffs:
            handoff.routed_at -= by
            if handoff.ack_due_at is not None:
                handoff.ack_due_at -= by
        await session.commit()


async def sample(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of one sample on /metrics (0 when absent), read with prometheus-client's parser."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    total = 0.0
    for family in text_string_to_metric_families(response.text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
