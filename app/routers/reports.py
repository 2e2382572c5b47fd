"""Reports for the Project Office."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.models import Role
from app.routers.deps import PrincipalDep, RefDep, SessionDep, SettingsDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.reports import WeeklyReport
from app.services import reports
from app.services.access import require_role

router = APIRouter(prefix="/api/v1/reports", tags=["reports"], route_class=TransactionalRoute)
READERS = frozenset({Role.admin, Role.supervisor, Role.reader})


@router.get("/weekly", response_model=WeeklyReport)
async def weekly_report(
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    week: Annotated[
        str | None, Query(description="ISO week, e.g. 2026-W48; default: the last complete one.")
    ] = None,
) -> WeeklyReport:
    """Intake, outcomes, deadlines and each provider's chain for one ISO week (no personal data)."""
    require_role(principal, READERS, "read reports")
    return WeeklyReport.model_validate(await reports.weekly(session, ref, week, settings.sla_timezone))
