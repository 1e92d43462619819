"""Long histories for snapshot tests: repeated purchases, and a count of the rows a load reads."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from tests.support.shop_data import ADDRESS, CONTEXT
from write_api.application import Shop


class RowsRead:
    """Counts the stored events or snapshots a recorder hands out (the real recorder answers)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, recorder: Any) -> None:
        self.rows = 0
        select = recorder.select_events

        def counted(*args: Any, **kwargs: Any) -> Any:
            rows = select(*args, **kwargs)
            self.rows += len(rows)
            return rows

        monkeypatch.setattr(recorder, "select_events", counted)


def buy(shop: Shop, customer: UUID, product: UUID, times: int, *, pay: bool = True) -> list[UUID]:
    """The customer buys one unit `times` times: add to cart, check out and (or not) pay."""
    orders = []
    for _ in range(times):
        shop.add_to_cart(customer_id=customer, product_id=product, quantity=1, context=CONTEXT)
        order = shop.check_out(customer_id=customer, shipping_address=ADDRESS, context=CONTEXT)
        if pay:
            shop.pay_order(order.id, charge_id=f"ch_{order.id}", context=CONTEXT)
        orders.append(order.id)
    return orders
