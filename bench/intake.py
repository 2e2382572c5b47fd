"""Intake benchmark: filing tickets through the API against the same SQL through raw asyncpg.

``python -m bench.intake [--requests 2000] [--concurrency 32] [--seconds 300]`` (or ``make bench``):

1. creates a throw-away PostgreSQL database, migrates it (``alembic upgrade heads``) and seeds it
   (``python -m app.seed``);
2. serves the app with uvicorn in a subprocess (one worker, periodic jobs off) on a free loopback
   port, makes an operator key through the bootstrap admin key, and files ``--requests`` tickets
   with ``--concurrency`` concurrent httpx clients (after a warm-up), then as many GET /healthz (the
   HTTP floor: what uvicorn and FastAPI cost without the database);
3. then, back to back, files as many tickets through raw asyncpg: the statements the app issues for
   a filing (key look-up, citizen look-up, nextval, citizen insert when new, ticket insert, handoff
   insert, the two events, the two outbox messages) in one transaction per ticket, on a pool with as
   many connections as the app may open, at the same concurrency;
4. optionally the app alone on SQLite, for reference;
5. prints throughput, p50/p95/p99 latency, CPU seconds per ticket of each process and the ratio
   app / raw, checks that both paths wrote the same rows, and always stops the server and drops the
   database, also on error, Ctrl-C or when the ``--seconds`` cap is hit.

Numbers from a shared machine are noisy: compare the ratio and the CPU per ticket of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Seconds kept back from the cap for stopping the server and dropping the database.
TEARDOWN_RESERVE = 15.0

# The filing the benchmark repeats: a water leak on a known street, routed by the seed rules.
CATEGORY = "water-leak"
STREET = "вул. Харківська"
SETTLEMENT = "Суми"
PROVIDER = "miskvodokanal"
DESCRIPTION = "Тече вода з-під асфальту біля під'їзду"


class Deadline(Exception):
    """The --seconds cap left no time for this step."""


# ---------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Run:
    name: str
    done: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    #: CPU seconds spent during the measured part, per process ("app", "bench", "postgres").
    cpu: dict[str, float] = field(default_factory=dict)
    truncated: bool = False
    first_error: str = ""

    @property
    def throughput(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    def cpu_ms_per_ticket(self, process: str) -> float | None:
        if process not in self.cpu or not self.done:
            return None
        return self.cpu[process] / self.done * 1000


async def drive(
    call: Callable[[int], Awaitable[None]], start: int, count: int, concurrency: int, deadline: float
) -> Run:
    """Run ``call(i)`` for ``count`` indexes from ``start``, ``concurrency`` at a time, until the deadline."""
    run = Run(name="")
    next_index = start
    stop = start + count

    async def worker() -> None:
        nonlocal next_index
        while next_index < stop:
            if time.monotonic() >= deadline:
                run.truncated = True
                return
            i = next_index
            next_index += 1
            began = time.perf_counter()
            try:
                await call(i)
            except Exception as exc:  # counted and reported; one bad request must not stop the run
                run.errors += 1
                run.first_error = run.first_error or f"{type(exc).__name__}: {exc}"[:300]
                continue
            run.latencies.append(time.perf_counter() - began)
            run.done += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - began
    return run


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def backends_of(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``database`` (visible when the server is local)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if cmdline.startswith("postgres:") and f" {database} " in cmdline:
            found[int(entry.name)] = process_cpu(int(entry.name))
    return found


@contextlib.asynccontextmanager
async def cpu_meter(cpu: dict[str, float], database: str | None, app_pid: int | None) -> AsyncIterator[None]:
    """Record the CPU the bench process, the app process and the database's backends spend inside.

    Backends are sampled every quarter second, so that a connection closed during the run (an
    overflow connection of the app's pool) still counts; how many backends served is recorded too.
    """
    bench0 = time.process_time()
    app0 = process_cpu(app_pid) if app_pid else 0.0
    start = backends_of(database) if database else {}
    latest = dict(start)

    async def sample() -> None:
        while True:
            await asyncio.sleep(0.25)
            latest.update(backends_of(database or ""))

    sampler = asyncio.create_task(sample()) if database else None
    try:
        yield
    finally:
        if sampler is not None:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
    cpu["bench"] = time.process_time() - bench0  # the one entry that is a count, not seconds: "backends"
    if app_pid:
        cpu["app"] = process_cpu(app_pid) - app0
    if database:
        latest.update(backends_of(database))
        cpu["postgres"] = sum(seconds - start.get(pid, 0.0) for pid, seconds in latest.items())
        cpu["backends"] = len(latest)


# ---------------------------------------------------------------------------------------------
# The database and the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise Deadline("the --seconds cap was reached")
    return left


def prepare_database(url: str, deadline: float, log: Path) -> None:
    """Migrate and seed through the project's own commands, as an operator would."""
    env = {**os.environ, "HOTLINE_DATABASE_URL": url}
    with log.open("a") as out:
        for command in ([str(BIN / "alembic"), "upgrade", "heads"], [str(BIN / "python"), "-m", "app.seed"]):
            try:
                subprocess.run(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=True,
                    timeout=remaining(deadline),
                )
            except subprocess.TimeoutExpired as exc:
                raise Deadline(f"{command[-1]} did not finish within the --seconds cap") from exc


class Server:
    """``uvicorn app.main:create_app --factory`` in a subprocess of its own, on loopback."""

    def __init__(self, url: str, pool_size: int, log: Path, access_log: bool, factory: str) -> None:
        self.port = free_port()
        self.admin_secret = "bench-admin-" + secrets.token_urlsafe(16)
        self.base_url = f"http://{HOST}:{self.port}"
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_RUN_WORKERS": "false",
            "HOTLINE_BOOTSTRAP_ADMIN_KEY": self.admin_secret,
            "HOTLINE_DB_POOL_SIZE": str(pool_size),
            "HOTLINE_SQL_ECHO": "false",
        }
        command = [
            str(BIN / "uvicorn"),
            factory,
            "--factory",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--log-level",
            "warning",
        ]
        if not access_log:
            command.append("--no-access-log")
        self.log = log.open("a")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    async def ready(self, deadline: float) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"uvicorn exited with {self.process.returncode}; see {self.log.name}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        return
                remaining(deadline)
                await asyncio.sleep(0.2)

    async def operator_key(self) -> str:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            response = await client.post(
                "/api/v1/api-keys",
                json={"name": "bench operator", "role": "operator"},
                headers={"Authorization": f"Bearer {self.admin_secret}"},
            )
            response.raise_for_status()
            secret: str = response.json()["key"]
            return secret

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


