"""Who may see and do what. One table of action roles; one visibility rule per role."""

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import col, select

from app.errors import Forbidden
from app.models import Handoff, Role, Ticket
from app.services.auth import Principal
from app.services.lifecycle import TRANSITIONS, Action

R = Role
STAFF = frozenset({R.admin, R.supervisor, R.operator})
READERS = STAFF | {R.provider, R.integrator, R.reader}
FILERS = frozenset({R.admin, R.supervisor, R.operator, R.integrator})
CITIZEN = "citizen"

#: Roles (and "citizen") that may take each action. A provider acts only on the ticket it holds.
ACTION_ROLES: dict[Action, frozenset[str]] = {
    Action.route: frozenset({R.admin, R.supervisor, R.operator}),
    Action.accept: frozenset({R.admin, R.supervisor, R.provider}),
    Action.decline: frozenset({R.admin, R.supervisor, R.provider}),
    Action.start: frozenset({R.admin, R.supervisor, R.provider}),
    Action.resolve: frozenset({R.admin, R.supervisor, R.provider}),
    Action.extend: frozenset({R.admin, R.supervisor, R.provider}),
    Action.confirm: frozenset({R.admin, R.supervisor, R.operator, R.integrator, CITIZEN}),
    Action.reject: frozenset({R.admin, R.supervisor, R.operator, R.integrator, CITIZEN}),
    Action.reopen: frozenset({R.admin, R.supervisor, R.operator, R.integrator}),
    Action.close: frozenset({R.admin, R.supervisor, R.operator}),
}
PROVIDER_HOLDS = frozenset({Action.accept, Action.decline, Action.start, Action.resolve, Action.extend})


def require_role(principal: Principal, roles: frozenset[Role] | frozenset[str], what: str) -> None:
    if principal.role not in roles:
        raise Forbidden(f"A {principal.role} key may not {what}.")


def may_act(principal: Principal, ticket: Ticket, action: Action) -> bool:
    if principal.role not in ACTION_ROLES[action]:
        return False
    return not (
        principal.role == R.provider
        and action in PROVIDER_HOLDS
        and ticket.provider_id != principal.provider_id
    )


def ensure_may_act(principal: Principal, ticket: Ticket, action: Action) -> None:
    if principal.role not in ACTION_ROLES[action]:
        raise Forbidden(f"A {principal.role} may not {action.value} a ticket.")
    if not may_act(principal, ticket, action):
        raise Forbidden(f"Ticket {ticket.number} is not held by your provider now.")


def actions_for(principal: Principal, ticket: Ticket) -> list[str]:
    """The actions this reader could take on the ticket now (state and role both allow)."""
    return [
        a.value
        for a, move in TRANSITIONS.items()
        if ticket.status in move.sources and may_act(principal, ticket, a)
    ]


def sees_personal_data(principal: Principal, ticket: Ticket) -> bool:
    if principal.role in STAFF:
        return True
    return principal.role == R.provider and ticket.provider_id == principal.provider_id


def visible_tickets(principal: Principal) -> ColumnElement[bool]:
    """A WHERE clause limiting tickets to those the principal may see."""
    if principal.role in STAFF or principal.role == R.reader:
        return true()
    if principal.role == R.provider:
        held_before = select(col(Handoff.ticket_id)).where(col(Handoff.provider_id) == principal.provider_id)
        return or_(col(Ticket.provider_id) == principal.provider_id, col(Ticket.id).in_(held_before))
    if principal.role == R.integrator:
        return col(Ticket.created_by_key_id) == principal.key_id
    if principal.role == CITIZEN:
        return col(Ticket.id) == principal.ticket_id
    return false()
