from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from write_api.application import Saved, Shop
from write_api.domain.metadata import CommandContext

CONTEXT = CommandContext(actor_id="a1", actor_role="seller", request_id="r1", correlation_id="r1")


@pytest.fixture
def shop() -> Shop:
    return Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def create_product(shop: Shop, **overrides: Any) -> Saved:
    fields: dict[str, Any] = {
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


def add_category(shop: Shop, name: str, parent_id: UUID | None = None) -> UUID:
    category_id, _ = shop.add_category(name=name, parent_id=parent_id, context=CONTEXT)
    return category_id
