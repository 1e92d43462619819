"""Schema versions of the published payloads, and the one place an older payload is brought to
the current shape.

An event's `schema` is the `class_version` of its domain event class (1 unless raised). When a
payload changes shape, its type gets a higher schema here, the domain event class the same
`class_version`, and an upcast from the previous schema below. The library runs the upcast on
stored events as it loads them (`upcast_vN_vN+1` on the event class); readers of envelopes and
of the audit log run the same function through `current_envelope` / `current_data`, so an
envelope an older relay published, or an audit row an older projector wrote, reads as today's.

Upcasts change the payload in place (the library's convention), on the decoded stored state
(UUIDs, Decimals) as on JSON data (strings): they only add keys, with values that are the same
in both.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from typing import Any

from contracts import event_types as events

# The shop's currency (ISO 4217), the settings' CURRENCY: new orders are placed in it, and each
# records it (OrderPlaced schema 2); its charges and refunds are in the order's. Orders placed
# before schema 2 did not record one; the shop had only this one (a charge in any other was
# refused), so an upcast gives them this one.
SHOP_CURRENCY = os.environ.get("SHOPSTREAM_CURRENCY", "USD")

Upcast = Callable[[dict[str, Any]], None]


def order_placed_v1_v2(data: dict[str, Any]) -> None:
    """Schema 2 of OrderPlaced records the order's `currency` and each line's `category_id`
    (the product's category at checkout, for sales by category however the catalog changes).

    Schema 1 orders were in the shop's currency. Their lines' categories were not recorded and
    cannot be told now (a product may have moved since): `category_id` is None, as for a
    product in no category.
    """
    data.setdefault("currency", SHOP_CURRENCY)
    for line in data["lines"]:
        line.setdefault("category_id", None)


# The current schema of each payload whose shape changed; every other type is at schema 1.
SCHEMAS: Mapping[str, int] = {events.ORDER_PLACED: 2}
# (type, schema) -> the upcast from that schema to the next.
UPCASTS: Mapping[tuple[str, int], Upcast] = {(events.ORDER_PLACED, 1): order_placed_v1_v2}


def schema_of(event_type: str) -> int:
    """The schema a payload of `event_type` is published in today."""
    return SCHEMAS.get(event_type, 1)


def current_data(event_type: str, schema: int, data: dict[str, Any]) -> dict[str, Any]:
    """`data` of `schema` in today's shape: the same object if it is already, else a copy."""
    if schema >= schema_of(event_type):
        return data
    data = copy.deepcopy(data)
    for version in range(schema, schema_of(event_type)):
        UPCASTS[(event_type, version)](data)
    return data


def current_envelope(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope with its data in today's schema (the same object if it is already)."""
    schema = envelope.get("schema") or 1
    if schema >= schema_of(envelope["type"]):
        return envelope
    data = current_data(envelope["type"], schema, envelope["data"])
    return {**envelope, "schema": schema_of(envelope["type"]), "data": data}
