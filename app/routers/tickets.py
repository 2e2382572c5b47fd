"""Tickets: filing, reading, the timeline, and the lifecycle's action endpoints."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from app.models import Channel, Priority, Status, Ticket
from app.routers.deps import ActorDep, PrincipalDep, RefDep, SessionDep, SettingsDep, check_if_match, etag
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.tickets import (
    AcceptIn,
    ActorOut,
    CloseIn,
    ConfirmIn,
    DeclineIn,
    EventRead,
    ExtendIn,
    RejectIn,
    ReopenIn,
    ResolveIn,
    RouteIn,
    StartIn,
    TicketCreate,
    TicketCreated,
    TicketPage,
    TicketRead,
)
from app.services import actions, sla
from app.services.access import FILERS, READERS, actions_for, require_role, sees_personal_data
from app.services.auth import Principal
from app.services.tickets import (
    TicketFilter,
    citizens_by_id,
    file_ticket,
    get_citizen,
    get_ticket,
    list_tickets,
    ticket_events,
)
from app.services.views import ticket_view

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], route_class=TransactionalRoute)
IfMatch = Annotated[str | None, Header(description="The ETag read last; a stale one gets 412.")]


def _render(ref: RefDep, principal: Principal, ticket: Ticket, citizen: object = None) -> TicketRead:
    shown = citizen if sees_personal_data(principal, ticket) else None
    return ticket_view(ticket, ref, shown, actions_for(principal, ticket))  # type: ignore[arg-type]


def _with_etag(body: TicketRead, version: int, status_code: int = 200, **headers: str) -> Response:
    return Response(
        body.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers={"ETag": etag(version), **headers},
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TicketCreated)
async def create_ticket(
    data: TicketCreate, session: SessionDep, ref: RefDep, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    """File an appeal. It is routed by the rules at once; the citizen token is shown only here."""
    require_role(principal, FILERS, "file tickets")
    filed = await file_ticket(session, ref, data, principal, phone_region=settings.phone_region)
    shown = _render(ref, principal, filed.ticket, filed.citizen)
    # The view is validated already: extend it with the token without validating it all again.
    body = TicketCreated.model_construct(**dict(shown), citizen_token=filed.citizen_token)
    return _with_etag(body, filed.ticket.version, 201, Location=f"/api/v1/tickets/{filed.ticket.number}")


@router.get("", response_model=TicketPage)
async def search_tickets(
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    status: Annotated[list[Status] | None, Query(description="One or more states.")] = None,
    provider: Annotated[str | None, Query(description="Provider code.")] = None,
    category: Annotated[str | None, Query(description="Category code (its subtree included).")] = None,
    territory: Annotated[str | None, Query(description="Territory code (its subtree included).")] = None,
    channel: Channel | None = None,
    priority: Priority | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    citizen_phone: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Free text: description, address, number.")
    ] = None,
    overdue: Annotated[bool | None, Query(description="Past a running deadline (or not).")] = None,
    due_before: Annotated[
        datetime | None, Query(description="A running deadline (stage or statutory) falls before this.")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TicketPage:
    """Tickets the key may see, newest first; follow ``next_cursor`` for the next page."""
    require_role(principal, READERS, "read tickets")
    found = TicketFilter(
        status=status,
        provider_code=provider,
        category_code=category,
        territory_code=territory,
        channel=channel,
        priority=priority,
        created_from=created_from,
        created_to=created_to,
        citizen_phone=citizen_phone,
        q=q,
        overdue=overdue,
        due_before=due_before,
        cursor=cursor,
        limit=limit,
    )
    tickets, next_cursor = await list_tickets(session, ref, principal, found, settings.phone_region)
    entitled = {t.citizen_id for t in tickets if t.citizen_id and sees_personal_data(principal, t)}
    citizens = await citizens_by_id(session, entitled)
    items = [_render(ref, principal, t, citizens.get(t.citizen_id or 0)) for t in tickets]
    return TicketPage(items=items, next_cursor=next_cursor)


@router.get("/{number}", response_model=TicketRead)
async def read_ticket(number: str, session: SessionDep, ref: RefDep, actor: ActorDep) -> Response:
    """One ticket, with an ETag for If-Match on the actions. Citizens use their X-Citizen-Token."""
    if actor.kind == "key":
        require_role(actor, READERS, "read tickets")
    ticket = await get_ticket(session, actor, number)
    citizen = await get_citizen(session, ticket) if sees_personal_data(actor, ticket) else None
    return _with_etag(_render(ref, actor, ticket, citizen), ticket.version)


@router.get("/{number}/events", response_model=list[EventRead])
async def read_timeline(number: str, session: SessionDep, actor: PrincipalDep) -> list[EventRead]:
    """The ticket's timeline: every change, who made it and when."""
    require_role(actor, READERS, "read tickets")
    ticket = await get_ticket(session, actor, number)
    return [
        EventRead(
            id=e.id or 0,
            type=e.type,
            from_status=e.from_status,
            to_status=e.to_status,
            actor=ActorOut(type=e.actor_type, name=e.actor_name, role=e.actor_role),
            at=e.at,
            payload=e.payload,
        )
        for e in await ticket_events(session, ticket)
    ]


