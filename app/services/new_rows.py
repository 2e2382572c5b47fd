"""A new ticket's rows written with a few Core INSERTs instead of the ORM unit of work.

Filing a ticket adds eight rows: the ticket, maybe a citizen, a handoff, two SLA clocks, two events
and their outbox messages. Through the ORM that is seven objects wired by relationships and sorted
by the unit of work at flush, which cost almost half of a filing's CPU (docs/benchmarks.md).

Here ``lifecycle.record()``, ``hand_to()`` and the SLA clock starts, given a ``NewRows``, append
plain dicts instead of ORM objects, and ``write()`` inserts them in foreign-key order: ticket,
handoffs, clocks, events (``RETURNING id``), outbox. The ticket (and a new citizen) stay ORM
objects: they are inserted from their attributes and then attached to the session as if the ORM
had flushed them, so the caller renders them and may go on changing them (the optimistic lock's
``version`` is 1, as after an ORM insert). Everything runs in the caller's transaction.
"""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import SQLModel

from app.models import Handoff, OutboxMessage, SlaClock, TicketEvent

Row = dict[str, Any]


def _table(model: type[SQLModel]) -> sa.Table:
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return table


_HANDOFFS = sa.insert(_table(Handoff))
_CLOCKS = sa.insert(_table(SlaClock))
_EVENTS = sa.insert(_table(TicketEvent)).returning(_table(TicketEvent).c.id, sort_by_parameter_order=True)
_OUTBOX = sa.insert(_table(OutboxMessage))
_INSERT_RETURNING_ID: dict[type[SQLModel], tuple[sa.Insert, tuple[str, ...]]] = {}


@dataclass
class NewRows:
    """The rows of a ticket being filed, not yet written; each dict lacks its ``ticket_id``."""

    handoffs: list[Row] = field(default_factory=list)
    clocks: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    #: Each message with the index of its event in ``events`` (its ``event_id`` once written).
    outbox: list[tuple[int, Row]] = field(default_factory=list)

    def add_event(self, values: Row) -> int:
        self.events.append(values)
        return len(self.events) - 1


def _insert_returning_id(model: type[SQLModel]) -> tuple[sa.Insert, tuple[str, ...]]:
    found = _INSERT_RETURNING_ID.get(model)
    if found is None:
        table = _table(model)
        keys = tuple(c.key for c in table.columns if not c.primary_key)
        found = (sa.insert(table).returning(table.c.id), keys)
        _INSERT_RETURNING_ID[model] = found
    return found


async def insert_persistent(session: AsyncSession, obj: SQLModel) -> None:
    """INSERT a new object's columns and attach it to the session as persistent, with its id.

    Every column must be set on the object (a table model's constructor sets them all, defaults
    included), so the attached object has nothing left to load.
    """
    statement, keys = _insert_returning_id(type(obj))
    state = obj.__dict__
    connection = await session.connection()
    new_id = (await connection.execute(statement, {key: state[key] for key in keys})).scalar_one()
    obj.id = new_id
    make_transient_to_detached(obj)
    session.add(obj)


async def write(session: AsyncSession, ticket_id: int, rows: NewRows) -> None:
    """Insert the collected rows of the ticket, already inserted with ``ticket_id``."""
    # Core statements on the session's connection: the ORM has nothing to add to them.
    connection = await session.connection()
    if rows.handoffs:
        await connection.execute(
            _HANDOFFS, _one_or_many([{**row, "ticket_id": ticket_id} for row in rows.handoffs])
        )
    if rows.clocks:
        await connection.execute(
            _CLOCKS, _one_or_many([{**row, "ticket_id": ticket_id} for row in rows.clocks])
        )
    if not rows.events:
        return
    result = await connection.execute(_EVENTS, [{**row, "ticket_id": ticket_id} for row in rows.events])
    event_ids = result.scalars().all()
    if rows.outbox:
        await connection.execute(
            _OUTBOX,
            [{**row, "ticket_id": ticket_id, "event_id": event_ids[index]} for index, row in rows.outbox],
        )


def _one_or_many(params: list[Row]) -> Row | list[Row]:
    # One row goes as a plain execute; a list would take the driver's executemany path.
    return params[0] if len(params) == 1 else params
