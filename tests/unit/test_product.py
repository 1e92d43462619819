from decimal import Decimal
from uuid import uuid4

import pytest

from write_api.application import Shop
from write_api.domain.errors import NotFound, ValidationFailed
from write_api.domain.metadata import CommandContext

CONTEXT = CommandContext(actor_id="a1", actor_role="seller", request_id="r1", correlation_id="r1")


@pytest.fixture
def shop() -> Shop:
    return Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def create(shop: Shop, **overrides: object):
    fields = {
        "name": "Blue mug",
        "description": "Holds tea.",
        "price": Decimal("12.50"),
        "category_id": None,
        "stock": 3,
        "seller_id": uuid4(),
        "context": CONTEXT,
    }
    fields.update(overrides)
    return shop.create_product(**fields)


def test_create_product_records_a_created_event_with_metadata(shop: Shop) -> None:
    # when
    saved = create(shop)
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
    ],
)
def test_create_product_refuses_a_field_that_breaks_a_rule(
    shop: Shop, field: str, value: object
) -> None:
    # when
    with pytest.raises(ValidationFailed) as refused:
        create(shop, **{field: value})
    # then
    assert list(refused.value.details) == [field]
    assert shop.recorder.max_notification_id() is None


def test_get_product_raises_not_found_for_an_unknown_id(shop: Shop) -> None:
    with pytest.raises(NotFound):
        shop.get_product(uuid4())
