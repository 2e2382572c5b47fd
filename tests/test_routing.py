"""Routing at registration: territory from code or address, most specific rule wins."""

from tests.conftest import Actors


async def test_village_lighting_reaches_its_starosta(actors: Actors) -> None:
    created = await actors.file(
        category_code="street-lighting",
        address={"settlement": "Битиця", "street": "вул. Центральна", "house": "3"},
    )
    assert created["status"] == "routed"
    assert created["provider"]["code"] == "starosta-bytytskyi"
    assert created["territory"]["code"] == "bytytsia"


async def test_city_lighting_reaches_misksvitlo(actors: Actors) -> None:
    created = await actors.file(category_code="street-lighting")
    assert created["provider"]["code"] == "misksvitlo"


async def test_village_water_leak_still_reaches_vodokanal(actors: Actors) -> None:
    # A category rule beats a territory catch-all: water is the utility's everywhere.
    created = await actors.file(address={"settlement": "Стецьківка"})
    assert created["provider"]["code"] == "miskvodokanal"
    assert created["territory"]["code"] == "stetskivka"


async def test_explicit_territory_code_wins(actors: Actors) -> None:
    created = await actors.file(category_code="road-pothole", territory_code="pishchane", address=None)
    assert created["provider"]["code"] == "starosta-pishchanskyi"


async def test_street_found_with_other_spelling(actors: Actors) -> None:
    created = await actors.file(
        address={"settlement": "м. Суми", "street": "Харківська вулиця", "house": "1"}
    )
    assert created["address"]["street"] == "вул. Харківська"
    assert created["territory"]["code"] == "kovpakivskyi"


async def test_unknown_street_keeps_settlement_and_address(actors: Actors) -> None:
    created = await actors.file(address={"settlement": "Суми", "street": "вул. Неіснуюча", "house": "5"})
    assert created["territory"]["code"] == "sumy"
    assert created["address"]["street"] == "вул. Неіснуюча"
    assert created["status"] == "routed"


async def test_no_rule_stays_received_for_dispatcher(actors: Actors) -> None:
    created = await actors.file(category_code="gratitude")
    assert created["status"] == "received" and created["provider"] is None


async def test_unknown_territory_code_is_422(actors: Actors) -> None:
    response = await actors.client.post(
        "/api/v1/tickets",
        json={
            "channel": "web",
            "category_code": "water-leak",
            "description": "x",
            "territory_code": "atlantis",
        },
        headers=actors["operator"],
    )
    assert response.status_code == 422
