"""Reference data: every key reads it; admins create and update it."""

from fastapi import APIRouter, status

from app.models import Category, Provider, Role, RoutingRule, Street, Territory
from app.routers.deps import PrincipalDep, RefDep, SessionDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.reference import (
    CategoryFields,
    CategoryIn,
    CategoryRead,
    ProviderFields,
    ProviderIn,
    ProviderRead,
    RuleIn,
    RulePatch,
    RuleRead,
    StreetIn,
    StreetRead,
    TerritoryFields,
    TerritoryIn,
    TerritoryRead,
)
from app.services import catalog
from app.services.access import require_role

router = APIRouter(prefix="/api/v1", tags=["reference data"], route_class=TransactionalRoute)
ADMIN = frozenset({Role.admin})


def _code(items: dict[int, Category] | dict[int, Territory], item_id: int | None) -> str | None:
    item = items.get(item_id) if item_id is not None else None
    return item.code if item else None


def category_read(c: Category, parent: Category | None) -> CategoryRead:
    return CategoryRead(
        code=c.code,
        name=c.name,
        parent_code=parent.code if parent else None,
        description=c.description,
        evidence_required=c.evidence_required,
        default_priority=c.default_priority,
        needs_study=c.needs_study,
        keywords=list(c.keywords),
        active=c.active,
    )


def provider_read(p: Provider) -> ProviderRead:
    return ProviderRead(code=p.code, name=p.name, kind=p.kind, phone=p.phone, email=p.email, active=p.active)


def territory_read(t: Territory, parent: Territory | None) -> TerritoryRead:
    return TerritoryRead(
        code=t.code,
        name=t.name,
        kind=t.kind,
        parent_code=parent.code if parent else None,
        postcode=t.postcode,
    )


@router.get("/categories", response_model=list[CategoryRead])
async def list_categories(ref: RefDep, _: PrincipalDep) -> list[CategoryRead]:
    """The category tree, parents before children."""
    return [
        category_read(c, ref.categories.get(c.parent_id) if c.parent_id else None)
        for c in sorted(ref.categories.values(), key=lambda c: c.id or 0)
    ]


@router.post("/categories", response_model=CategoryRead, status_code=status.HTTP_201_CREATED)
async def create_category(data: CategoryIn, session: SessionDep, principal: PrincipalDep) -> CategoryRead:
    require_role(principal, ADMIN, "change categories")
    category = await catalog.save_category(session, data.code, data, create=True)
    parent = await session.get(Category, category.parent_id) if category.parent_id else None
    return category_read(category, parent)


@router.patch("/categories/{code}", response_model=CategoryRead)
async def update_category(
    code: str, data: CategoryFields, session: SessionDep, principal: PrincipalDep
) -> CategoryRead:
    require_role(principal, ADMIN, "change categories")
    category = await catalog.save_category(session, code, data, create=False)
    parent = await session.get(Category, category.parent_id) if category.parent_id else None
    return category_read(category, parent)


@router.get("/providers", response_model=list[ProviderRead])
async def list_providers(ref: RefDep, _: PrincipalDep) -> list[ProviderRead]:
    return [provider_read(p) for p in sorted(ref.providers.values(), key=lambda p: p.code)]


@router.post("/providers", response_model=ProviderRead, status_code=status.HTTP_201_CREATED)
async def create_provider(data: ProviderIn, session: SessionDep, principal: PrincipalDep) -> ProviderRead:
    require_role(principal, ADMIN, "change providers")
    return provider_read(await catalog.save_provider(session, data.code, data, create=True))


@router.patch("/providers/{code}", response_model=ProviderRead)
async def update_provider(
    code: str, data: ProviderFields, session: SessionDep, principal: PrincipalDep
) -> ProviderRead:
    require_role(principal, ADMIN, "change providers")
    return provider_read(await catalog.save_provider(session, code, data, create=False))


