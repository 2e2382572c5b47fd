"""/metrics: counters of committed changes only, gauges from the database, and the dashboards' names."""

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Channel
from app.schemas.tickets import TicketCreate
from app.services.auth import SYSTEM
from app.services.reference import ReferenceData
from app.services.tickets import file_ticket
from tests.conftest import ROOT, water_ticket
from tests.sla_helpers import sample

APPEALS = "hotline_appeals_received_total"
METRIC_NAME = re.compile(r"\bhotline_[a-z_]+")
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


async def exported_names(client: httpx.AsyncClient) -> set[str]:
    text = (await client.get("/metrics")).text
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(s.name for s in family.samples)
    return names


def base_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


async def test_file_ticket_counts_appeal_by_channel_and_group(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    labels = {"channel": "web", "category_group": "water"}
    before = await sample(client, APPEALS, **labels)
    await client.post("/api/v1/tickets", json=water_ticket(channel="web"), headers=admin)
    assert await sample(client, APPEALS, **labels) == before + 1


async def test_file_ticket_counts_transition_and_time_to_route(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    moved = {"from_status": "received", "to_status": "routed"}
    routed = "hotline_time_to_route_seconds_count"
    before = (await sample(client, "hotline_transitions_total", **moved), await sample(client, routed))
    await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)
    after = (await sample(client, "hotline_transitions_total", **moved), await sample(client, routed))
    assert after == (before[0] + 1, before[1] + 1)


async def test_rolled_back_appeal_is_not_counted(
    client: httpx.AsyncClient, session: AsyncSession, reference: ReferenceData
) -> None:
    labels = {"channel": "email", "category_group": "water"}
    before = await sample(client, APPEALS, **labels)
    data = TicketCreate.model_validate(water_ticket(channel=Channel.email.value))
    await file_ticket(session, reference, data, SYSTEM)
    await session.rollback()
    assert await sample(client, APPEALS, **labels) == before


async def test_open_backlog_gauge_counts_routed_ticket(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    labels = {"provider": "miskvodokanal", "status": "routed"}
    before = await sample(client, "hotline_open_tickets", **labels)
    await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)
    assert await sample(client, "hotline_open_tickets", **labels) == before + 1


async def test_metrics_have_no_personal_data_in_labels(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    filed = (await client.post("/api/v1/tickets", json=water_ticket(), headers=admin)).json()
    text = (await client.get("/metrics")).text
    assert filed["number"] not in text
    assert "380671234567" not in text
    assert "Харківська" not in text


async def test_grafana_dashboard_uses_only_exported_metrics(client: httpx.AsyncClient) -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "hotline.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    used = {base_name(n) for e in exprs for n in METRIC_NAME.findall(e)}
    exported = {base_name(n) for n in await exported_names(client)}
    assert used, "the dashboard queries no hotline metric"
    assert used <= exported, used - exported
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


async def test_alert_rules_use_only_exported_metrics(client: httpx.AsyncClient) -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    used = {base_name(n) for e in exprs for n in METRIC_NAME.findall(e)}
    exported = {base_name(n) for n in await exported_names(client)}
    assert used and used <= exported, used - exported


COUNT_ONE_BREACH = """
import sys
from app.services import metrics
metrics.SLA_BREACHES.labels("acknowledge", "miskvodokanal").inc()
"""
SCRAPE = """
import sys
from app.services import metrics
sys.stdout.write(metrics.exposition([], sys.argv[1]).decode())
"""


async def test_multiprocess_exposition_sums_worker_processes(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", *args],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=60,
            capture_output=True,
            text=True,
        )
        return done.stdout

    for _ in range(2):
        await asyncio.to_thread(run, COUNT_ONE_BREACH)
    scraped = await asyncio.to_thread(run, SCRAPE, str(tmp_path))
    values = [
        s.value
        for f in text_string_to_metric_families(scraped)
        for s in f.samples
        if s.name == "hotline_sla_breaches_total" and s.labels.get("provider") == "miskvodokanal"
    ]
    assert values == [2.0]
