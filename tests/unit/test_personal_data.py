"""Which event data analysts may see: every event type classified, pseudonyms keyed and stable."""

from __future__ import annotations

from contracts import event_types as events
from read_api.personal_data import (
    ADDRESSES,
    CLASSIFIED,
    FREE_TEXT,
    IMPERSONAL,
    NAMED,
    pseudonym,
    pseudonymised,
)

KEY = b"test-key"


def test_every_published_event_type_is_classified_once() -> None:
    # then: a new event type fails here until someone decides what of its data is personal
    assert events.EVENT_TYPES == CLASSIFIED
    groups = [IMPERSONAL, set(NAMED), set(FREE_TEXT), set(ADDRESSES)]
    assert sum(len(g) for g in groups) == len(set().union(*groups))


def test_a_pseudonym_is_stable_under_one_key_and_differs_under_another() -> None:
    # when
    first, again = pseudonym("ann@example.com", KEY), pseudonym("ann@example.com", KEY)
    other_key = pseudonym("ann@example.com", b"another")
    # then
    assert first == again
    assert first != other_key
    assert first.startswith("anon_")
    assert len(first) == len("anon_") + 16
    assert "ann" not in first


def test_an_account_keeps_its_role_and_loses_its_email_and_name() -> None:
    # given
    data = {"user_id": "u1", "email": "ann@example.com", "role": "customer", "display_name": "Ann"}
    # when
    shown = pseudonymised(events.ACCOUNT_CREATED, data, KEY)
    # then
    assert shown == {
        "user_id": "u1",
        "email": pseudonym("ann@example.com", KEY),
        "role": "customer",
        "display_name": pseudonym("Ann", KEY),
    }
    assert data["email"] == "ann@example.com"  # the stored data is not changed


def test_a_shipping_address_keeps_only_its_country() -> None:
    # given
    address = {"name": "Ann", "line1": "1 Main St", "line2": "", "city": "X", "country": "US"}
    data = {"order_id": "o1", "total": "5.00", "lines": [], "shipping_address": address}
    # when
    shown = pseudonymised(events.ORDER_PLACED, data, KEY)["shipping_address"]
    # then
    assert shown == {
        "name": pseudonym("Ann", KEY),
        "line1": pseudonym("1 Main St", KEY),
        "line2": "",
        "city": pseudonym("X", KEY),
        "country": "US",
    }


def test_free_text_is_removed_and_codes_stay() -> None:
    # when
    opened = pseudonymised(
        events.ESCALATION_OPENED, {"reason": "damaged", "message": "Call Ann on 555"}, KEY
    )
    # then
    assert opened == {"reason": "damaged", "message": None}


def test_data_of_an_unclassified_type_is_withheld_whole() -> None:
    assert pseudonymised("AccountEmailChanged", {"email": "ann@example.com"}, KEY) == {}
    paid = {"charge_id": "ch_1"}
    assert pseudonymised(events.ORDER_PAID, paid, KEY) == paid


def test_a_parcels_tracking_number_is_pseudonymised_and_its_carrier_kept() -> None:
    # given: a carrier's tracking page shows where the parcel is delivered
    data = {
        "fulfilment_id": "f1",
        "product_ids": ["p1"],
        "carrier": "DHL",
        "tracking_number": "JD0123",
    }
    # when
    seen = pseudonymised(events.ORDER_FULFILLED, data, KEY)
    # then
    assert seen == {**data, "tracking_number": pseudonym("JD0123", KEY)}
