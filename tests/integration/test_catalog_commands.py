"""Product and category commands over the write API: happy paths, refusals, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.actors import Actor, make_actor
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def create(actor: Actor, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Lamp", "description": "Warm light", "price": "30.00", "stock": 5, **overrides}
    response = actor.client.post("/api/v1/products", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def category(admin: Actor, name: str, parent_id: str | None = None) -> dict[str, Any]:
    response = admin.client.post(
        "/api/v1/categories", {"name": name, "parent_id": parent_id}, format="json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def test_categories_nest_and_report_their_materialized_path(admin: Actor) -> None:
    # when
    home = category(admin, unique("Home"))
    kitchen = category(admin, "Kitchen", home["id"])
    mugs = category(admin, "Mugs", kitchen["id"])
    # then
    assert mugs["parent_id"] == kitchen["id"]
    assert mugs["path"] == f"{home['name']}/Kitchen/Mugs"
    assert mugs["ancestor_ids"] == [home["id"], kitchen["id"], mugs["id"]]


def test_category_rename_and_move_answer_with_the_new_path(admin: Actor) -> None:
    # given
    home, garden = category(admin, unique("Home")), category(admin, unique("Garden"))
    tools = category(admin, "Tools", home["id"])
    # when
    response = admin.client.patch(
        f"/api/v1/categories/{tools['id']}",
        {"name": "Hand tools", "parent_id": garden["id"]},
        format="json",
    )
    # then
    assert response.status_code == 200
    assert response.json()["path"] == f"{garden['name']}/Hand tools"


def test_category_refusals(admin: Actor, shop_app: Shop) -> None:
    # given
    home = category(admin, unique("Home"))
    kitchen = category(admin, "Kitchen", home["id"])
    version = shop_app.category_tree().version
    # when
    sibling = admin.client.post(
        "/api/v1/categories", {"name": "kitchen", "parent_id": home["id"]}, format="json"
    )
    cycle = admin.client.patch(
        f"/api/v1/categories/{home['id']}", {"parent_id": kitchen["id"]}, format="json"
    )
    unknown_parent = admin.client.post(
        "/api/v1/categories", {"name": "X", "parent_id": str(uuid.uuid4())}, format="json"
    )
    unknown = admin.client.patch(f"/api/v1/categories/{uuid.uuid4()}", {"name": "Y"}, format="json")
    empty = admin.client.patch(f"/api/v1/categories/{home['id']}", {}, format="json")
    # then
    assert (sibling.status_code, list(sibling.json()["error"]["details"])) == (400, ["name"])
    assert (cycle.status_code, list(cycle.json()["error"]["details"])) == (400, ["parent_id"])
    assert (unknown_parent.status_code, list(unknown_parent.json()["error"]["details"])) == (
        400,
        ["parent_id"],
    )
    assert unknown.status_code == 404
    assert empty.status_code == 400
    assert shop_app.category_tree().version == version


def test_product_in_a_category_is_created_and_changed_in_one_patch(
    seller: Actor, admin: Actor, shop_app: Shop
) -> None:
    # given
    lighting = category(admin, unique("Lighting"))
    product = create(seller, category_id=lighting["id"])
    # when
    response = seller.client.patch(
        f"/api/v1/products/{product['id']}",
        {"name": "Desk lamp", "price": "27.5", "category_id": None},
        format="json",
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["price"], body["category_id"], body["version"]) == (
        "Desk lamp",
        "27.50",
        None,
        4,
    )
    kinds = [type(e).__name__ for e in shop_app.events.get(uuid.UUID(product["id"]))]
    assert kinds == ["Created", "DetailsChanged", "Repriced", "Recategorized"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["non_field_errors"]),
        ({"price": "0"}, ["price"]),
        ({"name": ""}, ["name"]),
        ({"category_id": str(uuid.UUID(int=1))}, ["category_id"]),
        ({"stock": 3}, ["stock"]),
        ({"seller_id": str(uuid.UUID(int=2))}, ["seller_id"]),
    ],
)
def test_product_patch_refuses_bad_input_and_changes_nothing(
    seller: Actor, shop_app: Shop, body: dict[str, Any], fields: list[str]
) -> None:
    product = create(seller)
    response = seller.client.patch(f"/api/v1/products/{product['id']}", body, format="json")
    assert response.status_code == 400
    assert sorted(response.json()["error"]["details"]) == sorted(fields)
    assert shop_app.get_product(uuid.UUID(product["id"])).version == 1


def test_stock_adjusts_by_delta_and_never_below_reserved(seller: Actor) -> None:
    # given
    product = create(seller, stock=5)
    path = f"/api/v1/products/{product['id']}/stock"
    # when
    added = seller.client.post(path, {"delta": 3}, format="json")
    too_many = seller.client.post(path, {"delta": -9}, format="json")
    not_int = seller.client.post(path, {"delta": "1"}, format="json")
    # then
    assert added.json() == {"id": product["id"], "stock": 8, "reserved": 0, "version": 2}
    assert too_many.status_code == 409
    assert too_many.json()["error"]["code"] == "stock_below_reserved"
    assert not_int.status_code == 400
    assert seller.client.post(path, {"delta": -8}, format="json").json()["stock"] == 0


def test_discontinued_product_refuses_changes_and_repeat_delete_is_harmless(seller: Actor) -> None:
    # given
    product = create(seller)
    path = f"/api/v1/products/{product['id']}"
    # when
    first = seller.client.delete(path)
    second = seller.client.delete(path)
    change = seller.client.patch(path, {"price": "1.00"}, format="json")
    stock = seller.client.post(f"{path}/stock", {"delta": 1}, format="json")
    # then
    assert (first.status_code, second.status_code) == (204, 204)
    assert (change.status_code, change.json()["error"]["code"]) == (409, "product_discontinued")
    assert stock.status_code == 409


def test_unknown_product_is_404_for_its_commands(seller: Actor) -> None:
    path = f"/api/v1/products/{uuid.uuid4()}"
    assert seller.client.patch(path, {"price": "1.00"}, format="json").status_code == 404
    assert seller.client.delete(path).status_code == 404
    assert seller.client.post(f"{path}/stock", {"delta": 1}, format="json").status_code == 404


def test_admin_creates_a_product_for_a_seller_and_a_seller_cannot(
    seller: Actor, admin: Actor, shop_app: Shop
) -> None:
    assert seller.user is not None
    on_behalf = create(admin, seller_id=str(seller.user.id))
    other = make_actor(shop_app, "seller")
    refused = other.client.post(
        "/api/v1/products",
        {
            "name": "X",
            "description": "",
            "price": "1.00",
            "stock": 1,
            "seller_id": str(seller.user.id),
        },
        format="json",
    )
    assert on_behalf["seller_id"] == str(seller.user.id)
    assert (refused.status_code, list(refused.json()["error"]["details"])) == (400, ["seller_id"])
