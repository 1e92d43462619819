"""A product state checkpoint holds the folded state exactly, through JSON."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

from projections.audit.product_checkpoints import decode, encode


def test_a_state_comes_back_from_json_exactly_with_its_times_decimals_and_uuids() -> None:
    # given
    state = {
        "id": "7d2c6e0a-3f4b-4c1e-9a55-0c8d1e2f3a4b",
        "name": "Lamp",
        "price": "19.90",
        "exact_price": Decimal("19.900"),
        "seller_id": UUID("0c8d1e2f-3a4b-4c1e-9a55-7d2c6e0a3f4b"),
        "stock": 4,
        "discontinued": False,
        "rating_average": None,
        "created_at": datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=2))),
    }
    # when
    back = decode(json.loads(json.dumps(encode(state))))
    # then
    assert back == state
    assert [type(back[f]) for f in ("exact_price", "seller_id", "created_at")] == [
        Decimal,
        UUID,
        datetime,
    ]
    assert str(back["exact_price"]) == "19.900"
    assert back["updated_at"].utcoffset() == timedelta(hours=2)
    assert back["created_at"].isoformat() == "2026-01-01T00:00:00.123456+00:00"
