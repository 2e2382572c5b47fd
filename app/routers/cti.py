"""The softphone: call events from the PBX, the call log, the screen pop, blocked numbers."""

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import ValidationError

from app.errors import InvalidInput, Unauthorized
from app.models import BlockedNumber, Call, CallDirection, CallOutcome, Role, Ticket, utcnow
from app.routers.deps import PrincipalDep, RefDep, SessionDep, SettingsDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.cti import (
    BlockedNumberIn,
    BlockedNumberRead,
    CallbackBrief,
    CallerFlags,
    CallEventIn,
    CallPage,
    CallRead,
    CallTicketRef,
    LinkTicketIn,
    ScreenPop,
    TicketBrief,
)
from app.services import calls, screen_pop
from app.services.access import STAFF, require_role
from app.services.auth import authenticate, principal_for_key
from app.services.reference import ReferenceData
from app.services.views import citizen_view
from app.settings import Settings

router = APIRouter(prefix="/api/v1/cti", tags=["cti"], route_class=TransactionalRoute)
PBX = frozenset({Role.pbx})
ADMINS = frozenset({Role.admin, Role.supervisor})


def _policy(settings: Settings) -> calls.CallPolicy:
    return calls.CallPolicy(
        region=settings.phone_region, callback_due=timedelta(minutes=settings.cti_callback_due_minutes)
    )


async def _event_body(request: Request) -> CallEventIn:
    """The event as JSON or as a form (what many PBXs send); empty fields count as absent."""
    raw: Any
    if "json" in request.headers.get("content-type", ""):
        try:
            raw = json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput("The body is not valid JSON.") from exc
    else:
        raw = dict((await request.form()).items())
    if not isinstance(raw, dict):
        raise InvalidInput("The event must be an object with 'event' and 'callId'.")
    fields = {k: v for k, v in raw.items() if v not in ("", None)}
    try:
        return CallEventIn.model_validate(fields)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        raise InvalidInput("The call event is malformed; see errors.", errors=errors) from None


_EVENT_DOC = """One PBX event (newCall / answer / hangup), JSON or form-encoded, at most once per callId
and event. Answers `{"action": "reject", "reason": "busy"}` to a newCall from a blocked number, else `{}`."""


