"""Where an appeal is and who answers for it: gazetteer look-up and the routing rules."""

from dataclasses import dataclass

from app.errors import UnknownReference
from app.models import Provider, Street, Territory
from app.services.reference import ReferenceData, settlement_search_name, street_search_name


@dataclass(frozen=True)
class Place:
    territory: Territory | None
    street: Street | None
    settlement: Territory | None


def locate(
    ref: ReferenceData, *, territory_code: str | None, settlement: str | None, street: str | None
) -> Place:
    """The territory from an explicit code, else from the address in the gazetteer, else none.

    An address the gazetteer does not know is kept as given and routed by category alone: an
    operator at 2 a.m. must be able to file it anyway.
    """
    if territory_code:
        territory = ref.territory_by_code.get(territory_code)
        if territory is None:
            raise UnknownReference(f"No territory with code {territory_code!r}.", field="territory_code")
        return Place(territory=territory, street=None, settlement=None)
    place_settlement = ref.settlement_by_name.get(settlement_search_name(settlement)) if settlement else None
    found_street = _find_street(ref, place_settlement, street) if street else None
    if found_street is not None:
        return Place(
            territory=ref.territories[found_street.territory_id],
            street=found_street,
            settlement=ref.territories[found_street.settlement_id],
        )
    return Place(territory=place_settlement, street=None, settlement=place_settlement)


def _find_street(ref: ReferenceData, settlement: Territory | None, street: str) -> Street | None:
    name = street_search_name(street)
    if settlement is not None:
        return ref.street_by_name.get((settlement.id or 0, name))
    # No settlement said: take the street if exactly one settlement has it.
    matches = [s for (_, street_name), s in ref.street_by_name.items() if street_name == name]
    return matches[0] if len(matches) == 1 else None


def pick_provider(ref: ReferenceData, category_id: int, territory_id: int | None) -> Provider | None:
    """The provider of the most specific matching rule: nearest category first, then nearest territory."""
    category_rank = {cid: depth for depth, cid in enumerate(ref.category_ancestry(category_id))}
    territory_rank: dict[int | None, int] = {}
    if territory_id is not None:
        territory_rank = {tid: depth for depth, tid in enumerate(ref.territory_ancestry(territory_id))}
    unset = 10_000  # a rule that names no category or territory is the least specific
    best: tuple[int, int] | None = None
    chosen: Provider | None = None
    for rule in ref.rules:
        c = category_rank.get(rule.category_id, -1) if rule.category_id is not None else unset
        t = territory_rank.get(rule.territory_id, -1) if rule.territory_id is not None else unset
        if c < 0 or t < 0:
            continue
        provider = ref.providers.get(rule.provider_id)
        if provider is None or not provider.active:
            continue
        if best is None or (c, t) < best:
            best, chosen = (c, t), provider
    return chosen
