"""Dependencies shared by the routers: the request's session, reference data, settings, principal."""

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import PreconditionFailed, Unauthorized
from app.models import Ticket
from app.routers.unit_of_work import request_session
from app.services.auth import Principal, PrincipalCache, authenticate, digest, principal_for_key
from app.services.reference import ReferenceData
from app.settings import Settings


# Dependencies are coroutines on purpose: FastAPI runs plain functions in its thread pool, which costs
# a thread hand-off per dependency per request on the hot path.
async def get_session(request: Request) -> AsyncSession:
    return request_session(request)


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_reference(request: Request) -> ReferenceData:
    ref: ReferenceData = request.app.state.reference
    return ref


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RefDep = Annotated[ReferenceData, Depends(get_reference)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("Use 'Authorization: Bearer <api key>'.")
    return credential.strip()


async def get_principal(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The API key behind the request (401 without a valid, unrevoked one)."""
    secret = _bearer(authorization)
    if secret is None:
        raise Unauthorized("This endpoint needs an API key: 'Authorization: Bearer <api key>'.")
    cache: PrincipalCache = request.app.state.principals
    principal = cache.get(secret)
    if principal is None:
        key = await authenticate(session, secret)
        if key is None:
            raise Unauthorized("The API key is unknown or revoked.")
        principal = principal_for_key(key)
        cache.put(secret, principal)
    return principal


async def get_actor(
    request: Request,
    session: SessionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_citizen_token: Annotated[str | None, Header(description="The citizen's per-ticket token.")] = None,
) -> Principal:
    """An API key, or a citizen holding the ticket's token."""
    if authorization:
        return await get_principal(request, session, authorization)
    if x_citizen_token:
        row = (
            await session.execute(
                select(col(Ticket.id), col(Ticket.number)).where(
                    col(Ticket.citizen_token_hash) == digest(x_citizen_token.strip())
                )
            )
        ).first()
        if row is None:
            raise Unauthorized("The citizen token is not valid.")
        return Principal(kind="citizen", name=f"citizen of {row.number}", role="citizen", ticket_id=row.id)
    raise Unauthorized("Use 'Authorization: Bearer <api key>' or the ticket's 'X-Citizen-Token'.")


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ActorDep = Annotated[Principal, Depends(get_actor)]


def check_if_match(if_match: str | None, version: int) -> None:
    """Honour If-Match: a stale ETag means someone changed the ticket since the client read it."""
    if if_match is None or if_match.strip() == "*":
        return
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if str(version) not in tags:
        raise PreconditionFailed(
            f"The ticket is at version {version}; re-read it (GET) and retry.", current_etag=etag(version)
        )


def etag(version: int) -> str:
    return f'"{version}"'