class Profiler:
    """``py-spy record`` attached to the server during the measured run (collapsed stacks)."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self.process = subprocess.Popen(
            [
                shutil.which("py-spy", path=f"{BIN}:{os.environ.get('PATH', '')}") or "py-spy",
                "record",
                "--pid",
                str(pid),
                "--rate",
                "250",
                "--nonblocking",  # sample without pausing the server, so it runs at its own pace
                "--threads",
                "--format",
                "raw",
                "-o",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


# ---------------------------------------------------------------------------------------------
# Load: the app over HTTP


def filing(i: int, phones: int) -> dict[str, Any]:
    """The i-th filing: the same appeal, by one of ``phones`` citizens (so some are new, most known)."""
    person = i % phones
    return {
        "channel": "phone",
        "category_code": CATEGORY,
        "description": DESCRIPTION,
        "citizen": {"name": f"Громадянин {person}", "phone": f"+38067{person:07d}"},
        "address": {"settlement": SETTLEMENT, "street": STREET, "house": str(1 + i % 90)},
    }


async def app_load(
    server: Server, secret: str, args: argparse.Namespace, deadline: float, database: str | None
) -> tuple[Run, Run, int]:
    """Warm up, file ``--requests`` tickets over HTTP, then as many GET /healthz (the HTTP floor).

    Returns both runs and the index of the first measured filing.
    """
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    # Bodies are encoded up front so that the client spends its CPU on HTTP, not on JSON.
    total = args.warmup + args.requests
    bodies = [json.dumps(filing(i, args.phones)).encode() for i in range(total)]
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:

        async def post(i: int) -> None:
            response = await client.post("/api/v1/tickets", content=bodies[i], headers=headers)
            if response.status_code != 201:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")

        await drive(post, 0, args.warmup, args.concurrency, deadline - TEARDOWN_RESERVE)
        profiler = Profiler(server.pid, args.profile) if args.profile else None
        cpu: dict[str, float] = {}
        try:
            async with cpu_meter(cpu, database, server.pid):
                run = await drive(
                    post, args.warmup, args.requests, args.concurrency, deadline - TEARDOWN_RESERVE
                )
        finally:
            if profiler is not None:
                profiler.stop()
        # The HTTP floor: the same server answering its cheapest endpoint, no database.
        floor_cpu: dict[str, float] = {}

        async def ping(_: int) -> None:
            response = await client.get("/healthz")
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}")

        async with cpu_meter(floor_cpu, None, server.pid):
            floor = await drive(ping, 0, args.requests, args.concurrency, deadline - TEARDOWN_RESERVE)
    run.cpu = cpu
    floor.cpu = floor_cpu
    return run, floor, args.warmup


# ---------------------------------------------------------------------------------------------
# Load: the same SQL through raw asyncpg

SQL_KEY = "SELECT id, name, role, provider_id, revoked_at FROM api_keys WHERE key_hash = $1"
SQL_CITIZEN = (
    "SELECT id, name, email, preferred_channel FROM citizens"
    " WHERE phone = $1 AND erased_at IS NULL ORDER BY id LIMIT 1"
)
SQL_NEXTVAL = "SELECT nextval('ticket_number_seq')"
SQL_CITIZEN_INSERT = (
    "INSERT INTO citizens (name, phone, email, preferred_channel, created_at, erased_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
)
TICKET_COLUMNS = (
    "number, kind, channel, category_id, description, priority, status, address_text, settlement, street,"
    " house, apartment, territory_id, street_id, lat, lon, citizen_id, citizen_token_hash,"
    " created_by_key_id, call_id, provider_id, executor, created_at, updated_at, routed_at, accepted_at,"
    " started_at, resolved_at, confirmed_at, closed_at, ack_due_at, resolve_due_at, statutory_due_at,"
    " resolution, evidence_url, work_order, reopen_count, close_reason, rating, rating_comment, version"
)
SQL_TICKET_INSERT = (
    f"INSERT INTO tickets ({TICKET_COLUMNS}) VALUES ({', '.join(f'${n}' for n in range(1, 42))}) RETURNING id"
)
SQL_HANDOFF_INSERT = (
    "INSERT INTO handoffs (ticket_id, provider_id, routed_at, routed_by, ack_due_at, acknowledged_at,"
    " acknowledged_by, declined_at, declined_by, decline_reason, ended_at)"
    " VALUES ($1, $2, $3, $4, NULL, NULL, NULL, NULL, NULL, NULL, NULL) RETURNING id"
)
# Two rows per statement, as SQLAlchemy's insertmanyvalues sends them for the app.
SQL_EVENTS_INSERT = (
    "INSERT INTO ticket_events (ticket_id, type, from_status, to_status, actor_type, actor_id, actor_name,"
    " actor_role, at, payload) VALUES"
    " ($1, 'received', NULL, 'received', 'key', $2, $3, $4, $5, $6),"
    " ($1, 'routed', 'received', 'routed', 'key', $2, $3, $4, $7, $8) RETURNING id"
)
SQL_OUTBOX_INSERT = (
    "INSERT INTO outbox (event_id, ticket_id, type, payload, created_at, dispatched_at) VALUES"
    " ($1, $3, 'ticket.received', $4, $5, NULL), ($2, $3, 'ticket.routed', $6, $7, NULL) RETURNING id"
)


@dataclass(frozen=True)
class Reference:
    """What the app keeps in memory (reference data) and decides by its rules, read once."""

    category_id: int
    category_name: str
    priority: str
    territory_id: int
    territory: dict[str, str]
    street_id: int
    settlement_name: str
    provider_id: int
    provider: dict[str, str]
    key_hash: str


async def read_reference(conn: asyncpg.Connection, secret: str) -> Reference:
    category = await conn.fetchrow(
        "SELECT id, name, default_priority FROM categories WHERE code = $1", CATEGORY
    )
    street = await conn.fetchrow(
        "SELECT s.id, s.territory_id, t.code, t.name, t.kind, st.name AS settlement FROM streets s"
        " JOIN territories t ON t.id = s.territory_id JOIN territories st ON st.id = s.settlement_id"
        " WHERE s.name = $1 AND st.name = $2",
        STREET,
        SETTLEMENT,
    )
    provider = await conn.fetchrow("SELECT id, code, name FROM providers WHERE code = $1", PROVIDER)
    if category is None or street is None or provider is None:
        raise RuntimeError("the seed data lacks the benchmark's category, street or provider")
    return Reference(
        category_id=category["id"],
        category_name=category["name"],
        priority=category["default_priority"],
        territory_id=street["territory_id"],
        territory={"code": street["code"], "name": street["name"], "kind": street["kind"]},
        street_id=street["id"],
        settlement_name=street["settlement"],
        provider_id=provider["id"],
        provider={"code": provider["code"], "name": provider["name"]},
        key_hash=sha256(secret.encode()).hexdigest(),
    )


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def snapshot(
    ref: Reference, number: str, status: str, provider: bool, house: str, now: datetime, updated: datetime
) -> dict[str, Any]:
    """The ticket as the outbox message carries it (the app's ticket view, without the citizen)."""
    return {
        "number": number,
        "kind": "request",
        "channel": "phone",
        "status": status,
        "priority": ref.priority,
        "category": {"code": CATEGORY, "name": ref.category_name},
        "description": DESCRIPTION,
        "address": {
            "settlement": ref.settlement_name,
            "street": STREET,
            "house": house,
            "apartment": None,
            "text": None,
            "lat": None,
            "lon": None,
        },
        "territory": ref.territory,
        "provider": ref.provider if provider else None,
        "executor": None,
        "call_id": None,
        "created_at": iso(now),
        "updated_at": iso(updated),
        "routed_at": iso(now) if provider else None,
        **dict.fromkeys(("accepted_at", "started_at", "resolved_at", "confirmed_at", "closed_at")),
        "due": {"acknowledge": None, "resolve": None, "statutory": None},
        **dict.fromkeys(("resolution", "evidence_url", "work_order")),
        "reopen_count": 0,
        **dict.fromkeys(("close_reason", "rating", "rating_comment")),
        "allowed_actions": [],
    }


def message(
    event: str, at: datetime, actor: dict[str, str], src: str | None, dst: str, data: Any, ticket: Any
) -> str:
    return json.dumps(
        {
            "type": f"ticket.{event}",
            "at": at.isoformat(),
            "actor": actor,
            "from_status": src,
            "to_status": dst,
            "data": data,
            "ticket": ticket,
        }
    )


async def raw_file(pool: asyncpg.Pool, ref: Reference, i: int, phones: int) -> None:
    """One filing as hand-written SQL: what the app sends for the same request, in one transaction."""
    body = filing(i, phones)
    person = body["citizen"]
    house = body["address"]["house"]
    token = "ct_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        key = await conn.fetchrow(SQL_KEY, ref.key_hash)
        if key is None or key["revoked_at"] is not None:
            raise RuntimeError("the operator key is unknown")
        citizen = await conn.fetchrow(SQL_CITIZEN, person["phone"])
        number = f"{now:%y}-{await conn.fetchval(SQL_NEXTVAL):05d}"
        if citizen is None:
            citizen_id = await conn.fetchval(
                SQL_CITIZEN_INSERT, person["name"], person["phone"], None, None, now, None
            )
        else:
            citizen_id = citizen["id"]
        ticket_id = await conn.fetchval(
            SQL_TICKET_INSERT,
            number, "request", "phone", ref.category_id, DESCRIPTION, ref.priority, "routed", None,
            ref.settlement_name, STREET, house, None, ref.territory_id, ref.street_id, None, None,
            citizen_id, sha256(token.encode()).hexdigest(), key["id"], None, ref.provider_id, None,
            now, now, now, None, None, None, None, None, None, None, None, None, None, None, 0, None,
            None, None, 1,
        )  # fmt: skip
        await conn.fetchval(SQL_HANDOFF_INSERT, ticket_id, ref.provider_id, now, key["name"])
        received_at = datetime.now(UTC)
        routed_at = datetime.now(UTC)
        received = json.dumps({"channel": "phone"})
        routed = {"provider": PROVIDER, "by": "rules"}
        events = await conn.fetch(
            SQL_EVENTS_INSERT,
            ticket_id, key["id"], key["name"], key["role"], received_at, received, routed_at, json.dumps(routed),
        )  # fmt: skip
        actor = {"type": "key", "name": key["name"], "role": key["role"]}
        await conn.fetch(
            SQL_OUTBOX_INSERT,
            events[0]["id"],
            events[1]["id"],
            ticket_id,
            message(
                "received", received_at, actor, None, "received", {"channel": "phone"},
                snapshot(ref, number, "received", False, house, now, received_at),
            ),
            received_at,
            message(
                "routed", routed_at, actor, "received", "routed", routed,
                snapshot(ref, number, "routed", True, house, now, routed_at),
            ),
            routed_at,
        )  # fmt: skip


async def raw_load(
    dsn: str, secret: str, args: argparse.Namespace, deadline: float, database: str, start: int
) -> Run:
    size = args.pool_size  # the app has no overflow connections either
    async with asyncpg.create_pool(dsn, min_size=size, max_size=size) as pool:
        async with pool.acquire() as conn:
            ref = await read_reference(conn, secret)

        async def call(i: int) -> None:
            await raw_file(pool, ref, i, args.phones)

        await drive(call, start, args.warmup, args.concurrency, deadline - TEARDOWN_RESERVE)
        cpu: dict[str, float] = {}
        async with cpu_meter(cpu, database, None):
            run = await drive(
                call, start + args.warmup, args.requests, args.concurrency, deadline - TEARDOWN_RESERVE
            )
    run.cpu = cpu
    return run


# ---------------------------------------------------------------------------------------------
# Checking that both paths wrote the same thing

COMPARED = (
    "SELECT kind, channel, category_id, description, priority, status, settlement, street, territory_id,"
    " street_id, provider_id, created_by_key_id, reopen_count, version,"
    " (SELECT count(*) FROM handoffs h WHERE h.ticket_id = t.id) AS handoffs,"
    " (SELECT string_agg(type || ':' || coalesce(from_status, '-') || '>' || to_status || ':' || payload::text,"
    "  ',' ORDER BY id) FROM ticket_events e WHERE e.ticket_id = t.id) AS events,"
    " (SELECT string_agg(type || ':' || (SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(payload) k)"
    "  || ':' || (SELECT string_agg(k, ',' ORDER BY k) FROM json_object_keys(payload->'ticket') k),"
    "  ',' ORDER BY id) FROM outbox o WHERE o.ticket_id = t.id) AS outbox"
    " FROM tickets t WHERE t.id = $1"
)


async def same_rows(dsn: str, app_last: int) -> str:
    """Compare the last ticket the app filed with the last one raw asyncpg filed."""
    conn = await asyncpg.connect(dsn)
    try:
        raw_last = await conn.fetchval("SELECT max(id) FROM tickets")
        app_row = await conn.fetchrow(COMPARED, app_last)
        raw_row = await conn.fetchrow(COMPARED, raw_last)
    finally:
        await conn.close()
    if app_row is None or raw_row is None:
        return "could not compare (no tickets)"
    differ = [column for column, value in app_row.items() if raw_row[column] != value]
    return "same columns, events and outbox" if not differ else "DIFFER in " + ", ".join(differ)


# ---------------------------------------------------------------------------------------------
# Profile summary


BUCKETS = (
    ("uvicorn / h11 / httptools (HTTP)", ("uvicorn/", "h11/", "httptools/")),
    ("starlette + fastapi routing", ("starlette/", "fastapi/routing.py", "fastapi/applications.py")),
    ("fastapi dependency solving", ("fastapi/dependencies/",)),
    ("pydantic (validation + dump)", ("pydantic/", "pydantic_core/", "fastapi/_compat")),
    ("SQLAlchemy ORM (session, flush, unit of work)", ("sqlalchemy/orm/",)),
    (
        "SQLAlchemy Core (compile, execute, pool)",
        ("sqlalchemy/engine/", "sqlalchemy/sql/", "sqlalchemy/pool/"),
    ),
    ("SQLAlchemy asyncpg adapter + greenlet", ("sqlalchemy/dialects/postgresql/asyncpg.py", "greenlet")),
    ("asyncpg protocol", ("asyncpg/",)),
    ("json encoding", ("json/",)),
    ("sqlmodel", ("sqlmodel/",)),
    ("phonenumbers", ("phonenumbers/",)),
    ("app: file_ticket", ("file_ticket",)),
    ("app: lifecycle.record (outbox snapshot)", ("lifecycle.py",)),
    ("app: views (ticket_view)", ("services/views.py",)),
    ("app: auth (get_principal)", ("get_principal",)),
    ("app: commit", ("AsyncSession.commit",)),
    ("anyio thread hop (sync dependencies)", ("to_thread", "run_in_threadpool")),
    ("asyncio event loop (uvloop)", ("uvloop", "asyncio/")),
)


def summarise_profile(path: Path, top: int = 15) -> list[str]:
    """Inclusive share of samples per library, and the hottest leaf functions, from collapsed stacks."""
    if not path.exists():
        return [f"(no profile written to {path})"]
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = in_threads = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        thread, _, stack = stack.partition(";")
        if "MainThread" not in thread:
            # The pool that runs sync dependencies: its busy samples are counted, its waits are not.
            if "threading.py" not in stack.rsplit(";", 1)[-1]:
                in_threads += count
            continue
        total += count
        for name, markers in BUCKETS:
            if any(marker in stack for marker in markers):
                inclusive[name] += count
        leaves[stack.rsplit(";", 1)[-1]] += count
    if not total:
        return ["(empty profile)"]
    lines = [
        f"{total} samples of the event loop's thread while busy (+{in_threads} in worker threads);",
        "inclusive share of the event loop's samples (buckets overlap):",
    ]
    lines += [f"  {100 * inclusive[name] / total:5.1f}%  {name}" for name, _ in BUCKETS]
    lines.append("hottest leaf functions (self time):")
    lines += [f"  {100 * n / total:5.1f}%  {leaf}" for leaf, n in leaves.most_common(top)]
    return lines


# ---------------------------------------------------------------------------------------------
# Orchestration


@dataclass
class Report:
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def table(report: Report, args: argparse.Namespace) -> str:
    head = (
        "| run | tickets | errors | tickets/s | p50 ms | p95 ms | p99 ms |"
        " app CPU ms/ticket | bench CPU ms/ticket | postgres CPU ms/ticket | PG backends |"
    )
    rows = [head, "|" + "---|" * 11]
    for run in report.runs:
        cpu = [run.cpu_ms_per_ticket(p) for p in ("app", "bench", "postgres")]
        rows.append(
            f"| {run.name}{' (cut short)' if run.truncated else ''} | {run.done} | {run.errors} |"
            f" {run.throughput:.0f} | {run.percentile(50):.1f} | {run.percentile(95):.1f} |"
            f" {run.percentile(99):.1f} | "
            + " | ".join("–" if c is None else f"{c:.2f}" for c in cpu)
            + f" | {int(run.cpu['backends']) if 'backends' in run.cpu else '–'} |"
        )
    return "\n".join(rows)


async def bench_postgres(args: argparse.Namespace, deadline: float, report: Report, logdir: Path) -> None:
    admin = args.pg_url
    name = f"hotline_bench_{uuid.uuid4().hex[:10]}"
    base = admin.rsplit("/", 1)[0]
    dsn = f"{base}/{name}"
    app_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    conn = await asyncpg.connect(admin, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    server: Server | None = None
    try:
        await asyncio.to_thread(prepare_database, app_url, deadline, logdir / "prepare.log")
        server = Server(app_url, args.pool_size, logdir / "uvicorn-postgres.log", args.access_log, args.app)
        await server.ready(deadline)
        secret = await server.operator_key()
        app_run, floor, first = await app_load(server, secret, args, deadline, name)
        app_run.name = "app, PostgreSQL"
        floor.name = "app, GET /healthz (HTTP floor)"
        report.runs += [app_run, floor]
        server.stop()
        server = None
        conn = await asyncpg.connect(dsn)
        try:
            app_last = await conn.fetchval("SELECT max(id) FROM tickets")
        finally:
            await conn.close()
        raw_run = await raw_load(dsn, secret, args, deadline, name, first + args.requests)
        raw_run.name = "raw asyncpg, PostgreSQL"
        report.runs.append(raw_run)
        if raw_run.throughput:
            report.notes.append(
                f"ratio app / raw throughput: {app_run.throughput / raw_run.throughput:.2f}"
                + (f" (app {args.concurrency} clients over HTTP vs raw {args.concurrency} tasks)")
            )
        report.notes.append("row check: " + await same_rows(dsn, app_last))
        for run in (app_run, raw_run):
            if run.first_error:
                report.notes.append(f"first error in {run.name}: {run.first_error}")
    finally:
        if server is not None:
            server.stop()
        conn = await asyncpg.connect(admin, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def bench_sqlite(args: argparse.Namespace, deadline: float, report: Report, logdir: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="hotline_bench_") as folder:
        url = f"sqlite+aiosqlite:///{folder}/hotline.db"
        await asyncio.to_thread(prepare_database, url, deadline, logdir / "prepare.log")
        server = Server(url, args.pool_size, logdir / "uvicorn-sqlite.log", args.access_log, args.app)
        try:
            await server.ready(deadline)
            secret = await server.operator_key()
            profile, args.profile = args.profile, None  # the profile is of the PostgreSQL run
            try:
                run, _, _ = await app_load(server, secret, args, deadline, None)
            finally:
                args.profile = profile
            run.name = "app, SQLite (reference)"
            report.runs.append(run)
            if run.first_error:
                report.notes.append(f"first error in {run.name}: {run.first_error}")
        finally:
            server.stop()


async def main(args: argparse.Namespace) -> Report:
    deadline = time.monotonic() + args.seconds
    report = Report()
    logdir = Path(tempfile.mkdtemp(prefix="hotline_bench_logs_"))
    report.notes.append(f"server and migration logs: {logdir}")
    try:
        await bench_postgres(args, deadline, report, logdir)
        if args.sqlite:
            await bench_sqlite(args, deadline, report, logdir)
    except Deadline as exc:
        report.notes.append(f"stopped early: {exc}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="tickets filed per measured run")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=200, help="tickets filed before each measured run")
    parser.add_argument(
        "--pool-size", type=int, default=20, help="HOTLINE_DB_POOL_SIZE, and the raw pool's size"
    )
    parser.add_argument("--phones", type=int, default=500, help="distinct citizens among the filings")
    parser.add_argument("--seconds", type=float, default=300, help="hard cap on the whole run")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("HOTLINE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL allowed to create and drop databases",
    )
    parser.add_argument("--no-sqlite", dest="sqlite", action="store_false", help="skip the SQLite run")
    parser.add_argument(
        "--app", default="app.main:create_app", help="the app factory to serve (to try a variant)"
    )
    parser.add_argument("--access-log", action="store_true", help="keep uvicorn's access log on")
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of the app's measured run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if min(args.requests, args.concurrency, args.pool_size, args.phones) < 1 or args.warmup < 0:
        parser.error("counts must be positive")
    for url in (args.pg_url,):
        host = url.split("@")[-1].split("/")[0].split(":")[0]
        if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
            parser.error("the benchmark runs on loopback only")
    return args


def cli(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"intake benchmark: {args.requests} filings, concurrency {args.concurrency}, pool {args.pool_size},"
        f" warm-up {args.warmup}, cap {args.seconds:.0f}s, {os.cpu_count()} CPUs",
        flush=True,
    )

    async def capped() -> Report:
        # A hung step is cancelled too; the finally blocks stop the server and drop the database.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await asyncio.wait_for(main(args), timeout=args.seconds + TEARDOWN_RESERVE)

    try:
        report = asyncio.run(capped())  # Ctrl-C cancels it the same way
    except (TimeoutError, asyncio.CancelledError, KeyboardInterrupt):
        print("stopped by the time cap or a signal; the server was stopped and the database dropped")
        return 1
    print(table(report, args))
    for note in report.notes:
        print(note)
    if args.profile:
        print("\n".join(summarise_profile(args.profile)))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "runs": [
                        {
                            "name": r.name,
                            "tickets": r.done,
                            "errors": r.errors,
                            "seconds": r.seconds,
                            "throughput": r.throughput,
                            "p50_ms": r.percentile(50),
                            "p95_ms": r.percentile(95),
                            "p99_ms": r.percentile(99),
                            "cpu_seconds": r.cpu,
                            "truncated": r.truncated,
                        }
                        for r in report.runs
                    ],
                    "notes": report.notes,
                },
                indent=2,
            )
        )
    return 0 if all(not r.errors for r in report.runs) else 1


if __name__ == "__main__":
    sys.exit(cli())
