"""Open311 GeoReport v2 under /open311/v2: the format is the path's suffix (.xml or .json).

Errors under /open311 are the spec's ``errors`` list in the requested format, with status 400, 403
or 404 (never the problem+json or 422 of the rest of the API): ``install_error_handlers`` wraps
the application's handlers for those paths only.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import DomainError, Forbidden
from app.routers.deps import RefDep, SessionDep, SettingsDep
from app.routers.unit_of_work import TransactionalRoute
from app.services import open311
from app.services.access import FILERS
from app.services.auth import authenticate, principal_for_key

PREFIX = "/open311"
router = APIRouter(prefix=f"{PREFIX}/v2", tags=["open311"], route_class=TransactionalRoute)
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
#: XML element names of the items of each list (the spec's plural → singular wrappers).
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")


class BadFormat(DomainError):
    """An unknown suffix: the URL is invalid (answered in XML, the spec's required format)."""

    status, slug, title = 400, "open311-format", "Unknown response format"


def _fmt(value: str) -> str:
    fmt = value.lower()
    if fmt not in FORMATS:
        raise BadFormat(f"Format {value!r} is not served: use .xml or .json.")
    return fmt


def _xml_value(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, list):
        for item in value:
            _xml_value(node, ITEM_TAGS.get(tag, "item"), item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(node, key, inner)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def render(
    fmt: str, root: str, body: list[dict[str, Any]] | dict[str, Any], status_code: int = 200
) -> Response:
    """The body as JSON, or as XML under ``root`` (a list's items in the root's item tag)."""
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False).encode()
    else:
        element = ET.Element(root)
        items = body if isinstance(body, list) else [body]
        for item in items:
            parent = ET.SubElement(element, ITEM_TAGS[root]) if isinstance(body, list) else element
            for key, value in item.items():
                _xml_value(parent, key, value)
        content = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return Response(content=content, status_code=status_code, media_type=FORMATS[fmt])


@router.get("/discovery.{fmt}")
async def discovery(fmt: str, request: Request, settings: SettingsDep) -> Response:
    """Service discovery: where the GeoReport v2 endpoint is and what it speaks."""
    base = str(request.base_url).rstrip("/") + f"{PREFIX}/v2"
    return render(
        _fmt(fmt),
        "discovery",
        {
            "changeset": open311.CHANGESET,
            "contact": settings.open311_contact,
            "key_service": settings.open311_key_service,
            "endpoints": [
                {
                    "specification": open311.SPECIFICATION,
                    "url": base,
                    "changeset": open311.CHANGESET,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@router.get("/services.{fmt}")
async def services(
    fmt: str, session: SessionDep, ref: RefDep, settings: SettingsDep, jurisdiction_id: str | None = None
) -> Response:
    """The service list: every leaf category, grouped by its top-level category."""
    fmt = _fmt(fmt)
    open311.check_jurisdiction(settings.open311_jurisdiction_id, jurisdiction_id)
    return render(fmt, "services", await open311.list_services(session, ref))


@router.get("/services/{service_code}.{fmt}")
async def service_definition(
    service_code: str,
    fmt: str,
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
) -> Response:
    """A service's definition: the questions (attributes) its category asks."""
    fmt = _fmt(fmt)
    open311.check_jurisdiction(settings.open311_jurisdiction_id, jurisdiction_id)
    return render(fmt, "service_definition", await open311.service_definition(session, ref, service_code))


@router.post("/requests.{fmt}")
async def post_request(
    fmt: str, request: Request, session: SessionDep, ref: RefDep, settings: SettingsDep
) -> Response:
    """File a service request (form-urlencoded or multipart; api_key in the body or the query)."""
    fmt = _fmt(fmt)
    params: list[tuple[str, str]] = list(request.query_params.multi_items())
    form = await request.form()
    params += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    fields: dict[str, str] = {}
    answers: dict[str, list[str]] = {}
    for key, value in params:
        found = _ATTRIBUTE.match(key)
        if found:
            answers.setdefault(found[1], []).append(value)
        elif value.strip():
            fields[key] = value.strip()
    open311.check_jurisdiction(settings.open311_jurisdiction_id, fields.get("jurisdiction_id"))
    api_key = fields.get("api_key")
    api = await authenticate(session, api_key) if api_key else None
    if api is None:
        raise Forbidden("Missing or invalid api_key -- can't proceed with create_request.")
    principal = principal_for_key(api)
    if principal.role not in FILERS:
        raise Forbidden("This api_key may not create requests.")
    known = set(open311.Submission.__dataclass_fields__) - {"attributes"}
    submission = open311.Submission(**{k: v for k, v in fields.items() if k in known}, attributes=answers)
    body = await open311.submit(session, ref, principal, submission, phone_region=settings.phone_region)
    return render(fmt, "service_requests", body)


@router.get("/requests.{fmt}")
async def get_requests(
    fmt: str,
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
) -> Response:
    """Requests by id list, or by service, date window (≤ 90 days), status; at most 1000 a page."""
    fmt = _fmt(fmt)
    open311.check_jurisdiction(settings.open311_jurisdiction_id, jurisdiction_id)
    query = open311.RequestQuery(
        service_request_id, service_code, start_date, end_date, status, page, page_size
    )
    return render(fmt, "service_requests", await open311.find_requests(session, ref, query))


@router.get("/requests/{service_request_id}.{fmt}")
async def get_request(
    service_request_id: str,
    fmt: str,
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
) -> Response:
    """One request, as an array of one (the spec's shape)."""
    fmt = _fmt(fmt)
    open311.check_jurisdiction(settings.open311_jurisdiction_id, jurisdiction_id)
    return render(fmt, "service_requests", await open311.get_request(session, ref, service_request_id))


@router.get("/tokens/{token}.{fmt}")
async def token(
    token: str,
    fmt: str,
    session: SessionDep,
    ref: RefDep,
    settings: SettingsDep,
    jurisdiction_id: str | None = None,
) -> Response:
    """The request behind a token (none are issued: every service is realtime)."""
    fmt = _fmt(fmt)
    open311.check_jurisdiction(settings.open311_jurisdiction_id, jurisdiction_id)
    return render(fmt, "service_requests", await open311.token_request(session, ref, token))


# --- errors ----------------------------------------------------------------------------------------


def _spec_status(status: int) -> int:
    if status in (401, 403):
        return 403
    if status in (404, 405):
        return 404 if status == 404 else 400
    return 400 if status < 500 else status


def error_response(request: Request, status: int, description: str) -> Response:
    fmt = "json" if request.url.path.lower().endswith(".json") else "xml"
    code = _spec_status(status)
    return render(fmt, "errors", [{"code": code, "description": description}], status_code=code)


Handler = Callable[[Request, Exception], Awaitable[Response]]


def install_error_handlers(app: FastAPI) -> None:
    """Answer errors under /open311 in the spec's format; elsewhere keep the app's own handlers."""

    def describe(exc: Exception) -> tuple[int, str]:
        if isinstance(exc, DomainError):
            return exc.status, exc.detail
        if isinstance(exc, RequestValidationError):
            first = exc.errors()[0] if exc.errors() else {}
            where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
            return 400, f"{where}: {first.get('msg', 'invalid')}"
        if isinstance(exc, StarletteHTTPException):
            return exc.status_code, str(exc.detail)
        return 400, "The request conflicts with data already stored."

    for exc_class in (DomainError, RequestValidationError, StarletteHTTPException, IntegrityError):
        original: Handler | None = app.exception_handlers.get(exc_class)  # type: ignore[assignment]

        def wrapped(original: Handler | None) -> Handler:
            async def handle(request: Request, exc: Exception) -> Response:
                if request.url.path.startswith(PREFIX + "/") or original is None:
                    status, description = describe(exc)
                    return error_response(request, status, description)
                return await original(request, exc)

            return handle

        app.add_exception_handler(exc_class, wrapped(original))
