"""One transaction per request, and Idempotency-Key replay stored in that same transaction.

``TransactionalRoute`` opens the request's session, runs the endpoint, and commits once. For a POST
with an ``Idempotency-Key`` the response is saved with the change it reports, so a retry gets the
first answer and a change is never made twice, even when two copies race (the loser's transaction
rolls back on the key's unique index and it answers with the winner's response).
"""

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, select

from app.errors import ConcurrentUpdate, Conflict, IdempotencyMismatch, InvalidInput
from app.models import IdempotencyRecord, Ticket
from app.services.auth import FORGET_PRINCIPALS, authenticate, digest
from app.services.catalog import RELOAD_REFERENCE

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
REPLAYED_HEADERS = ("content-type", "etag", "location")


def request_session(request: Request) -> AsyncSession:
    session: AsyncSession | None = getattr(request.state, "session", None)
    if session is None:
        session = request.app.state.sessionmaker()
        request.state.session = session
    return session


def _credential_scope(request: Request) -> str:
    credential = request.headers.get("authorization") or request.headers.get("x-citizen-token") or "anonymous"
    return hashlib.sha256(credential.encode()).hexdigest()[:40]


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                key = request.headers.get("idempotency-key") if request.method == "POST" else None
                if key is not None:
                    return await _idempotent(request, handler, key.strip())
                return await _transactional(request, handler)
            finally:
                session = getattr(request.state, "session", None)
                if session is not None:
                    await session.close()

        return run


async def _transactional(
    request: Request, handler: Handler, after: Callable[[AsyncSession, Response], None] | None = None
) -> Response:
    try:
        response = await handler(request)
        session = getattr(request.state, "session", None)
        if session is not None:
            if after is not None and response.status_code < 400:
                after(session, response)
            await session.commit()
            if session.info.pop(FORGET_PRINCIPALS, False):
                request.app.state.principals.clear()
            if session.info.pop(RELOAD_REFERENCE, False):
                await request.app.state.reference.load(session)
                await session.commit()
        return response
    except StaleDataError as exc:
        await _rollback(request)
        raise ConcurrentUpdate(
            "Someone changed this ticket at the same moment; read it again and retry."
        ) from exc
    except BaseException:
        await _rollback(request)
        raise


async def _rollback(request: Request) -> None:
    session = getattr(request.state, "session", None)
    if session is not None:
        await session.rollback()


async def _idempotent(request: Request, handler: Handler, key: str) -> Response:
    if not key or len(key) > 200:
        raise InvalidInput("An Idempotency-Key is 1 to 200 characters.", field="Idempotency-Key")
    scope = _credential_scope(request)
    body = await request.body()
    fingerprint = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
    session = request_session(request)
    stored = await _find(session, scope, key)
    if stored is not None and await _credential_still_valid(session, request):
        return _replay(stored, fingerprint)

    def remember(session: AsyncSession, response: Response) -> None:
        session.add(
            IdempotencyRecord(
                principal=scope,
                key=key,
                method=request.method,
                path=request.url.path,
                body_hash=fingerprint,
                status_code=response.status_code,
                headers={h: v for h, v in response.headers.items() if h in REPLAYED_HEADERS},
                body=bytes(response.body).decode(),
            )
        )

    try:
        return await _transactional(request, handler, remember)
    except IntegrityError:
        # Either a twin request with this key committed first (answer as it did), or a real conflict.
        stored = await _find(session, scope, key)
        if stored is not None:
            return _replay(stored, fingerprint)
        raise Conflict("The change conflicts with data already stored.") from None


async def _credential_still_valid(session: AsyncSession, request: Request) -> bool:
    """A revoked key must not read back what it once got; the endpoint itself answers 401 then."""
    authorization = request.headers.get("authorization", "")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() == "bearer" and secret.strip():
        return await authenticate(session, secret.strip()) is not None
    token = request.headers.get("x-citizen-token", "").strip()
    if token:
        found = await session.scalar(
            select(col(Ticket.id)).where(col(Ticket.citizen_token_hash) == digest(token))
        )
        return found is not None
    return False


async def _find(session: AsyncSession, scope: str, key: str) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(
        col(IdempotencyRecord.principal) == scope, col(IdempotencyRecord.key) == key
    )
    return await session.scalar(query)


def _replay(stored: IdempotencyRecord, fingerprint: str) -> Response:
    if stored.body_hash != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was already used for a different request; use a new key.",
            first_request={"method": stored.method, "path": stored.path},
        )
    headers = dict(stored.headers)
    headers["idempotent-replayed"] = "true"
    return Response(content=stored.body, status_code=stored.status_code, headers=headers)
