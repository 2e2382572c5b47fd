"""Open311 GeoReport v2 over the hotline: services from the category tree, requests as tickets.

Everything here is format-free (plain dicts in the spec's field order); the router renders XML or
JSON. Nothing personal leaves: no citizen, no apartment, and the free-text description only of
requests that were themselves filed through Open311.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import InvalidInput, NotFound
from app.models import (
    OPEN_STATUSES,
    AttributeDatatype,
    Category,
    CategoryAttribute,
    Channel,
    CloseReason,
    Open311Request,
    Status,
    Ticket,
    TicketEvent,
    TicketKind,
    utcnow,
)
from app.schemas.tickets import AddressIn, CitizenIn, TicketCreate
from app.services.attributes import LIST_TYPES, attributes_by_category, attributes_of
from app.services.auth import Principal
from app.services.reference import ReferenceData, settlement_search_name
from app.services.tickets import file_ticket

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-01-01T00:00:00+00:00"
CLOSED_STATUSES = frozenset(Status) - OPEN_STATUSES
_HOUSE = re.compile(r"^\d+[\w/-]{0,8}$")
_STREET_AND_HOUSE = re.compile(r"^(?P<street>.*\D)\s+(?P<house>\d+[\w/-]{0,8})$")

_CLOSE_NOTES = {
    CloseReason.no_response: "Закрито: заявник не відповів після виконання робіт.",
    CloseReason.consultation: "Надано консультацію.",
    CloseReason.duplicate: "Закрито як дублікат іншого звернення.",
    CloseReason.withdrawn: "Звернення відкликано заявником.",
    CloseReason.invalid: "Закрито: звернення не стосується компетенції служби.",
}
#: The steps a citizen may hear of, and how they read; other events (SLA marks, links) stay internal.
_PUBLIC_NOTES = {
    "received": "Звернення зареєстровано.",
    "routed": "Передано виконавцю.",
    "declined": "Звернення передається іншому виконавцю.",
    "accepted": "Виконавець прийняв звернення в роботу.",
    "started": "Роботи розпочато.",
    "resolved": "Виконавець повідомив про виконання.",
    "confirmed": "Заявник підтвердив виконання.",
    "rejected": "Заявник повідомив, що проблему не усунено; роботи відновлено.",
    "reopened": "Звернення відкрито повторно.",
    "closed": "Звернення закрито.",
    "deadline_extended": "Термін розгляду продовжено.",
}


def check_jurisdiction(expected: str, given: str | None) -> None:
    if expected and given and given.strip() != expected:
        raise NotFound(f"jurisdiction_id {given!r} is not served here (this is {expected!r}).")


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


# --- services --------------------------------------------------------------------------------------


def service_categories(ref: ReferenceData) -> list[Category]:
    """Leaf categories that accept appeals: each is an Open311 service."""
    parents = {c.parent_id for c in ref.categories.values() if c.active and c.parent_id is not None}
    return sorted(
        (c for c in ref.categories.values() if c.active and c.id not in parents),
        key=lambda c: (ref.top_category(c.id or 0).id or 0, c.id or 0),
    )


def service_category(ref: ReferenceData, code: str) -> Category:
    category = ref.category_by_code.get(code)
    if category is None or category not in service_categories(ref):
        raise NotFound(f"service_code {code!r} was not found.")
    return category


async def list_services(session: AsyncSession, ref: ReferenceData) -> list[dict[str, Any]]:
    questions = await attributes_by_category(session)
    return [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": c.description or None,
            "metadata": bool(questions.get(c.id or 0)),
            "type": "realtime",
            "keywords": ", ".join(c.keywords) or None,
            "group": ref.top_category(c.id or 0).name,
        }
        for c in service_categories(ref)
    ]


async def service_definition(session: AsyncSession, ref: ReferenceData, code: str) -> dict[str, Any]:
    category = service_category(ref, code)
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype.value,
                "required": a.required,
                "datatype_description": a.datatype_description,
                "order": a.order,
                "description": a.description,
                "values": [{"key": v["key"], "name": v["name"]} for v in a.values],
            }
            for a in await attributes_of(session, category.id or 0)
        ],
    }


# --- posting a request -----------------------------------------------------------------------------


@dataclass
class Submission:
    service_code: str | None = None
    lat: str | None = None
    long: str | None = None
    address_string: str | None = None
    address_id: str | None = None
    email: str | None = None
    device_id: str | None = None
    account_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    description: str | None = None
    media_url: str | None = None
    attributes: dict[str, list[str]] = field(default_factory=dict)


async def submit(
    session: AsyncSession, ref: ReferenceData, actor: Principal, s: Submission, *, phone_region: str
) -> list[dict[str, Any]]:
    """File the request as a ticket through the same service as the REST API (channel open311)."""
    if not s.service_code:
        raise InvalidInput("service_code was not provided.", field="service_code")
    category = service_category(ref, s.service_code)
    lat, lon = _coordinates(s.lat, s.long)
    if lat is None and not s.address_string and not s.address_id:
        raise InvalidInput("A location is required: lat and long, address_string or address_id.")
    if s.description and len(s.description) > 4000:
        raise InvalidInput("description is limited to 4,000 characters.", field="description")
    if s.media_url and not re.match(r"^https?://\S+$", s.media_url):
        raise InvalidInput("media_url must be an http(s) URL.", field="media_url")
    questions = await attributes_of(session, category.id or 0)
    answers = _check_answers(questions, s.attributes)
    name = " ".join(p for p in (s.first_name, s.last_name) if p) or None
    person = CitizenIn(name=name, phone=s.phone, email=s.email) if (name or s.phone or s.email) else None
    data = TicketCreate(
        channel=Channel.open311,
        category_code=category.code,
        description=_description(s.description or category.name, questions, answers),
        citizen=person,
        address=_address(ref, s.address_string) if s.address_string else None,
        lat=lat,
        lon=lon,
    )
    filed = await file_ticket(session, ref, data, actor, phone_region=phone_region)
    session.add(
        Open311Request(
            ticket_id=filed.ticket.id or 0,
            address_id=s.address_id,
            media_url=s.media_url,
            attributes={k: v if len(v) > 1 else v[0] for k, v in answers.items()},
        )
    )
    await session.flush()
    provider = ref.providers.get(filed.ticket.provider_id) if filed.ticket.provider_id else None
    notice = (
        f"Передано виконавцю: {provider.name}."
        if provider
        else "Зареєстровано; диспетчер визначить виконавця."
    )
    return [{"service_request_id": filed.ticket.number, "service_notice": notice, "account_id": None}]


def _coordinates(lat: str | None, lon: str | None) -> tuple[float | None, float | None]:
    if not lat and not lon:
        return None, None
    if not (lat and lon):
        raise InvalidInput("lat and long must both be sent.")
    try:
        la, lo = float(lat), float(lon)
    except ValueError:
        raise InvalidInput("lat and long must be numbers (WGS84).") from None
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        raise InvalidInput("lat and long are out of range.")
    return la, lo


def _check_answers(questions: list[CategoryAttribute], given: dict[str, list[str]]) -> dict[str, list[str]]:
    by_code = {q.code: q for q in questions}
    unknown = sorted(set(given) - set(by_code))
    if unknown:
        raise InvalidInput(f"This service has no attribute {', '.join(unknown)}.", field="attribute")
    answers: dict[str, list[str]] = {}
    for q in questions:
        values = [v.strip() for v in given.get(q.code, []) if v.strip()]
        if not values:
            if q.required:
                raise InvalidInput(f"attribute[{q.code}] is required: {q.description}", field="attribute")
            continue
        if q.datatype is not AttributeDatatype.multivaluelist and len(values) > 1:
            raise InvalidInput(f"attribute[{q.code}] takes one value.", field="attribute")
        if q.datatype in LIST_TYPES:
            keys = {v["key"] for v in q.values}
            wrong = [v for v in values if v not in keys]
            if wrong:
                raise InvalidInput(
                    f"attribute[{q.code}] must be one of {', '.join(sorted(keys))}.", field="attribute"
                )
        elif q.datatype is AttributeDatatype.number:
            _parse(values[0], float, q.code, "a number")
        elif q.datatype is AttributeDatatype.datetime:
            _parse(values[0], datetime.fromisoformat, q.code, "an ISO 8601 date-time")
        answers[q.code] = values
    return answers


def _parse(value: str, parser: Any, code: str, what: str) -> None:
    try:
        parser(value)
    except ValueError:
        raise InvalidInput(f"attribute[{code}] must be {what}.", field="attribute") from None


def _description(text: str, questions: list[CategoryAttribute], answers: dict[str, list[str]]) -> str:
    """The citizen's text, then the answers in words, so the provider reads them in one place."""
    lines = [text.strip()]
    for q in questions:
        if q.code not in answers:
            continue
        names = {v["key"]: v["name"] for v in q.values}
        lines.append(f"{q.description}: {', '.join(names.get(v, v) for v in answers[q.code])}")
    return "\n".join(lines)[:5000]


