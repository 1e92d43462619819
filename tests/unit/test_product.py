from decimal import Decimal
from uuid import uuid4

import pytest

from tests.support.shop_data import CONTEXT, add_category, create_product
from write_api.application import Shop
from write_api.domain.errors import Conflict, NotFound, ValidationFailed
from write_api.domain.limits import PRICE_MAX, STOCK_MAX
from write_api.domain.metadata import CommandContext

NUL = "\x00"
LONE_SURROGATE = "\ud800"  # what JSON "\ud800" parses to


def test_create_product_records_a_created_event_with_metadata(shop: Shop) -> None:
    # when
    saved = create_product(shop)
    # then
    product = shop.get_product(saved.id)
    assert saved.version == 1
    assert (product.name, product.price, product.stock, product.reserved) == (
        "Blue mug",
        Decimal("12.50"),
        3,
        0,
    )
    [stored] = shop.repository.event_store.get(saved.id)
    assert stored.metadata == {
        "actor_id": "a1",
        "actor_role": "seller",
        "request_id": "r1",
        "correlation_id": "r1",
        "causation_id": None,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("description", "d" * 5001),
        ("price", Decimal("0")),
        ("price", Decimal("-1")),
        ("price", Decimal("1.999")),
        ("price", Decimal("NaN")),
        ("stock", -1),
        # the shop's business limits (write_api/domain/limits.py)
        ("stock", 2**31),
        ("stock", STOCK_MAX + 1),
        ("price", PRICE_MAX + Decimal("0.01")),
        ("price", Decimal("999999999999.99")),
        ("name", f"Mug{NUL}"),
        ("name", f"Mug{LONE_SURROGATE}"),
        ("name", "Mug\nCup"),
        ("description", f"Holds{NUL} tea"),
    ],
)
def test_create_product_refuses_a_field_that_breaks_a_rule(
    shop: Shop, field: str, value: object
) -> None:
    # when
    with pytest.raises(ValidationFailed) as refused:
        create_product(shop, **{field: value})
    # then
    assert list(refused.value.details) == [field]
    assert shop.recorder.max_notification_id() is None


def test_get_product_raises_not_found_for_an_unknown_id(shop: Shop) -> None:
    with pytest.raises(NotFound):
        shop.get_product(uuid4())


def test_change_product_records_one_event_per_kind_of_change_in_one_save(shop: Shop) -> None:
    # given
    saved = create_product(shop)
    kitchen = add_category(shop, "Kitchen")
    # when
    changed = shop.change_product(
        saved.id,
        name="Green mug",
        description="Holds coffee",
        price=Decimal("9.00"),
        category_id=kitchen,
        context=CONTEXT,
    )
    # then
    events = list(shop.events.get(saved.id))
    assert [type(e).__name__ for e in events] == [
        "Created",
        "DetailsChanged",
        "Repriced",
        "Recategorized",
    ]
    product = shop.get_product(saved.id)
    assert changed.version == 4
    assert (product.name, product.description, product.price, product.category_id) == (
        "Green mug",
        "Holds coffee",
        Decimal("9.00"),
        kitchen,
    )


def test_change_product_with_the_same_values_records_nothing(shop: Shop) -> None:
    saved = create_product(shop)
    changed = shop.change_product(
        saved.id, name="Blue mug", price=Decimal("12.50"), category_id=None, context=CONTEXT
    )
    assert changed.version == 1


def test_change_product_refuses_an_unknown_category_and_stores_nothing(shop: Shop) -> None:
    saved = create_product(shop)
    with pytest.raises(ValidationFailed) as refused:
        shop.change_product(saved.id, name="New", category_id=uuid4(), context=CONTEXT)
    assert list(refused.value.details) == ["category_id"]
    assert shop.get_product(saved.id).version == 1


def test_adjust_stock_never_goes_below_reserved(shop: Shop) -> None:
    # given
    saved = create_product(shop, stock=3)
    # when
    shop.adjust_stock(saved.id, delta=2, context=CONTEXT)
    with pytest.raises(Conflict) as refused:
        shop.adjust_stock(saved.id, delta=-6, context=CONTEXT)
    # then
    assert refused.value.code == "stock_below_reserved"
    assert shop.get_product(saved.id).stock == 5


def test_a_discontinued_product_refuses_changes_but_keeps_its_history(shop: Shop) -> None:
    # given
    saved = create_product(shop)
    shop.discontinue_product(saved.id, context=CONTEXT)
    # when
    with pytest.raises(Conflict) as refused:
        shop.change_product(saved.id, price=Decimal("1.00"), context=CONTEXT)
    again = shop.discontinue_product(saved.id, context=CONTEXT)
    # then
    assert refused.value.code == "product_discontinued"
    assert again.version == 2
    assert [type(e).__name__ for e in shop.events.get(saved.id)] == ["Created", "Discontinued"]


def test_create_product_refuses_an_unknown_category(shop: Shop) -> None:
    with pytest.raises(ValidationFailed) as refused:
        create_product(shop, category_id=uuid4())
    assert list(refused.value.details) == ["category_id"]


def test_a_command_in_a_trace_stores_its_traceparent_with_the_event(shop: Shop) -> None:
    # given
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    context = CommandContext(actor_id="a1", actor_role="seller", traceparent=traceparent)
    # when
    saved = create_product(shop, context=context)
    # then
    [stored] = shop.repository.event_store.get(saved.id)
    assert stored.metadata["traceparent"] == traceparent
