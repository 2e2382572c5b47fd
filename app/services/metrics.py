"""Prometheus metrics: counters of committed changes, stage timings, and gauges read from the database.

Counters and histograms are fed by ``observe()``, which ``lifecycle.record()`` calls for every event:
it only queues the increments in ``session.info``; an ``after_commit`` listener applies them, so a
rolled-back change never counts. Gauges (backlog, overdue) are computed from the database when
scraped, so every process and replica reports the same truth. In multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``) the counters of all worker processes are summed at scrape time.

Labels are bounded: provider codes, top-level category codes, channels, states, stages. Never a
ticket number, phone or street.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col, select

from app.models import OPEN_STATUSES, CloseReason, Status, Ticket, utcnow
from app.services.deadlines import WORK_STATUSES
from app.services.reference import ReferenceData

REGISTRY = CollectorRegistry(auto_describe=True)
PENDING = "metrics_pending"
NONE = "none"

#: Seconds: a minute to a month, the range of the stages of an appeal.
STAGE_BUCKETS = (
    60,
    300,
    900,
    1800,
    3600,
    7200,
    14400,
    28800,
    86400,
    172800,
    259200,
    604800,
    1296000,
    2592000,
)

APPEALS = Counter(
    "hotline_appeals_received",
    "Appeals registered, by channel and category group.",
    ["channel", "category_group"],
    registry=REGISTRY,
)
TRANSITIONS = Counter(
    "hotline_transitions",
    "Ticket state changes.",
    ["from_status", "to_status"],
    registry=REGISTRY,
)
SLA_WARNINGS = Counter(
    "hotline_sla_warnings",
    "Clocks past their warning share, by stage and provider.",
    ["stage", "provider"],
    registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "hotline_sla_breaches",
    "Clocks run out, by stage and provider.",
    ["stage", "provider"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "hotline_escalations",
    "Breaches escalated to the supervisors, by stage and provider.",
    ["stage", "provider"],
    registry=REGISTRY,
)
REOPENS = Counter(
    "hotline_reopens",
    "Tickets sent back to work (rejected by the citizen or reopened), by provider.",
    ["provider"],
    registry=REGISTRY,
)
CONFIRMATIONS = Counter(
    "hotline_confirmations",
    "The citizen's answer to a resolution: confirmed, rejected, or no_response.",
    ["outcome", "provider"],
    registry=REGISTRY,
)


def _stage_histogram(name: str, what: str) -> Histogram:
    return Histogram(name, what, ["provider", "category_group"], buckets=STAGE_BUCKETS, registry=REGISTRY)


TIME_TO_ROUTE = _stage_histogram("hotline_time_to_route_seconds", "Registration to hand-over to a provider.")
TIME_TO_ACKNOWLEDGE = _stage_histogram(
    "hotline_time_to_acknowledge_seconds", "Hand-over to the provider's acceptance."
)
TIME_TO_RESOLVE = _stage_histogram("hotline_time_to_resolve_seconds", "Registration to resolution.")
TIME_TO_CONFIRM = _stage_histogram(
    "hotline_time_to_confirm_seconds", "Resolution to the citizen's confirmation."
)

Apply = Callable[[], None]


def observe(
    session: AsyncSession,
    ref: ReferenceData,
    ticket: Ticket,
    kind: str,
    data: dict[str, Any],
    before: Status | None,
    after: Status | None,
) -> None:
    """Queue the metrics of an event (its type, payload and move); they are applied when (and only if)
    the transaction commits."""
    provider = _provider(ref, ticket.provider_id)
    group = _group(ref, ticket.category_id)
    queued: list[Apply] = session.info.setdefault(PENDING, [])

    def inc(counter: Counter, *labels: str) -> None:
        queued.append(counter.labels(*labels).inc)

    def timed(histogram: Histogram, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None:
            seconds = max((end - start).total_seconds(), 0.0)
            child = histogram.labels(provider, group)
            queued.append(lambda: child.observe(seconds))

    if before is not None and after is not None and before != after:
        inc(TRANSITIONS, before.value, after.value)
    if kind == "received":
        inc(APPEALS, ticket.channel.value, group)
    elif kind == "routed":
        timed(TIME_TO_ROUTE, ticket.created_at, ticket.routed_at)
    elif kind == "accepted":
        timed(TIME_TO_ACKNOWLEDGE, ticket.routed_at, ticket.accepted_at)
    elif kind == "resolved":
        timed(TIME_TO_RESOLVE, ticket.created_at, ticket.resolved_at)
    elif kind == "confirmed":
        timed(TIME_TO_CONFIRM, ticket.resolved_at, ticket.confirmed_at)
        inc(CONFIRMATIONS, "confirmed", provider)
    elif kind in ("rejected", "reopened"):
        if kind == "rejected":
            inc(CONFIRMATIONS, "rejected", provider)
        inc(REOPENS, provider)
    elif kind == "closed" and ticket.close_reason is CloseReason.no_response:
        inc(CONFIRMATIONS, "no_response", provider)
    elif kind in ("sla_warning", "sla_breached", "escalated"):
        counter = {"sla_warning": SLA_WARNINGS, "sla_breached": SLA_BREACHES, "escalated": ESCALATIONS}[kind]
        inc(counter, str(data.get("stage", NONE)), provider)


def _provider(ref: ReferenceData, provider_id: int | None) -> str:
    provider = ref.providers.get(provider_id) if provider_id is not None else None
    return provider.code if provider is not None else NONE


def _group(ref: ReferenceData, category_id: int) -> str:
    return ref.top_category(category_id).code if category_id in ref.categories else NONE


@event.listens_for(Session, "after_commit")
def _apply_committed(session: Session) -> None:
    for apply in session.info.pop(PENDING, ()):
        apply()


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous: SessionTransaction) -> None:
    # Only the outermost rollback drops the queue; a savepoint's rollback leaves its parent's queue.
    if previous.parent is None:
        session.info.pop(PENDING, None)


# --- gauges from the database, at scrape time --------------------------------------------------------


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


async def database_gauges(session: AsyncSession, ref: ReferenceData) -> list[Metric]:
    """Open backlog by provider and status, and overdue tickets by provider, status and clock."""
    now = utcnow()
    backlog = GaugeMetricFamily(
        "hotline_open_tickets", "Open tickets by provider and status.", labels=["provider", "status"]
    )
    counts = await session.execute(
        select(col(Ticket.status), col(Ticket.provider_id), func.count())
        .where(col(Ticket.status).in_(OPEN_STATUSES))
        .group_by(col(Ticket.status), col(Ticket.provider_id))
    )
    for status, provider_id, n in counts.all():
        backlog.add_metric([_provider(ref, provider_id), Status(status).value], n)

    overdue = GaugeMetricFamily(
        "hotline_overdue_tickets",
        "Open tickets past a running deadline, by provider, status and clock.",
        labels=["provider", "status", "clock"],
    )
    clocks = (
        ("acknowledge", Ticket.ack_due_at, (Status.routed,)),
        ("resolve", Ticket.resolve_due_at, WORK_STATUSES),
        ("statutory", Ticket.statutory_due_at, tuple(OPEN_STATUSES)),
    )
    for clock, due, statuses in clocks:
        rows = await session.execute(
            select(col(Ticket.status), col(Ticket.provider_id), func.count())
            .where(col(Ticket.status).in_(statuses), col(due).is_not(None), col(due) < now)
            .group_by(col(Ticket.status), col(Ticket.provider_id))
        )
        for status, provider_id, n in rows.all():
            overdue.add_metric([_provider(ref, provider_id), Status(status).value, clock], n)
    return [backlog, overdue]


def exposition(gauges: list[Metric], multiproc_dir: str = "") -> bytes:
    """The text Prometheus scrapes: this process's (or all worker processes') counters, and the gauges."""
    if multiproc_dir:
        counters = CollectorRegistry()
        MultiProcessCollector(counters, path=multiproc_dir)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    snapshot = CollectorRegistry(auto_describe=False)
    snapshot.register(_Snapshot(gauges))
    return generate_latest(counters) + generate_latest(snapshot)
