"""SLA policies per category: every key reads them; admins set them."""

from fastapi import APIRouter, Response, status

from app.models import Role
from app.routers.deps import PrincipalDep, RefDep, SessionDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.sla import SlaPolicyIn, SlaPolicyRead
from app.services import sla
from app.services.access import require_role

router = APIRouter(prefix="/api/v1/categories", tags=["sla"], route_class=TransactionalRoute)
ADMIN = frozenset({Role.admin})


@router.get("/{code}/sla", response_model=SlaPolicyRead)
async def read_policy(code: str, ref: RefDep, _: PrincipalDep) -> SlaPolicyRead:
    """The clocks this category's tickets get: its own policy or the nearest ancestor's (``defined_at``)."""
    return sla.category_policy(ref, code)


@router.put("/{code}/sla", response_model=SlaPolicyRead)
async def set_policy(
    code: str, data: SlaPolicyIn, session: SessionDep, ref: RefDep, principal: PrincipalDep
) -> SlaPolicyRead:
    """Set the category's own policy (ISO 8601 durations); its subtree inherits it. New clocks use it."""
    require_role(principal, ADMIN, "change SLA policies")
    return await sla.set_policy(session, ref, code, data)


@router.delete("/{code}/sla", status_code=status.HTTP_204_NO_CONTENT)
async def clear_policy(code: str, session: SessionDep, ref: RefDep, principal: PrincipalDep) -> Response:
    """Drop the category's own policy, so that it inherits its parent's again."""
    require_role(principal, ADMIN, "change SLA policies")
    await sla.clear_policy(session, ref, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