@router.get("/territories", response_model=list[TerritoryRead])
async def list_territories(ref: RefDep, _: PrincipalDep) -> list[TerritoryRead]:
    """The territory tree: community, city, districts, microdistricts, starosta districts, villages."""
    return [
        territory_read(t, ref.territories.get(t.parent_id) if t.parent_id else None)
        for t in sorted(ref.territories.values(), key=lambda t: t.id or 0)
    ]


@router.post("/territories", response_model=TerritoryRead, status_code=status.HTTP_201_CREATED)
async def create_territory(data: TerritoryIn, session: SessionDep, principal: PrincipalDep) -> TerritoryRead:
    require_role(principal, ADMIN, "change territories")
    territory = await catalog.save_territory(session, data.code, data, create=True)
    parent = await session.get(Territory, territory.parent_id) if territory.parent_id else None
    return territory_read(territory, parent)


@router.patch("/territories/{code}", response_model=TerritoryRead)
async def update_territory(
    code: str, data: TerritoryFields, session: SessionDep, principal: PrincipalDep
) -> TerritoryRead:
    require_role(principal, ADMIN, "change territories")
    territory = await catalog.save_territory(session, code, data, create=False)
    parent = await session.get(Territory, territory.parent_id) if territory.parent_id else None
    return territory_read(territory, parent)


@router.get("/streets", response_model=list[StreetRead])
async def list_streets(session: SessionDep, ref: RefDep, _: PrincipalDep) -> list[StreetRead]:
    """The gazetteer used to place an address."""
    rows = await catalog.all_rows(session, Street, Street.name)
    return [
        StreetRead(
            name=s.name,
            settlement_code=ref.territories[s.settlement_id].code,
            territory_code=ref.territories[s.territory_id].code,
        )
        for s in rows
        if s.settlement_id in ref.territories and s.territory_id in ref.territories
    ]


@router.post("/streets", response_model=StreetRead, status_code=status.HTTP_201_CREATED)
async def create_street(data: StreetIn, session: SessionDep, principal: PrincipalDep) -> StreetRead:
    require_role(principal, ADMIN, "change the gazetteer")
    street = await catalog.save_street(session, data)
    settlement = await session.get(Territory, street.settlement_id)
    return StreetRead(
        name=street.name,
        settlement_code=settlement.code if settlement else "",
        territory_code=data.territory_code,
    )


async def _rule_read(session: SessionDep, rule: RoutingRule) -> RuleRead:
    category = await session.get(Category, rule.category_id) if rule.category_id else None
    territory = await session.get(Territory, rule.territory_id) if rule.territory_id else None
    provider = await session.get(Provider, rule.provider_id)
    return RuleRead(
        id=rule.id or 0,
        category_code=category.code if category else None,
        territory_code=territory.code if territory else None,
        provider_code=provider.code if provider else "",
        active=rule.active,
    )


@router.get("/routing-rules", response_model=list[RuleRead])
async def list_rules(session: SessionDep, ref: RefDep, _: PrincipalDep) -> list[RuleRead]:
    """Routing rules: the most specific category wins, then the most specific territory."""
    return [
        RuleRead(
            id=r.id or 0,
            category_code=_code(ref.categories, r.category_id),
            territory_code=_code(ref.territories, r.territory_id),
            provider_code=ref.providers[r.provider_id].code if r.provider_id in ref.providers else "",
            active=r.active,
        )
        for r in await catalog.all_rows(session, RoutingRule, RoutingRule.id)
    ]


@router.post("/routing-rules", response_model=RuleRead, status_code=status.HTTP_201_CREATED)
async def create_rule(data: RuleIn, session: SessionDep, ref: RefDep, principal: PrincipalDep) -> RuleRead:
    require_role(principal, ADMIN, "change routing rules")
    return await _rule_read(session, await catalog.save_rule(session, ref, data))


@router.patch("/routing-rules/{rule_id}", response_model=RuleRead)
async def update_rule(
    rule_id: int, data: RulePatch, session: SessionDep, principal: PrincipalDep
) -> RuleRead:
    require_role(principal, ADMIN, "change routing rules")
    return await _rule_read(session, await catalog.update_rule(session, rule_id, data))