@router.post("/events", description=_EVENT_DOC)
async def call_event(
    request: Request, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> dict[str, str]:
    require_role(principal, PBX, "send call events")
    return await calls.apply_event(session, await _event_body(request), _policy(settings))


@router.post(
    "/{token}/events",
    description=_EVENT_DOC + "\n\nFor PBXs that cannot set headers: the pbx key in the path.",
)
async def call_event_by_token(
    token: str, request: Request, session: SessionDep, settings: SettingsDep
) -> dict[str, str]:
    key = await authenticate(session, token)
    if key is None:
        raise Unauthorized("The key in the path is unknown or revoked.")
    require_role(principal_for_key(key), PBX, "send call events")
    return await calls.apply_event(session, await _event_body(request), _policy(settings))


def _ticket_ref(link: calls.LinkedTicket) -> CallTicketRef:
    return CallTicketRef(number=link.ticket.number, status=link.ticket.status, relation=link.relation)


def _call_view(call: Call, links: list[calls.LinkedTicket]) -> CallRead:
    return CallRead(
        call_id=call.call_id,
        direction=call.direction,
        phone=call.phone,
        from_number=call.from_number,
        to_number=call.to_number,
        queue=call.queue,
        operator=call.operator,
        answering_number=call.answering_number,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        duration_seconds=call.duration_seconds,
        outcome=call.outcome,
        hangup_cause=call.hangup_cause,
        tickets=[_ticket_ref(link) for link in links],
    )


@router.get("/calls", response_model=CallPage)
async def call_log(
    session: SessionDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    phone: Annotated[str | None, Query(max_length=32)] = None,
    direction: CallDirection | None = None,
    outcome: CallOutcome | None = None,
    operator: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CallPage:
    """Every call, newest first: caller, times, operator, outcome, tickets produced or touched."""
    require_role(principal, STAFF, "read the call log")
    found = calls.CallFilter(phone, direction, outcome, operator, since, until, cursor, limit)
    rows, linked, next_cursor = await calls.list_calls(session, found, settings.phone_region)
    return CallPage(items=[_call_view(c, linked.get(c.call_id, [])) for c in rows], next_cursor=next_cursor)


@router.post("/calls/{call_id}/tickets", response_model=list[CallTicketRef])
async def link_ticket(
    call_id: str, data: LinkTicketIn, session: SessionDep, ref: RefDep, principal: PrincipalDep
) -> list[CallTicketRef]:
    """Note a ticket the operator dealt with during the call (a status question, a confirmation)."""
    require_role(principal, STAFF, "link tickets to calls")
    await calls.link_ticket(session, ref, principal, call_id, data.number)
    linked = await calls.tickets_of_calls(session, [call_id])
    return [_ticket_ref(link) for link in linked.get(call_id, [])]


def _brief(ticket: Ticket, ref: ReferenceData, now: datetime) -> TicketBrief:
    provider = ref.providers.get(ticket.provider_id) if ticket.provider_id else None
    return TicketBrief(
        number=ticket.number,
        status=ticket.status,
        category=ref.categories[ticket.category_id].name,
        provider=provider.name if provider else None,
        created_at=ticket.created_at,
        resolve_due_at=ticket.resolve_due_at,
        statutory_due_at=ticket.statutory_due_at,
        overdue=ticket.resolve_due_at is not None and ticket.resolve_due_at < now,
    )


def _notes(flags: CallerFlags, caller: screen_pop.Caller) -> list[str]:
    notes = []
    if flags.blocked:
        notes.append("The number is on the blocked list.")
    if flags.open_callback_task:
        notes.append("We owe this caller a call-back: close it now that they are on the line.")
    if flags.repeat_caller:
        notes.append(f"Repeat caller: {caller.calls_recently} calls in the last days.")
    if flags.has_overdue_tickets:
        notes.append("A ticket of theirs is overdue: " + ", ".join(t.number for t in caller.overdue) + ".")
    elif flags.has_open_tickets:
        notes.append("They have open tickets: they may be calling about one.")
    return notes


@router.get("/callers/{phone}", response_model=ScreenPop)
async def caller(
    phone: str, session: SessionDep, ref: RefDep, settings: SettingsDep, principal: PrincipalDep
) -> ScreenPop:
    """The screen pop for a ringing number: the citizen, their tickets and calls, what to know."""
    require_role(principal, STAFF, "look callers up")
    found = await screen_pop.look_up(
        session, phone, region=settings.phone_region, repeat_days=settings.cti_repeat_caller_days
    )
    now = utcnow()
    flags = CallerFlags(
        repeat_caller=found.repeat_caller,
        calls_recently=found.calls_recently,
        open_callback_task=found.open_callback_task,
        has_open_tickets=bool(found.open_tickets),
        has_overdue_tickets=bool(found.overdue),
        blocked=found.blocked,
    )
    links = screen_pop.links_from_tickets(found)
    citizen = found.citizen
    return ScreenPop(
        phone=found.phone,
        citizen=citizen_view(citizen) if citizen else None,
        preferred_channel=citizen.preferred_channel if citizen else None,
        open_tickets=[_brief(t, ref, now) for t in found.open_tickets],
        recent_tickets=[_brief(t, ref, now) for t in found.recent_tickets],
        last_calls=[_call_view(c, links.get(c.call_id, [])) for c in found.calls],
        callback_tasks=[
            CallbackBrief(
                id=t.id or 0,
                reason=t.reason,
                due_at=t.due_at,
                ticket_number=found.ticket_numbers_by_id.get(t.ticket_id or 0),
                call_id=t.call_id,
            )
            for t in found.tasks
        ],
        flags=flags,
        notes=_notes(flags, found),
    )


@router.get("/blocked-numbers", response_model=list[BlockedNumberRead])
async def list_blocked(session: SessionDep, principal: PrincipalDep) -> list[BlockedNumberRead]:
    """Numbers the PBX is told to answer busy."""
    require_role(principal, ADMINS, "read the blocked numbers")
    return [_blocked_view(b) for b in await calls.blocked_numbers(session)]


@router.post("/blocked-numbers", status_code=status.HTTP_201_CREATED, response_model=BlockedNumberRead)
async def block(
    data: BlockedNumberIn, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> BlockedNumberRead:
    """Block an abusive caller (or update the reason of a blocked one)."""
    require_role(principal, ADMINS, "block numbers")
    row = await calls.block_number(session, data.phone, data.reason, principal, settings.phone_region)
    return _blocked_view(row)


@router.delete("/blocked-numbers/{phone}", status_code=status.HTTP_204_NO_CONTENT)
async def unblock(
    phone: str, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> Response:
    require_role(principal, ADMINS, "unblock numbers")
    await calls.unblock_number(session, phone, settings.phone_region)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _blocked_view(row: BlockedNumber) -> BlockedNumberRead:
    return BlockedNumberRead(
        phone=row.phone, reason=row.reason, created_at=row.created_at, created_by=row.created_by
    )
