"""Questions a category asks when an appeal is filed (Open311 service definition attributes)."""

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import UnknownReference
from app.models import AttributeDatatype, CategoryAttribute
from app.services.reference import ReferenceData

LIST_TYPES = frozenset({AttributeDatatype.singlevaluelist, AttributeDatatype.multivaluelist})


async def attributes_by_category(session: AsyncSession) -> dict[int, list[CategoryAttribute]]:
    rows = await session.scalars(
        select(CategoryAttribute).order_by(col(CategoryAttribute.category_id), col(CategoryAttribute.order))
    )
    found: dict[int, list[CategoryAttribute]] = {}
    for row in rows:
        found.setdefault(row.category_id, []).append(row)
    return found


async def attributes_of(session: AsyncSession, category_id: int) -> list[CategoryAttribute]:
    query = (
        select(CategoryAttribute)
        .where(col(CategoryAttribute.category_id) == category_id)
        .order_by(col(CategoryAttribute.order), col(CategoryAttribute.id))
    )
    return list((await session.scalars(query)).all())


async def upsert_attribute(
    session: AsyncSession, ref: ReferenceData, category_code: str, fields: dict[str, object]
) -> CategoryAttribute:
    category = ref.category_by_code.get(category_code)
    if category is None:
        raise UnknownReference(f"No category with code {category_code!r}.", field="category")
    code = str(fields["code"])
    row = await session.scalar(
        select(CategoryAttribute).where(
            col(CategoryAttribute.category_id) == category.id, col(CategoryAttribute.code) == code
        )
    )
    values = CategoryAttribute.model_validate({**fields, "category_id": category.id})
    if row is None:
        row = values
        session.add(row)
    else:
        for name in (
            "datatype",
            "required",
            "variable",
            "description",
            "datatype_description",
            "order",
            "values",
        ):
            setattr(row, name, getattr(values, name))
    await session.flush()
    return row


async def load_attributes(session: AsyncSession, ref: ReferenceData, folder: Path) -> int:
    """Seed step: attributes.json, a list of {"category", "code", "datatype", "required", ...}."""
    path = folder / "attributes.json"
    if not path.exists():
        return 0
    rows: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))
    for row in rows:
        fields = {k: v for k, v in row.items() if k != "category"}
        await upsert_attribute(session, ref, str(row["category"]), fields)
    return len(rows)
