"""``python -m app.seed [DIR]``: load a city's seed files through the services, idempotently.

The folder holds territories.json, streets.json, categories.json, providers.json and
routing_rules.json (see seeds/README.md). Running it again updates rows by code and adds new ones.
"""

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import create_engine, create_sessionmaker, session_scope
from app.schemas.reference import CategoryFields, ProviderFields, RuleIn, StreetIn, TerritoryFields
from app.services import catalog, sla
from app.services.attributes import load_attributes
from app.services.reference import ReferenceData
from app.settings import get_settings

#: Extra steps later modules add (e.g. SLA policies): each reads its own file from the folder.
EXTRA_STEPS: list[Callable[[AsyncSession, ReferenceData, Path], Awaitable[int]]] = []
EXTRA_STEPS.append(load_attributes)


def read(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / name
    if not path.exists():
        return []
    rows: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return rows


def parents_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_code = {row["code"]: row for row in rows}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(row: dict[str, Any]) -> None:
        if row["code"] in seen:
            return
        seen.add(row["code"])
        parent = by_code.get(row.get("parent") or "")
        if parent is not None:
            visit(parent)
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


async def load(session: AsyncSession, folder: Path) -> dict[str, int]:
    """Upsert every row of the folder's files; returns counts per file."""
    counts: dict[str, int] = {}
    territories = parents_first(read(folder, "territories.json"))
    for row in territories:
        territory = TerritoryFields(
            name=row["name"], kind=row["kind"], parent_code=row.get("parent"), postcode=row.get("postcode")
        )
        await catalog.upsert_territory(session, row["code"], territory)
    counts["territories"] = len(territories)

    streets = read(folder, "streets.json")
    for row in streets:
        await catalog.save_street(session, StreetIn(name=row["name"], territory_code=row["territory"]))
    counts["streets"] = len(streets)

    categories = parents_first(read(folder, "categories.json"))
    for row in categories:
        category = CategoryFields(
            name=row["name"],
            parent_code=row.get("parent"),
            description=row.get("description", ""),
            evidence_required=row.get("evidence_required", False),
            default_priority=row.get("default_priority", "normal"),
            needs_study=row.get("needs_study", False),
            keywords=row.get("keywords", []),
            active=row.get("active", True),
        )
        await catalog.upsert_category(session, row["code"], category)
    counts["categories"] = len(categories)

    providers = read(folder, "providers.json")
    for row in providers:
        provider = ProviderFields(
            name=row["name"],
            kind=row.get("kind", "municipal"),
            phone=row.get("phone"),
            email=row.get("email"),
        )
        await catalog.upsert_provider(session, row["code"], provider)
    counts["providers"] = len(providers)

    ref = ReferenceData()
    await ref.load(session)
    rules = read(folder, "routing_rules.json")
    for row in rules:
        rule = RuleIn(
            category_code=row.get("category"),
            territory_code=row.get("territory"),
            provider_code=row["provider"],
        )
        await catalog.save_rule(session, ref, rule, upsert=True)
    counts["routing_rules"] = len(rules)

    await ref.load(session)
    for step in EXTRA_STEPS:
        counts[step.__name__] = await step(session, ref, folder)
    return counts


async def sla_policies(session: AsyncSession, ref: ReferenceData, folder: Path) -> int:
    """sla.json: SLA policies by category code (their subtrees inherit them)."""
    return await sla.seed_policies(session, ref, read(folder, "sla.json"))


EXTRA_STEPS.append(sla_policies)


async def main(folder: Path) -> None:
    settings = get_settings()
    engine = create_engine(settings)
    async with session_scope(create_sessionmaker(engine)) as session:
        counts = await load(session, folder)
    await engine.dispose()
    print("seeded " + ", ".join(f"{n} {what}" for what, n in counts.items()) + f" from {folder}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else get_settings().seed_dir))
