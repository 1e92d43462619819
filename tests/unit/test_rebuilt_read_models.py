"""The rebuild the fault tests compare read models with: folded from an in-memory store."""

from __future__ import annotations

import inspect
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from tests.support.marketplace import two_seller_order
from tests.support.rebuilt_read_models import ReadModels, differences, rebuilt
from tests.support.shop_data import ADDRESS, CONTEXT, add_category, create_product
from write_api.application import Shop
from write_api.published_events import event_id


def bought_and_reviewed(shop: Shop) -> tuple[str, str, str]:
    """A product in a category, bought (2 units) and reviewed; its, the order's, the buyer's id."""
    category = add_category(shop, "Kitchen")
    product = create_product(shop, category_id=category)
    customer = uuid4()
    shop.add_to_cart(customer_id=customer, product_id=product.id, quantity=2, context=CONTEXT)
    order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
    shop.pay_order(order.id, charge_id="ch_1", context=CONTEXT)
    review = {"customer_id": customer, "product_id": product.id, "rating": 4, "comment": "Fine"}
    # Main's reviews carry the reviewer's display name (issue 8); this branch's do not yet.
    if "reviewer_name" in inspect.signature(shop.write_review).parameters:
        review["reviewer_name"] = "Ann"
    shop.write_review(**review, context=CONTEXT)
    return str(product.id), str(order.id), str(customer)


def test_the_rebuild_folds_products_orders_carts_reviews_audit_and_emails(shop: Shop) -> None:
    # given
    product_id, order_id, customer_id = bought_and_reviewed(shop)
    # when
    models, touched = rebuilt(shop)
    # then
    product = models.products[product_id]
    assert (product["stock"], product["reserved"], product["version"]) == (1, 0, 3)
    assert (product["rating_average"], product["rating_count"]) == ("4.00", 1)
    assert models.documents[product_id]["category_names"] == ["Kitchen"]
    assert models.documents[product_id]["rating_average"] == 4.0
    order = models.orders[order_id]
    assert (order["status"], order["total"], order["version"]) == ("paid", "25.00", 2)
    assert order["currency"] == shop.currency
    assert order["lines"] == [
        (product_id, "Blue mug", "12.50", 2, product["seller_id"], product["category_id"])
    ]
    assert [h[:2] for h in order["history"]] == [(1, "pending_payment"), (2, "paid")]
    assert models.carts[customer_id]["lines"] == {}
    assert [r["rating"] for r in models.reviews.values()] == [4]
    assert len(models.audit) == shop.recorder.max_notification_id()
    assert [e["kind"] for e in models.emails.values()] == ["order_paid"]
    assert isinstance(next(iter(models.audit.values()))["occurred_at"], datetime)
    assert touched["orders"] == {order_id}
    assert product_id in touched["products"]


def test_an_escalation_expects_an_email_when_opened_and_when_resolved_naming_its_order(
    shop: Shop,
) -> None:
    # given
    _, order_id, customer_id = bought_and_reviewed(shop)
    since = shop.recorder.max_notification_id()
    opened = shop.open_escalation(
        UUID(order_id), customer_id=UUID(customer_id), reason="other", message="?", context=CONTEXT
    )
    shop.post_escalation_message(
        opened.id, author_id=UUID(customer_id), role="customer", message="!", context=CONTEXT
    )
    shop.reject_escalation(opened.id, message="No.", context=CONTEXT)
    # when
    models, touched = rebuilt(shop, since)
    # then
    escalation_emails = {event_id(opened.id, 1), event_id(opened.id, 3)}
    assert {k: models.emails[k] for k in escalation_emails} == {
        event_id(opened.id, 1): {"kind": "escalation_opened", "order_id": order_id},
        event_id(opened.id, 3): {"kind": "escalation_resolved", "order_id": order_id},
    }
    assert touched["emails"] == escalation_emails


def test_rows_only_events_after_a_position_touched_are_compared(shop: Shop) -> None:
    # given: an old product, then a new one
    old = str(create_product(shop, name="Old").id)
    since = shop.recorder.max_notification_id()
    new = str(create_product(shop, name="New").id)
    # when
    _, touched = rebuilt(shop, since)
    # then
    assert touched["products"] == {new}
    assert touched["documents"] == {new}
    assert touched["audit"] == {event_id(new, 1)}
    assert old not in touched["products"]


def test_differences_name_missing_unexpected_and_differing_rows(shop: Shop) -> None:
    # given: read models equal to the rebuild but for one of each kind of fault
    product_id, order_id, _ = bought_and_reviewed(shop)
    want, _ = rebuilt(shop)
    got = replace(
        want,
        products={product_id: {**want.products[product_id], "rating_count": 0}},
        orders={},
        reviews={**want.reviews, "stray": {"rating": 1}},
    )
    # when
    found = differences(want, got)
    # then
    assert found == {
        "products": {
            "differing": {"count": 1, "first": {product_id: {"rating_count": (1, 0)}}},
        },
        "orders": {"missing": {"count": 1, "first": [order_id]}},
        "reviews": {"unexpected": {"count": 1, "first": ["stray"]}},
    }
    assert differences(want, want) == {}


def test_differences_outside_the_touched_rows_are_not_blamed_except_stray_rows() -> None:
    # given
    want = ReadModels(products={"a": {"v": 1}, "b": {"v": 1}})
    got = ReadModels(products={"a": {"v": 2}, "b": {"v": 2}, "c": {"v": 1}})
    touched = {name: set() for name in vars(want)} | {"products": {"b"}}
    # when
    found = differences(want, got, touched)
    # then
    assert found == {
        "products": {
            "unexpected": {"count": 1, "first": ["c"]},
            "differing": {"count": 1, "first": {"b": {"v": (1, 2)}}},
        }
    }


def test_the_rebuild_folds_an_orders_parcels(shop: Shop) -> None:
    # given: seller A's parcel delivered, seller B's on its way
    order = two_seller_order(shop)
    a = shop.fulfil_order(
        order.order_id,
        product_ids=[order.mug, order.pot],
        carrier="DHL",
        tracking_number=None,
        seller_id=order.seller_a,
        context=CONTEXT,
    )
    shop.deliver_fulfilment(
        order.order_id, a.fulfilment_id, seller_id=order.seller_a, context=CONTEXT
    )
    b = shop.fulfil_order(
        order.order_id,
        product_ids=[order.lamp],
        carrier=None,
        tracking_number="T1",
        seller_id=order.seller_b,
        context=CONTEXT,
    )
    # when
    models, _ = rebuilt(shop)
    # then
    folded = models.orders[str(order.order_id)]
    assert folded["status"] == "shipped"
    assert folded["fulfilments"] == sorted(
        [
            (str(a.fulfilment_id), (str(order.mug), str(order.pot)), "delivered", "DHL", ""),
            (str(b.fulfilment_id), (str(order.lamp),), "shipped", "", "T1"),
        ]
    )