def _address(ref: ReferenceData, text: str) -> AddressIn:
    """Best effort at "вул. Харківська, 12, Суми": settlement, street and house for routing."""
    settlement = street = house = None
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if settlement is None and settlement_search_name(part) in ref.settlement_by_name:
            settlement = part
        elif house is None and _HOUSE.match(part):
            house = part
        elif street is None:
            found = _STREET_AND_HOUSE.match(part)
            street, house = (found["street"], house or found["house"]) if found else (part, house)
    return AddressIn(
        settlement=settlement,
        street=street[:200] if street else None,
        house=house,
        text=text[:500],
    )


# --- reading requests ------------------------------------------------------------------------------


@dataclass
class RequestQuery:
    service_request_id: str | None = None
    service_code: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    status: str | None = None
    page: str | None = None
    page_size: str | None = None


def _date(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise InvalidInput(f"{name} must be a w3 date-time, e.g. 2010-01-01T00:00:00Z.", field=name) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _positive(value: str | None, name: str, default: int, most: int) -> int:
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise InvalidInput(f"{name} must be a whole number from 1 to {most}.", field=name)
    return int(value)


def _window(q: RequestQuery) -> tuple[datetime, datetime]:
    """The requested_datetime window: the last 90 days unless said otherwise, never more than 90."""
    start = _date(q.start_date, "start_date") if q.start_date else None
    end = _date(q.end_date, "end_date") if q.end_date else None
    if start is None:
        end = end or utcnow()
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if end < start:
        raise InvalidInput("end_date is before start_date.", field="end_date")
    if end - start > MAX_SPAN:
        raise InvalidInput("start_date to end_date may not span more than 90 days.", field="end_date")
    return start, end


async def find_requests(session: AsyncSession, ref: ReferenceData, q: RequestQuery) -> list[dict[str, Any]]:
    query = select(Ticket).where(col(Ticket.kind) != TicketKind.consultation)
    if q.service_request_id:
        numbers = [n.strip() for n in q.service_request_id.split(",") if n.strip()][:MAX_RESULTS]
        query = query.where(col(Ticket.number).in_(numbers))
        tickets = list((await session.scalars(query.order_by(col(Ticket.id).desc()))).all())
        return await render(session, ref, tickets)
    if q.service_code:
        ids: set[int] = set()
        for code in (c.strip() for c in q.service_code.split(",") if c.strip()):
            category = ref.category_by_code.get(code)
            if category is None:
                raise InvalidInput(f"service_code {code!r} is not a service here.", field="service_code")
            ids |= ref.category_subtree(category.id or 0)
        query = query.where(col(Ticket.category_id).in_(ids))
    start, end = _window(q)
    query = query.where(col(Ticket.created_at) >= start, col(Ticket.created_at) <= end)
    if q.status:
        wanted: set[Status] = set()
        for word in (w.strip() for w in q.status.split(",") if w.strip()):
            if word not in ("open", "closed"):
                raise InvalidInput("status is open or closed (comma separated).", field="status")
            wanted |= OPEN_STATUSES if word == "open" else CLOSED_STATUSES
        query = query.where(col(Ticket.status).in_(wanted))
    page = _positive(q.page, "page", 1, 1_000_000)
    size = _positive(q.page_size, "page_size", MAX_RESULTS, MAX_RESULTS)
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    tickets = list((await session.scalars(query.offset((page - 1) * size).limit(size))).all())
    return await render(session, ref, tickets)


async def get_request(session: AsyncSession, ref: ReferenceData, number: str) -> list[dict[str, Any]]:
    found = await find_requests(session, ref, RequestQuery(service_request_id=number))
    if not found:
        raise NotFound(f"service_request_id {number!r} was not found.")
    return found


async def token_request(session: AsyncSession, ref: ReferenceData, token: str) -> list[dict[str, Any]]:
    """Every service is realtime, so no tokens are issued; a request's own id works as its token."""
    number = await session.scalar(
        select(Ticket.number).where(
            col(Ticket.number) == token.strip(), col(Ticket.kind) != TicketKind.consultation
        )
    )
    if number is None:
        raise NotFound(f"token {token!r} was not found.")
    return [{"service_request_id": number, "token": token}]


async def render(session: AsyncSession, ref: ReferenceData, tickets: list[Ticket]) -> list[dict[str, Any]]:
    """Tickets as Open311 requests: two more queries (the Open311 extras and the last public step)."""
    ids = [t.id for t in tickets if t.id is not None]
    extras: dict[int, Open311Request] = {}
    last_step: dict[int, TicketEvent] = {}
    if ids:
        extras = {
            r.ticket_id: r
            for r in await session.scalars(
                select(Open311Request).where(col(Open311Request.ticket_id).in_(ids))
            )
        }
        latest = (
            select(func.max(TicketEvent.id))
            .where(col(TicketEvent.ticket_id).in_(ids), col(TicketEvent.type).in_(list(_PUBLIC_NOTES)))
            .group_by(col(TicketEvent.ticket_id))
        )
        last_step = {
            e.ticket_id or 0: e
            for e in await session.scalars(select(TicketEvent).where(col(TicketEvent.id).in_(latest)))
        }
    return [_request(ref, t, extras.get(t.id or 0), last_step.get(t.id or 0)) for t in tickets]


def _request(
    ref: ReferenceData, t: Ticket, extra: Open311Request | None, step: TicketEvent | None
) -> dict[str, Any]:
    category = ref.categories[t.category_id]
    provider = ref.providers.get(t.provider_id) if t.provider_id else None
    territory = ref.territories.get(t.territory_id) if t.territory_id else None
    return {
        "service_request_id": t.number,
        "status": "open" if t.status in OPEN_STATUSES else "closed",
        "status_notes": _status_notes(t, step),
        "service_name": category.name,
        "service_code": category.code,
        "description": t.description if t.channel is Channel.open311 else None,
        "agency_responsible": provider.name if provider else None,
        "service_notice": None,
        "requested_datetime": iso(t.created_at),
        "updated_datetime": iso(t.closed_at or t.confirmed_at or t.updated_at),
        "expected_datetime": iso(t.resolve_due_at),
        "address": _public_address(t),
        "address_id": extra.address_id if extra else None,
        "zipcode": territory.postcode if territory else None,
        "lat": t.lat,
        "long": t.lon,
        "media_url": extra.media_url if extra else None,
    }


def _status_notes(t: Ticket, step: TicketEvent | None) -> str | None:
    if step is None:
        return None
    if step.type in ("resolved", "confirmed") and t.resolution:
        return f"{_PUBLIC_NOTES[step.type]} {t.resolution}"
    if step.type == "closed" and t.close_reason:
        return _CLOSE_NOTES[t.close_reason]
    return _PUBLIC_NOTES[step.type]


def _public_address(t: Ticket) -> str | None:
    """House-level address, most specific first; never the apartment."""
    street = " ".join(p for p in (t.street, t.house) if p)
    parts = [p for p in (street, t.settlement) if p]
    if parts:
        return ", ".join(parts)
    return t.address_text if t.channel is Channel.open311 else None
