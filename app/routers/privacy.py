"""Erasing a citizen's personal data on request."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

from app.models import Role
from app.routers.deps import PrincipalDep, RefDep, SessionDep, SettingsDep
from app.routers.unit_of_work import TransactionalRoute
from app.services import privacy
from app.services.access import require_role

router = APIRouter(prefix="/api/v1/citizens", tags=["personal data"], route_class=TransactionalRoute)
ADMIN = frozenset({Role.admin})


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    ticket_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] | None = None

    @model_validator(mode="after")
    def one_of(self) -> "EraseIn":
        if bool(self.phone) == bool(self.ticket_number):
            raise ValueError("give either phone or ticket_number")
        return self


class ErasedOut(BaseModel):
    citizens: int
    tickets: int
    calls: int
    callbacks: int


@router.post("/erase", response_model=ErasedOut)
async def erase_citizen(
    data: EraseIn, session: SessionDep, ref: RefDep, settings: SettingsDep, principal: PrincipalDep
) -> ErasedOut:
    """Anonymise a citizen (by phone, or the citizen of a ticket); tickets and statistics stay."""
    require_role(principal, ADMIN, "erase personal data")
    done = await privacy.erase(
        session,
        ref,
        principal,
        phone=data.phone,
        ticket_number=data.ticket_number,
        region=settings.phone_region,
    )
    return ErasedOut(citizens=done.citizens, tickets=done.tickets, calls=done.calls, callbacks=done.callbacks)
