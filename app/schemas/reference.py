"""Reference data as the API reads and writes it: categories, providers, territories, streets, rules."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from app.models import Priority, TerritoryKind

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CategoryFields(Strict):
    name: Name | None = None
    parent_code: Code | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    evidence_required: bool | None = None
    default_priority: Priority | None = None
    needs_study: bool | None = None
    keywords: list[Annotated[str, StringConstraints(max_length=60)]] | None = None
    active: bool | None = None


class CategoryIn(CategoryFields):
    code: Code
    name: Name


class CategoryRead(BaseModel):
    code: str
    name: str
    parent_code: str | None
    description: str
    evidence_required: bool
    default_priority: Priority
    needs_study: bool
    keywords: list[str]
    active: bool


class ProviderFields(Strict):
    name: Name | None = None
    kind: Annotated[str, StringConstraints(max_length=32)] | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    email: Annotated[str, StringConstraints(max_length=200)] | None = None
    active: bool | None = None


class ProviderIn(ProviderFields):
    code: Code
    name: Name


class ProviderRead(BaseModel):
    code: str
    name: str
    kind: str
    phone: str | None
    email: str | None
    active: bool


class TerritoryFields(Strict):
    name: Name | None = None
    kind: TerritoryKind | None = None
    parent_code: Code | None = None
    postcode: Annotated[str, StringConstraints(max_length=16)] | None = None


class TerritoryIn(TerritoryFields):
    code: Code
    name: Name
    kind: TerritoryKind


class TerritoryRead(BaseModel):
    code: str
    name: str
    kind: TerritoryKind
    parent_code: str | None
    postcode: str | None


class StreetIn(Strict):
    name: Name
    #: The most specific territory the street lies in (a district, microdistrict or the settlement).
    territory_code: Code


class StreetRead(BaseModel):
    name: str
    settlement_code: str
    territory_code: str


class RuleIn(Strict):
    category_code: Code | None = None
    territory_code: Code | None = None
    provider_code: Code


class RulePatch(Strict):
    provider_code: Code | None = None
    active: bool | None = None


class RuleRead(BaseModel):
    id: int
    category_code: str | None
    territory_code: str | None
    provider_code: str
    active: bool