async def _act(
    session: SessionDep,
    ref: RefDep,
    actor: Principal,
    number: str,
    if_match: str | None,
    action: Callable[[Ticket], Awaitable[None]],
) -> Response:
    """The steps every action endpoint shares: find, check If-Match, act, answer with the new ETag."""
    ticket = await get_ticket(session, actor, number)
    check_if_match(if_match, ticket.version)
    await action(ticket)
    await session.flush()
    citizen = await get_citizen(session, ticket) if sees_personal_data(actor, ticket) else None
    return _with_etag(_render(ref, actor, ticket, citizen), ticket.version)


@router.post("/{number}/route", response_model=TicketRead)
async def route_ticket(
    number: str,
    data: RouteIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Hand the ticket to a provider (named, or chosen by the rules); also reroutes a routed ticket."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.route(session, ref, t, actor, data)
    )


@router.post("/{number}/accept", response_model=TicketRead)
async def accept_ticket(
    number: str,
    data: AcceptIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """The provider takes the job (optionally naming the executor)."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.accept(session, ref, t, actor, data)
    )


@router.post("/{number}/decline", response_model=TicketRead)
async def decline_ticket(
    number: str,
    data: DeclineIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """'Not ours', with a reason: back to the dispatcher's queue."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.decline(session, ref, t, actor, data)
    )


@router.post("/{number}/start", response_model=TicketRead)
async def start_ticket(
    number: str,
    data: StartIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Work is under way."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.start(session, ref, t, actor, data)
    )


@router.post("/{number}/resolve", response_model=TicketRead)
async def resolve_ticket(
    number: str,
    data: ResolveIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Done: what was done, with evidence where the category demands it. The citizen is asked next."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.resolve(session, ref, t, actor, data)
    )


@router.post("/{number}/confirm", response_model=TicketRead)
async def confirm_ticket(
    number: str, data: ConfirmIn, session: SessionDep, ref: RefDep, actor: ActorDep, if_match: IfMatch = None
) -> Response:
    """The citizen confirms the fix (optional rating 1–5): the only success."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.confirm(session, ref, t, actor, data)
    )


@router.post("/{number}/reject", response_model=TicketRead)
async def reject_ticket(
    number: str, data: RejectIn, session: SessionDep, ref: RefDep, actor: ActorDep, if_match: IfMatch = None
) -> Response:
    """'Not fixed', with a reason: back to the same provider, counted as a reopen."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.reject(session, ref, t, actor, data)
    )


@router.post("/{number}/reopen", response_model=TicketRead)
async def reopen_ticket(
    number: str,
    data: ReopenIn,
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Reopen a confirmed or no-response ticket within the reopen window."""
    return await _act(
        session,
        ref,
        actor,
        number,
        if_match,
        lambda t: actions.reopen(session, ref, t, actor, data, timedelta(days=settings.reopen_window_days)),
    )


@router.post("/{number}/close", response_model=TicketRead)
async def close_ticket(
    number: str,
    data: CloseIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Close without confirmation: duplicate, withdrawn, invalid, or no_response after resolution."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: actions.close(session, ref, t, actor, data)
    )


@router.post("/{number}/extend", response_model=TicketRead)
async def extend_deadline(
    number: str,
    data: ExtendIn,
    session: SessionDep,
    ref: RefDep,
    actor: PrincipalDep,
    if_match: IfMatch = None,
) -> Response:
    """Move the statutory deadline later, with a reason (never past 45 days from registration)."""
    return await _act(
        session, ref, actor, number, if_match, lambda t: sla.extend(session, ref, t, actor, data)
    )
