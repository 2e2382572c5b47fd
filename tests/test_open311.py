"""Open311 GeoReport v2: every endpoint in JSON (checked against the spec's schemas) and in XML."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import ROOT, KeyMaker

SCHEMAS = ROOT.parent / "shared" / "open311" / "georeport-v2"
V2 = "/open311/v2"
PERSONAL = ("Олена", "Коваль", "380671234567", "olena@example.com", "кв. 5")


def _registry() -> Registry:
    resources = []
    for path in sorted(Path(SCHEMAS).glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


REGISTRY = _registry()


def check(body: Any, schema: str) -> None:
    contents = REGISTRY[schema].contents
    Draft202012Validator(contents, registry=REGISTRY).validate(body)


def xml(response: httpx.Response, root: str) -> ET.Element:
    assert response.headers["content-type"].startswith("text/xml")
    assert response.content.startswith(b"<?xml")
    element = ET.fromstring(response.content)
    assert element.tag == root
    return element


def pothole(api_key: str, **extra: Any) -> dict[str, Any]:
    body = {
        "api_key": api_key,
        "service_code": "road-pothole",
        "address_string": "вул. Харківська, 12, Суми",
        "description": "Глибока яма на проїжджій частині",
        "first_name": "Олена",
        "last_name": "Коваль",
        "phone": "0671234567",
        "email": "olena@example.com",
        "media_url": "https://example.com/pothole.jpg",
    }
    body.update(extra)
    return body


@pytest.fixture
async def api_key(make_key: KeyMaker) -> str:
    return (await make_key("integrator"))["Authorization"].removeprefix("Bearer ")


async def post(client: httpx.AsyncClient, body: dict[str, Any], fmt: str = "json") -> str:
    response = await client.post(f"{V2}/requests.{fmt}", data=body)
    assert response.status_code == 200, response.text
    if fmt == "json":
        created = response.json()
        assert len(created) == 1
        return str(created[0]["service_request_id"])
    return xml(response, "service_requests").findtext("request/service_request_id") or ""


async def test_discovery_in_both_formats_names_the_endpoint(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{V2}/discovery.json")).json()
    assert body["endpoints"][0]["url"].endswith("/open311/v2")
    root = xml(await client.get(f"{V2}/discovery.xml"), "discovery")
    assert root.findtext("endpoints/endpoint/specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


async def test_services_in_both_formats_list_leaf_categories(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V2}/services.json")
    assert response.status_code == 200
    services = response.json()
    check(services, "services.json")
    by_code = {s["service_code"]: s for s in services}
    assert "water" not in by_code  # a group, not a service
    assert by_code["lift-trapped"]["group"] == "Ліфти"
    assert by_code["lift-trapped"]["metadata"] is True
    assert by_code["water-leak"]["metadata"] is False
    root = xml(await client.get(f"{V2}/services.xml"), "services")
    assert len(root.findall("service")) == len(services)
    assert root.findtext("service/type") == "realtime"


async def test_service_definition_in_both_formats_asks_whether_a_person_is_trapped(
    client: httpx.AsyncClient,
) -> None:
    definition = (await client.get(f"{V2}/services/lift-trapped.json")).json()
    check(definition, "service-definition.json")
    first = definition["attributes"][0]
    assert (first["code"], first["datatype"], first["required"]) == (
        "person-trapped",
        "singlevaluelist",
        True,
    )
    root = xml(await client.get(f"{V2}/services/lift-trapped.xml"), "service_definition")
    keys = [v.text for v in root.findall("attributes/attribute/values/value/key")]
    assert keys == ["yes", "no"]


async def test_post_request_creates_ticket_routed_to_provider(
    client: httpx.AsyncClient, api_key: str, admin: dict[str, str]
) -> None:
    number = await post(client, pothole(api_key))
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=admin)).json()
    assert ticket["channel"] == "open311"
    assert ticket["provider"]["code"] == "shliakhrembud"
    assert ticket["citizen"]["phone"] == "+380671234567"


async def test_post_request_as_multipart_with_key_in_query_and_attributes_is_filed(
    client: httpx.AsyncClient, api_key: str, admin: dict[str, str]
) -> None:
    fields = {
        "service_code": "lift-trapped",
        "lat": "50.9077",
        "long": "34.7981",
        "attribute[person-trapped]": "yes",
        "attribute[entrance]": "3",
    }
    response = await client.post(
        f"{V2}/requests.xml", params={"api_key": api_key}, files={k: (None, v) for k, v in fields.items()}
    )
    assert response.status_code == 200, response.text
    number = xml(response, "service_requests").findtext("request/service_request_id")
    ticket = (await client.get(f"/api/v1/tickets/{number}", headers=admin)).json()
    assert ticket["provider"]["code"] == "sumylift"
    assert "Так, людина в кабіні" in ticket["description"]


async def test_post_request_with_multivalue_attribute_keeps_every_value(
    client: httpx.AsyncClient, api_key: str
) -> None:
    body = [
        ("api_key", api_key),
        ("service_code", "open-manhole"),
        ("address_string", "просп. Михайла Лушпи, 5, Суми"),
        ("attribute[hazard][]", "roadway"),
        ("attribute[hazard][]", "sidewalk"),
    ]
    content = httpx.QueryParams(body)
    response = await client.post(
        f"{V2}/requests.json",
        content=str(content),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.status_code == 200, response.text
    number = response.json()[0]["service_request_id"]
    read = (await client.get(f"{V2}/requests/{number}.json")).json()
    assert "Проїжджа частина, Тротуар" in read[0]["description"]


async def test_get_request_in_both_formats_shows_no_personal_data(
    client: httpx.AsyncClient, api_key: str
) -> None:
    number = await post(client, pothole(api_key, address_string="вул. Харківська, 12, кв. 5, Суми"))
    response = await client.get(f"{V2}/requests/{number}.json")
    assert response.status_code == 200
    body = response.json()
    check(body, "requests.json")
    assert len(body) == 1
    request = body[0]
    assert request["status"] == "open"
    assert request["agency_responsible"] == "КП «Шляхрембуд»"
    assert request["requested_datetime"].endswith("+00:00")
    assert request["media_url"] == "https://example.com/pothole.jpg"
    assert request["status_notes"] == "Передано виконавцю."
    root = xml(await client.get(f"{V2}/requests/{number}.xml"), "service_requests")
    assert root.findtext("request/service_request_id") == number
    for text in (response.text, (await client.get(f"{V2}/requests/{number}.xml")).text):
        assert not any(word in text for word in PERSONAL)


async def test_get_requests_in_both_formats_filters_by_service_and_status(
    client: httpx.AsyncClient, api_key: str
) -> None:
    number = await post(client, pothole(api_key))
    found = (
        await client.get(f"{V2}/requests.json", params={"service_code": "road-pothole", "status": "open"})
    ).json()
    check(found, "requests.json")
    assert number in [r["service_request_id"] for r in found]
    closed = (
        await client.get(f"{V2}/requests.json", params={"service_code": "road-pothole", "status": "closed"})
    ).json()
    assert number not in [r["service_request_id"] for r in closed]
    root = xml(
        await client.get(f"{V2}/requests.xml", params={"service_code": "road-pothole"}), "service_requests"
    )
    assert number in [r.findtext("service_request_id") for r in root.findall("request")]


async def test_get_requests_by_id_overrides_other_filters(client: httpx.AsyncClient, api_key: str) -> None:
    number = await post(client, pothole(api_key))
    params = {"service_request_id": f"{number},nope", "service_code": "water-leak", "status": "closed"}
    found = (await client.get(f"{V2}/requests.json", params=params)).json()
    assert [r["service_request_id"] for r in found] == [number]


async def test_get_requests_page_size_limits_results(client: httpx.AsyncClient, api_key: str) -> None:
    await post(client, pothole(api_key))
    await post(client, pothole(api_key))
    found = (await client.get(f"{V2}/requests.json", params={"page_size": "1", "page": "2"})).json()
    assert len(found) == 1


async def test_token_in_both_formats_gives_request_id(client: httpx.AsyncClient, api_key: str) -> None:
    number = await post(client, pothole(api_key), fmt="xml")
    assert (await client.get(f"{V2}/tokens/{number}.json")).json() == [
        {"service_request_id": number, "token": number}
    ]
    root = xml(await client.get(f"{V2}/tokens/{number}.xml"), "service_requests")
    assert root.findtext("request/token") == number


def errors_of(response: httpx.Response, fmt: str) -> list[dict[str, Any]]:
    if fmt == "json":
        assert response.headers["content-type"].startswith("application/json")
        body: list[dict[str, Any]] = response.json()
        return body
    root = xml(response, "errors")
    return [{"code": int(e.findtext("code") or 0), "description": e.findtext("description")} for e in root]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_request_without_api_key_is_403_in_spec_format(
    client: httpx.AsyncClient, fmt: str
) -> None:
    response = await client.post(f"{V2}/requests.{fmt}", data=pothole("wrong"))
    assert response.status_code == 403
    assert errors_of(response, fmt)[0]["code"] == 403


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_request_without_location_is_400_in_spec_format(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    response = await client.post(f"{V2}/requests.{fmt}", data=pothole(api_key, address_string=""))
    assert response.status_code == 400
    assert "location" in errors_of(response, fmt)[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_post_request_without_required_attribute_is_400(
    client: httpx.AsyncClient, api_key: str, fmt: str
) -> None:
    body = {"api_key": api_key, "service_code": "lift-trapped", "address_string": "вул. Харківська, 12, Суми"}
    response = await client.post(f"{V2}/requests.{fmt}", data=body)
    assert response.status_code == 400
    assert "person-trapped" in errors_of(response, fmt)[0]["description"]


async def test_post_request_with_bad_lat_is_400_not_422(client: httpx.AsyncClient, api_key: str) -> None:
    response = await client.post(f"{V2}/requests.json", data=pothole(api_key, lat="north", long="34"))
    assert response.status_code == 400
    assert errors_of(response, "json")[0]["code"] == 400


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_service_is_404_in_spec_format(client: httpx.AsyncClient, fmt: str) -> None:
    response = await client.get(f"{V2}/services/no-such.{fmt}")
    assert response.status_code == 404
    assert errors_of(response, fmt)[0]["code"] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_request_is_404_in_spec_format(client: httpx.AsyncClient, fmt: str) -> None:
    response = await client.get(f"{V2}/requests/00-99999.{fmt}")
    assert response.status_code == 404
    assert errors_of(response, fmt)[0]["code"] == 404


async def test_date_window_over_90_days_is_400(client: httpx.AsyncClient) -> None:
    params = {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}
    response = await client.get(f"{V2}/requests.xml", params=params)
    assert response.status_code == 400
    assert errors_of(response, "xml")[0]["code"] == 400


async def test_bad_status_filter_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V2}/requests.json", params={"status": "pending"})
    assert response.status_code == 400


async def test_unknown_format_is_400_in_xml(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V2}/services.yaml")
    assert response.status_code == 400
    assert errors_of(response, "xml")[0]["code"] == 400


async def test_unknown_open311_path_is_404_in_spec_format(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{V2}/nothing/here.json")
    assert response.status_code == 404
    assert errors_of(response, "json")[0]["code"] == 404
