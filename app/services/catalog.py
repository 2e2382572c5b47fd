"""Reference data kept by admins and loaded from a city's seed files: create, update, upsert."""

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import Conflict, InvalidInput, NotFound, UnknownReference
from app.models import SETTLEMENT_KINDS, Category, Provider, RoutingRule, Street, Territory, ident
from app.schemas.reference import (
    CategoryFields,
    ProviderFields,
    RuleIn,
    RulePatch,
    StreetIn,
    TerritoryFields,
)
from app.services.reference import ReferenceData, street_search_name

RELOAD_REFERENCE = "reload_reference"


def _changed(session: AsyncSession) -> None:
    # The unit of work reloads every process-local snapshot after this transaction commits.
    session.info[RELOAD_REFERENCE] = True


Coded = TypeVar("Coded", Category, Provider, Territory)


async def _by_code(session: AsyncSession, model: type[Coded], code: str) -> Coded | None:
    return await session.scalar(select(model).where(col(model.code) == code))


def _apply(target: Any, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(target, name, value)


async def _parent_id(
    session: AsyncSession, model: Any, code: str | None, own_code: str, what: str
) -> int | None:
    if code is None:
        return None
    parent = await _by_code(session, model, code)
    if parent is None:
        raise UnknownReference(f"No {what} with code {code!r}.", field="parent_code")
    # Walk up: a node may not become its own ancestor.
    node = parent
    while node is not None:
        if node.code == own_code:
            raise InvalidInput(f"{what.capitalize()} {own_code!r} cannot be placed under its own subtree.")
        node = await session.get(model, node.parent_id) if node.parent_id else None
    return int(parent.id)


async def _save(
    session: AsyncSession, model: type[Coded], code: str, fields: BaseModel, *, create: bool
) -> Coded:
    """Create (409 if the code exists) or update (404 if it does not) a coded row, parents included."""
    what = model.__name__.lower()
    row = await _by_code(session, model, code)
    if create and row is not None:
        raise Conflict(f"{model.__name__} {code!r} exists already.")
    if row is None and not create:
        raise NotFound(f"No {what} {code!r}.")
    values = fields.model_dump(exclude_unset=True, exclude={"code", "parent_code"})
    if row is None:
        row = model(code=code, **values)
        session.add(row)
    else:
        _apply(row, values)
    if "parent_code" in fields.model_fields_set and isinstance(row, Category | Territory):
        row.parent_id = await _parent_id(session, model, getattr(fields, "parent_code", None), code, what)
    await session.flush()
    _changed(session)
    return row


async def save_category(
    session: AsyncSession, code: str, fields: CategoryFields, *, create: bool
) -> Category:
    return await _save(session, Category, code, fields, create=create)


async def save_provider(
    session: AsyncSession, code: str, fields: ProviderFields, *, create: bool
) -> Provider:
    return await _save(session, Provider, code, fields, create=create)


async def save_territory(
    session: AsyncSession, code: str, fields: TerritoryFields, *, create: bool
) -> Territory:
    return await _save(session, Territory, code, fields, create=create)


async def save_street(session: AsyncSession, data: StreetIn) -> Street:
    """Add a street to the gazetteer (or move an existing one of that name to another territory)."""
    territory = await _by_code(session, Territory, data.territory_code)
    if territory is None:
        raise UnknownReference(f"No territory with code {data.territory_code!r}.", field="territory_code")
    settlement: Territory | None = territory
    while settlement is not None and settlement.kind not in SETTLEMENT_KINDS:
        settlement = await session.get(Territory, settlement.parent_id) if settlement.parent_id else None
    if settlement is None:
        raise InvalidInput(
            f"Territory {data.territory_code!r} lies in no city or village.", field="territory_code"
        )
    search_name = street_search_name(data.name)
    street = await session.scalar(
        select(Street).where(
            col(Street.settlement_id) == settlement.id, col(Street.search_name) == search_name
        )
    )
    if street is None:
        street = Street(
            name=data.name,
            search_name=search_name,
            settlement_id=ident(settlement),
            territory_id=ident(territory),
        )
        session.add(street)
    else:
        street.name, street.territory_id = data.name, ident(territory)
    await session.flush()
    _changed(session)
    return street


async def _rule_refs(
    session: AsyncSession, ref: ReferenceData, data: RuleIn
) -> tuple[int | None, int | None, int]:
    category = ref.category_by_code.get(data.category_code) if data.category_code else None
    if data.category_code and category is None:
        category = await _by_code(session, Category, data.category_code)
        if category is None:
            raise UnknownReference(f"No category with code {data.category_code!r}.", field="category_code")
    territory = ref.territory_by_code.get(data.territory_code) if data.territory_code else None
    if data.territory_code and territory is None:
        territory = await _by_code(session, Territory, data.territory_code)
        if territory is None:
            raise UnknownReference(f"No territory with code {data.territory_code!r}.", field="territory_code")
    provider = await _by_code(session, Provider, data.provider_code)
    if provider is None:
        raise UnknownReference(f"No provider with code {data.provider_code!r}.", field="provider_code")
    return (category.id if category else None, territory.id if territory else None, ident(provider))


async def save_rule(
    session: AsyncSession, ref: ReferenceData, data: RuleIn, *, upsert: bool = False
) -> RoutingRule:
    category_id, territory_id, provider_id = await _rule_refs(session, ref, data)
    query = select(RoutingRule).where(
        col(RoutingRule.category_id).is_(None)
        if category_id is None
        else col(RoutingRule.category_id) == category_id,
        col(RoutingRule.territory_id).is_(None)
        if territory_id is None
        else col(RoutingRule.territory_id) == territory_id,
    )
    rule = await session.scalar(query)
    if rule is not None and not upsert:
        raise Conflict(f"A rule for this category and territory exists already (id {rule.id}); update it.")
    if rule is None:
        rule = RoutingRule(category_id=category_id, territory_id=territory_id, provider_id=provider_id)
        session.add(rule)
    else:
        rule.provider_id, rule.active = provider_id, True
    await session.flush()
    _changed(session)
    return rule


async def update_rule(session: AsyncSession, rule_id: int, data: RulePatch) -> RoutingRule:
    rule = await session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"No routing rule {rule_id}.")
    if data.provider_code is not None:
        provider = await _by_code(session, Provider, data.provider_code)
        if provider is None:
            raise UnknownReference(f"No provider with code {data.provider_code!r}.", field="provider_code")
        rule.provider_id = ident(provider)
    if data.active is not None:
        rule.active = data.active
    await session.flush()
    _changed(session)
    return rule


async def upsert_category(session: AsyncSession, code: str, fields: CategoryFields) -> Category:
    exists = await _by_code(session, Category, code) is not None
    return await save_category(session, code, fields, create=not exists)


async def upsert_provider(session: AsyncSession, code: str, fields: ProviderFields) -> Provider:
    exists = await _by_code(session, Provider, code) is not None
    return await save_provider(session, code, fields, create=not exists)


async def upsert_territory(session: AsyncSession, code: str, fields: TerritoryFields) -> Territory:
    exists = await _by_code(session, Territory, code) is not None
    return await save_territory(session, code, fields, create=not exists)


async def all_rows(session: AsyncSession, model: Any, order: Any) -> list[Any]:
    return list((await session.scalars(select(model).order_by(order))).all())
