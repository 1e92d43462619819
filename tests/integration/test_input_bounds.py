"""Every command body is bounded to what the read models store: refusals are clean 400s.

Regressions of issue 8: stock 2^31 and a stock delta past the 32-bit column were accepted
(the catalog projector then failed with 'integer out of range'); a price of
999,999,999,999.99 let an order total overflow numeric(14,2); NUL and lone surrogates
reached read models that cannot store them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from tests.support.actors import Actor, make_actor
from tests.support.shop_data import ADDRESS
from write_api.application import Shop
from write_api.domain.limits import (
    CATEGORY_NAME_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    PRICE_MAX,
    PRODUCT_NAME_MAX,
    STOCK_MAX,
)
from write_api.domain.metadata import CommandContext

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

PRODUCT = {"name": "Teapot", "description": "Cast iron", "price": "45.00", "stock": 2}
NUL, LONE_SURROGATE = "\x00", "\ud800"  # JSON "\u0000" and "\ud800" parse to these


def post(actor: Actor, path: str, body: Any) -> Any:
    """Send `body` as JSON text, escapes and all (ensure_ascii writes "\\ud800" for a surrogate)."""
    return actor.client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def patch(actor: Actor, path: str, body: Any) -> Any:
    return actor.client.patch(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def assert_refused(response: Any, status: int, code: str, details: dict[str, Any]) -> None:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert (error["code"], error["details"]) == (code, details)


def new_product(shop_app: Shop, seller: Actor, **fields: Any) -> UUID:
    values = {
        "name": "Kettle",
        "description": "",
        "price": Decimal("20.00"),
        "category_id": None,
        "stock": 5,
        **fields,
    }
    return shop_app.create_product(
        **values,
        seller_id=seller.user.id,  # type: ignore[union-attr]
        context=CommandContext(),
    ).id


def test_stock_of_2_pow_31_is_refused_and_nothing_is_stored(seller: Actor, shop_app: Shop) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = post(seller, "/products", {**PRODUCT, "stock": 2**31})
    # then
    assert_refused(
        response,
        400,
        "validation_error",
        {"stock": [f"Ensure this value is less than or equal to {STOCK_MAX}."]},
    )
    assert shop_app.recorder.max_notification_id() == head


def test_a_delta_that_would_lift_stock_above_the_maximum_is_refused(
    seller: Actor, shop_app: Shop
) -> None:
    # given: a product at the largest stock there may be
    product = new_product(shop_app, seller, stock=STOCK_MAX)
    # when
    one_more = post(seller, f"/products/{product}/stock", {"delta": 1})
    huge = post(seller, f"/products/{product}/stock", {"delta": 2**31})
    # then
    assert_refused(one_more, 409, "stock_above_maximum", {"delta": ["At most 0 is allowed."]})
    assert_refused(
        huge,
        400,
        "validation_error",
        {"delta": [f"Ensure this value is less than or equal to {STOCK_MAX}."]},
    )
    stored = shop_app.get_product(product)
    assert (stored.stock, stored.version) == (STOCK_MAX, 1)


@pytest.mark.parametrize("price", ["999999999999.99", "1000000.01", 1e15, "0.001"])
def test_a_price_beyond_the_limits_is_refused_so_no_order_total_can_overflow(
    seller: Actor, shop_app: Shop, price: Any
) -> None:
    # given
    product = new_product(shop_app, seller)
    head = shop_app.recorder.max_notification_id()
    # when
    created = post(seller, "/products", {**PRODUCT, "price": price})
    repriced = patch(seller, f"/products/{product}", {"price": price})
    # then
    for response in (created, repriced):
        assert response.status_code == 400, response.content
        assert list(response.json()["error"]["details"]) == ["price"]
    assert shop_app.recorder.max_notification_id() == head
    assert shop_app.get_product(product).price == Decimal("20.00")


def test_the_highest_price_is_accepted(seller: Actor, shop_app: Shop) -> None:
    response = post(seller, "/products", {**PRODUCT, "price": str(PRICE_MAX)})
    assert response.status_code == 201, response.content
    assert response.json()["price"] == "1000000.00"


TEXT_CASES = [
    pytest.param(NUL, "Must not contain the NUL character.", id="nul"),
    pytest.param(LONE_SURROGATE, "Must not contain unpaired surrogate characters.", id="surrogate"),
]


@pytest.mark.parametrize(("bad", "message"), TEXT_CASES)
@pytest.mark.parametrize(
    ("field", "multiline"),
    [("name", False), ("description", True)],
)
def test_product_text_must_be_storable(
    seller: Actor, shop_app: Shop, bad: str, message: str, field: str, multiline: bool
) -> None:
    # given
    product = new_product(shop_app, seller)
    head = shop_app.recorder.max_notification_id()
    # when
    created = post(seller, "/products", {**PRODUCT, field: f"Tea{bad}pot"})
    changed = patch(seller, f"/products/{product}", {field: f"Tea{bad}pot"})
    # then
    for response in (created, changed):
        assert_refused(response, 400, "validation_error", {field: [message]})
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (
            {**PRODUCT, "name": "x" * (PRODUCT_NAME_MAX + 1)},
            {"name": [f"Ensure this field has no more than {PRODUCT_NAME_MAX} characters."]},
        ),
        (
            {**PRODUCT, "description": "x" * (DESCRIPTION_MAX + 1)},
            {"description": [f"Ensure this field has no more than {DESCRIPTION_MAX} characters."]},
        ),
        ({**PRODUCT, "name": "Tea\npot"}, {"name": ["Must not contain control characters."]}),
    ],
)
def test_product_text_lengths_and_line_breaks_are_bounded(
    seller: Actor, shop_app: Shop, body: dict[str, Any], details: dict[str, Any]
) -> None:
    head = shop_app.recorder.max_notification_id()
    assert_refused(post(seller, "/products", body), 400, "validation_error", details)
    assert shop_app.recorder.max_notification_id() == head


def test_a_description_keeps_its_line_breaks(seller: Actor) -> None:
    response = post(seller, "/products", {**PRODUCT, "description": "Cast iron.\n\tHolds 1 l."})
    assert response.status_code == 201, response.content
    assert response.json()["description"] == "Cast iron.\n\tHolds 1 l."


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (f"Kitchen{NUL}", "Must not contain the NUL character."),
        (f"Kitchen{LONE_SURROGATE}", "Must not contain unpaired surrogate characters."),
        ("k" * (CATEGORY_NAME_MAX + 1), "Ensure this field has no more than 100 characters."),
    ],
)
def test_category_names_must_be_storable(
    admin: Actor, shop_app: Shop, name: str, message: str
) -> None:
    head = shop_app.recorder.max_notification_id()
    assert_refused(
        post(admin, "/categories", {"name": name}), 400, "validation_error", {"name": [message]}
    )
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize(("bad", "message"), TEXT_CASES)
@pytest.mark.parametrize("field", ["name", "line1", "line2", "city", "postcode"])
def test_shipping_address_fields_must_be_storable(
    shop_app: Shop, seller: Actor, customer: Actor, bad: str, message: str, field: str
) -> None:
    # given: a cart with one line
    product = new_product(shop_app, seller)
    post(customer, "/cart/items", {"product_id": str(product), "quantity": 1})
    head = shop_app.recorder.max_notification_id()
    # when
    response = post(customer, "/checkout", {"shipping_address": {**ADDRESS, field: f"1{bad}"}})
    # then
    assert_refused(response, 400, "validation_error", {"shipping_address": {field: [message]}})
    assert shop_app.recorder.max_notification_id() == head
    assert shop_app.get_product(product).reserved == 0


def test_a_too_long_postcode_is_refused(shop_app: Shop, seller: Actor, customer: Actor) -> None:
    product = new_product(shop_app, seller)
    post(customer, "/cart/items", {"product_id": str(product), "quantity": 1})
    response = post(customer, "/checkout", {"shipping_address": {**ADDRESS, "postcode": "1" * 21}})
    assert_refused(
        response,
        400,
        "validation_error",
        {"shipping_address": {"postcode": ["Ensure this field has no more than 20 characters."]}},
    )


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        (f"Good{NUL}", "Must not contain the NUL character."),
        (f"Good{LONE_SURROGATE}", "Must not contain unpaired surrogate characters."),
        ("g" * (COMMENT_MAX + 1), f"Ensure this field has no more than {COMMENT_MAX} characters."),
    ],
)
def test_review_comments_must_be_storable(
    shop_app: Shop, seller: Actor, customer: Actor, comment: str, message: str
) -> None:
    # given: the customer paid for the product
    product = new_product(shop_app, seller)
    customer_id = customer.user.id  # type: ignore[union-attr]
    shop_app.add_to_cart(
        customer_id=customer_id, product_id=product, quantity=1, context=CommandContext()
    )
    order = shop_app.check_out(
        customer_id=customer_id, shipping_address=ADDRESS, context=CommandContext()
    )
    shop_app.pay_order(order.id, charge_id="ch_test", context=CommandContext())
    head = shop_app.recorder.max_notification_id()
    # when
    response = post(customer, f"/products/{product}/reviews", {"rating": 5, "comment": comment})
    # then
    assert_refused(response, 400, "validation_error", {"comment": [message]})
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": f"a{NUL}b@example.com", "password": "correct-horse-battery"}, "email"),
        ({"email": f"a{LONE_SURROGATE}@example.com", "password": "correct-horse-9"}, "email"),
        ({"email": "new@example.com", "password": f"correct{NUL}horse-battery"}, "password"),
        ({"email": "new@example.com", "password": f"correct{LONE_SURROGATE}horse"}, "password"),
    ],
)
def test_sign_up_refuses_unstorable_text(shop_app: Shop, body: dict[str, str], field: str) -> None:
    # given
    anonymous = make_actor(shop_app, None)
    head = shop_app.recorder.max_notification_id()
    # when
    response = post(anonymous, "/auth/signup", body)
    # then
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == [field]
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize("token", [f"tok_ok{NUL}", f"tok{LONE_SURROGATE}", "t" * 201])
def test_a_payment_token_must_be_clean_and_short(
    shop_app: Shop, seller: Actor, customer: Actor, token: str
) -> None:
    # given: a placed order
    product = new_product(shop_app, seller)
    post(customer, "/cart/items", {"product_id": str(product), "quantity": 1})
    order_id = post(customer, "/checkout", {"shipping_address": ADDRESS}).json()["order_id"]
    head = shop_app.recorder.max_notification_id()
    # when
    response = post(customer, f"/orders/{order_id}/pay", {"payment_token": token})
    # then
    assert response.status_code == 400, response.content
    assert list(response.json()["error"]["details"]) == ["payment_token"]
    assert shop_app.recorder.max_notification_id() == head
    assert shop_app.get_order(order_id).status == "pending_payment"


def test_an_unknown_field_named_with_a_lone_surrogate_is_a_400_not_a_500(
    seller: Actor, shop_app: Shop
) -> None:
    # given
    head = shop_app.recorder.max_notification_id()
    # when
    response = post(seller, "/products", {**PRODUCT, LONE_SURROGATE: 1})
    # then: the key is reported escaped, since UTF-8 cannot carry it
    assert_refused(response, 400, "validation_error", {"\\ud800": ["This field is not allowed."]})
    assert shop_app.recorder.max_notification_id() == head


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        (
            "/auth/signup",
            {"email": "new@example.com", "password": "correct-horse-battery", "role": "\ud800"},
            "role",
            "Must be one of: customer, seller.",
        ),
        (
            "/auth/signup",
            {"email": "x@example.com", "password": "correct-horse-9", "role": 5},
            "role",
            "Must be one of: customer, seller.",
        ),
    ],
)
def test_a_refused_choice_never_echoes_the_input(
    shop_app: Shop, path: str, body: dict[str, Any], field: str, message: str
) -> None:
    head = shop_app.recorder.max_notification_id()
    response = post(make_actor(shop_app, None), path, body)
    assert_refused(response, 400, "validation_error", {field: [message]})
    assert shop_app.recorder.max_notification_id() == head


def test_an_order_status_with_a_lone_surrogate_is_a_400(
    shop_app: Shop, seller: Actor, customer: Actor, admin: Actor
) -> None:
    # given: a paid order
    product = new_product(shop_app, seller)
    post(customer, "/cart/items", {"product_id": str(product), "quantity": 1})
    order_id = post(customer, "/checkout", {"shipping_address": ADDRESS}).json()["order_id"]
    post(customer, f"/orders/{order_id}/pay", {"payment_token": "tok_ok"})
    version = shop_app.get_order(order_id).version
    # when
    response = post(admin, f"/orders/{order_id}/status", {"status": LONE_SURROGATE})
    # then
    assert_refused(
        response,
        400,
        "validation_error",
        {"status": ["Must be one of: delivered, processing, shipped."]},
    )
    assert shop_app.get_order(order_id).version == version
