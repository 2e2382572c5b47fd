"""Reference data (categories, providers, territories, streets, rules) cached in memory.

The hot path (filing a ticket, rendering one) reads these on every request; a city has hundreds of
rows, so each process keeps a snapshot, reloaded after an admin change and every few seconds.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.models import SETTLEMENT_KINDS, Category, Provider, RoutingRule, SlaPolicy, Street, Territory
from app.services.sla_calendar import SlaConfig

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "´": "'"})
_STREET_TYPE = re.compile(
    r"вулиця|вул\.?|проспект|просп\.?|пр-т|провулок|пров\.?|бульвар|бульв\.?|б-р|площа|пл\.?|"
    r"майдан|шосе|узвіз|тупик|проїзд|набережна"
)
_SETTLEMENT_PREFIX = re.compile(r"^(місто|м\.|село|с\.|селище|смт\.?)\s*")


def fold(text: str) -> str:
    """Case, apostrophe and space folding for look-ups of names said over the phone."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).casefold()
    return " ".join(text.replace(",", " ").split())


def street_search_name(name: str) -> str:
    """The street's own name: 'вул. Харківська', 'Харківська вулиця' and 'харківська' agree."""
    folded = fold(name)
    words = folded.split()
    if len(words) > 1 and _STREET_TYPE.fullmatch(words[-1]):
        words = words[:-1]
    if len(words) > 1 and _STREET_TYPE.fullmatch(words[0]):
        words = words[1:]
    return " ".join(words)


def settlement_search_name(name: str) -> str:
    return _SETTLEMENT_PREFIX.sub("", fold(name), count=1).strip()


@dataclass
class ReferenceData:
    categories: dict[int, Category] = field(default_factory=dict)
    providers: dict[int, Provider] = field(default_factory=dict)
    territories: dict[int, Territory] = field(default_factory=dict)
    rules: list[RoutingRule] = field(default_factory=list)
    category_by_code: dict[str, Category] = field(default_factory=dict)
    provider_by_code: dict[str, Provider] = field(default_factory=dict)
    territory_by_code: dict[str, Territory] = field(default_factory=dict)
    settlement_by_name: dict[str, Territory] = field(default_factory=dict)
    street_by_name: dict[tuple[int, str], Street] = field(default_factory=dict)
    #: SLA policies by category id, then priority ("any" for all) — see app.services.sla.
    sla_policies: dict[int, dict[str, SlaPolicy]] = field(default_factory=dict)
    #: Calendar and deadline settings, set from Settings at start-up.
    sla_config: SlaConfig = field(default_factory=SlaConfig)
    loaded: bool = False

    async def load(self, session: AsyncSession) -> None:
        categories = (await session.scalars(select(Category))).all()
        providers = (await session.scalars(select(Provider))).all()
        territories = (await session.scalars(select(Territory))).all()
        streets = (await session.scalars(select(Street))).all()
        rules = (await session.scalars(select(RoutingRule).where(col(RoutingRule.active)))).all()
        policies = (await session.scalars(select(SlaPolicy))).all()
        # Swap whole dicts so a concurrent reader never sees a half-built snapshot.
        self.categories = {c.id: c for c in categories if c.id is not None}
        self.providers = {p.id: p for p in providers if p.id is not None}
        self.territories = {t.id: t for t in territories if t.id is not None}
        self.rules = list(rules)
        self.category_by_code = {c.code: c for c in categories}
        self.provider_by_code = {p.code: p for p in providers}
        self.territory_by_code = {t.code: t for t in territories}
        self.settlement_by_name = {
            settlement_search_name(t.name): t for t in territories if t.kind in SETTLEMENT_KINDS
        }
        self.street_by_name = {(s.settlement_id, s.search_name): s for s in streets}
        sla_policies: dict[int, dict[str, SlaPolicy]] = {}
        for policy in policies:
            sla_policies.setdefault(policy.category_id, {})[policy.priority] = policy
        self.sla_policies = sla_policies
        self.loaded = True

    def category_ancestry(self, category_id: int) -> list[int]:
        """The category and its ancestors, nearest first."""
        return _ancestry(
            category_id, lambda i: self.categories[i].parent_id if i in self.categories else None
        )

    def territory_ancestry(self, territory_id: int) -> list[int]:
        return _ancestry(
            territory_id, lambda i: self.territories[i].parent_id if i in self.territories else None
        )

    def category_subtree(self, category_id: int) -> set[int]:
        return {c for c in self.categories if category_id in self.category_ancestry(c)}

    def territory_subtree(self, territory_id: int) -> set[int]:
        return {t for t in self.territories if territory_id in self.territory_ancestry(t)}

    def top_category(self, category_id: int) -> Category:
        """The root of a category's tree: the 'category group' used as a bounded metric label."""
        return self.categories[self.category_ancestry(category_id)[-1]]


def _ancestry(start: int, parent_of: Callable[[int], int | None]) -> list[int]:
    chain: list[int] = []
    current: int | None = start
    while current is not None and current not in chain:
        chain.append(current)
        current = parent_of(current)
    return chain
