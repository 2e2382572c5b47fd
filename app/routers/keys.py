"""API keys: admins issue and revoke them; the secret is shown once."""

from fastapi import APIRouter, status

from app.models import ApiKey, Role
from app.routers.deps import PrincipalDep, RefDep, SessionDep
from app.routers.unit_of_work import TransactionalRoute
from app.schemas.keys import KeyCreate, KeyCreated, KeyRead
from app.services import auth
from app.services.access import require_role
from app.services.reference import ReferenceData

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"], route_class=TransactionalRoute)
ADMIN = frozenset({Role.admin})


def key_read(key: ApiKey, ref: ReferenceData) -> KeyRead:
    provider = ref.providers.get(key.provider_id) if key.provider_id else None
    return KeyRead(
        id=key.id or 0,
        name=key.name,
        role=key.role,
        provider_code=provider.code if provider else None,
        prefix=key.prefix,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(
    data: KeyCreate, session: SessionDep, ref: RefDep, principal: PrincipalDep
) -> KeyCreated:
    """Issue a key. A provider key is bound to one provider and sees only that provider's tickets."""
    require_role(principal, ADMIN, "issue API keys")
    key, secret = await auth.create_key(
        session, ref, name=data.name, role=data.role, provider_code=data.provider_code
    )
    return KeyCreated(**key_read(key, ref).model_dump(), key=secret)


@router.get("", response_model=list[KeyRead])
async def list_keys(session: SessionDep, ref: RefDep, principal: PrincipalDep) -> list[KeyRead]:
    require_role(principal, ADMIN, "list API keys")
    return [key_read(k, ref) for k in await auth.list_keys(session)]


@router.post("/{key_id}/revoke", response_model=KeyRead)
async def revoke_key(key_id: int, session: SessionDep, ref: RefDep, principal: PrincipalDep) -> KeyRead:
    """Revoke a key at once; requests with it get 401 from now on."""
    require_role(principal, ADMIN, "revoke API keys")
    return key_read(await auth.revoke_key(session, key_id), ref)


@router.delete("/{key_id}", response_model=KeyRead)
async def delete_key(key_id: int, session: SessionDep, ref: RefDep, principal: PrincipalDep) -> KeyRead:
    """The same as revoke (the row stays, so the timeline's actors keep their names)."""
    require_role(principal, ADMIN, "revoke API keys")
    return key_read(await auth.revoke_key(session, key_id), ref)
