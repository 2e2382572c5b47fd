"""API keys (stored as SHA-256 digests, shown once) and the principal behind a request."""

import hashlib
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from app.errors import InvalidInput, NotFound, UnknownReference
from app.models import ApiKey, Role, utcnow
from app.services.reference import ReferenceData

KEY_PREFIX = "hl_"
FORGET_PRINCIPALS = "forget_principals"


def digest(secret: str) -> str:
    # Keys and tokens are 256-bit random strings, so a plain digest is enough (no password stretching).
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str = KEY_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """Who is acting: an API key, a citizen holding a ticket's token, or the system itself."""

    kind: str  # "key" | "citizen" | "system"
    name: str
    role: str  # a Role value, "citizen" or "system"
    key_id: int | None = None
    provider_id: int | None = None
    ticket_id: int | None = None

    @property
    def idempotency_scope(self) -> str:
        return f"key:{self.key_id}" if self.kind == "key" else f"{self.kind}:{self.ticket_id}"

    def has(self, *roles: Role) -> bool:
        return self.kind == "key" and self.role in roles


SYSTEM = Principal(kind="system", name="system", role="system")


def principal_for_key(key: ApiKey) -> Principal:
    return Principal(
        kind="key", name=key.name, role=key.role.value, key_id=key.id, provider_id=key.provider_id
    )


async def authenticate(session: AsyncSession, secret: str) -> ApiKey | None:
    key = await session.scalar(select(ApiKey).where(col(ApiKey.key_hash) == digest(secret)))
    if key is None or key.revoked_at is not None:
        return None
    return key


async def create_key(
    session: AsyncSession, ref: ReferenceData, *, name: str, role: Role, provider_code: str | None
) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is returned this once and never stored."""
    provider_id = None
    if role is Role.provider:
        if not provider_code:
            raise InvalidInput("A provider key must name its provider (provider_code).")
        provider = ref.provider_by_code.get(provider_code)
        if provider is None:
            raise UnknownReference(f"No provider with code {provider_code!r}.", field="provider_code")
        provider_id = provider.id
    elif provider_code:
        raise InvalidInput("Only a key with role 'provider' is bound to a provider.")
    secret = new_secret()
    key = ApiKey(name=name, role=role, provider_id=provider_id, prefix=secret[:10], key_hash=digest(secret))
    session.add(key)
    await session.flush()
    return key, secret


async def ensure_key(session: AsyncSession, *, secret: str, name: str, role: Role) -> ApiKey:
    """Make sure a key with this secret exists and is active (the bootstrap admin key)."""
    query = select(ApiKey).where(col(ApiKey.key_hash) == digest(secret))
    key = await session.scalar(query)
    if key is None:
        # Replicas start at once with the same secret: the insert may lose the race to another one.
        # A savepoint keeps this transaction usable, and then the winner's row is the key.
        try:
            async with session.begin_nested():
                # The operator chose this secret; no part of it is shown back.
                key = ApiKey(name=name, role=role, prefix="bootstrap", key_hash=digest(secret))
                session.add(key)
            return key
        except IntegrityError:
            key = (await session.scalars(query)).one()
    key.revoked_at = None
    key.role = role
    await session.flush()
    return key


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list((await session.scalars(select(ApiKey).order_by(col(ApiKey.id)))).all())


async def revoke_key(session: AsyncSession, key_id: int) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"No API key {key_id}.")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
        # Processes trust keys they have seen for a few seconds; this one forgets them after commit.
        session.info[FORGET_PRINCIPALS] = True
    return key


class PrincipalCache:
    """Recently seen keys, so the hot path does not look a key up on every request.

    A revocation clears this process's cache at once; other replicas honour it within ``ttl``.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, secret: str) -> Principal | None:
        entry = self._entries.get(digest(secret))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, secret: str, principal: Principal) -> None:
        if self.ttl > 0:
            if len(self._entries) > 10_000:  # a flood of distinct keys must not grow memory unbounded
                self._entries.clear()
            self._entries[digest(secret)] = (principal, time.monotonic() + self.ttl)

    def clear(self) -> None:
        self._entries.clear()
