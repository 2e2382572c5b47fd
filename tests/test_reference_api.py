"""Reference data: every key reads it; only admins change it; changes apply to routing at once."""

from tests.conftest import Actors


async def test_every_key_reads_reference_lists(actors: Actors) -> None:
    for path in ("categories", "providers", "territories", "routing-rules", "streets"):
        response = await actors.client.get(f"/api/v1/{path}", headers=actors["reader"])
        assert response.status_code == 200 and response.json(), path


async def test_seeded_sumy_territory_is_complete(actors: Actors) -> None:
    territories = (await actors.client.get("/api/v1/territories", headers=actors["reader"])).json()
    kinds = [t["kind"] for t in territories]
    assert kinds.count("village") == 20 and kinds.count("starosta_district") == 4
    assert kinds.count("city_district") == 2
    streets = (await actors.client.get("/api/v1/streets", headers=actors["reader"])).json()
    assert len([s for s in streets if s["settlement_code"] == "sumy"]) >= 40
    categories = (await actors.client.get("/api/v1/categories", headers=actors["reader"])).json()
    providers = (await actors.client.get("/api/v1/providers", headers=actors["reader"])).json()
    assert len(categories) >= 20 and len(providers) >= 15


async def test_admin_creates_category_and_rule_that_routes(actors: Actors) -> None:
    admin = actors["admin"]
    category = await actors.client.post(
        "/api/v1/categories",
        json={
            "code": "fountains",
            "name": "Фонтани",
            "parent_code": "improvement",
            "evidence_required": True,
        },
        headers=admin,
    )
    assert category.status_code == 201, category.text
    assert category.json()["parent_code"] == "improvement"
    rule = await actors.client.post(
        "/api/v1/routing-rules",
        json={"category_code": "fountains", "provider_code": "zelenbud"},
        headers=admin,
    )
    assert rule.status_code == 201, rule.text
    created = await actors.file(category_code="fountains")
    assert created["provider"]["code"] == "zelenbud"


async def test_non_admin_cannot_change_reference(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/providers", json={"code": "x", "name": "X"}, headers=actors["supervisor"]
    )
    assert response.status_code == 403


async def test_duplicate_code_is_409(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/providers", json={"code": "miskvodokanal", "name": "Дубль"}, headers=actors["admin"]
    )
    assert response.status_code == 409


async def test_category_cannot_move_under_itself(actors: Actors) -> None:
    response = await actors.client.patch(
        "/api/v1/categories/water", json={"parent_code": "water-leak"}, headers=actors["admin"]
    )
    assert response.status_code == 422


async def test_deactivated_rule_stops_routing(actors: Actors) -> None:
    rules = (await actors.client.get("/api/v1/routing-rules", headers=actors["admin"])).json()
    water = next(r for r in rules if r["category_code"] == "water" and r["territory_code"] is None)
    patched = await actors.client.patch(
        f"/api/v1/routing-rules/{water['id']}", json={"active": False}, headers=actors["admin"]
    )
    assert patched.json()["active"] is False
    created = await actors.file()
    assert created["status"] == "received"


async def test_admin_adds_street_to_gazetteer(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/streets", json={"name": "вул. Нова", "territory_code": "zarichnyi"}, headers=actors["admin"]
    )
    assert response.status_code == 201 and response.json()["settlement_code"] == "sumy"
    created = await actors.file(address={"settlement": "Суми", "street": "Нова"})
    assert created["territory"]["code"] == "zarichnyi"
