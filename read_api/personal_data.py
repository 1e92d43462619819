"""Which event data is personal, and the pseudonymised copy analysts get instead.

Every published event type is classified here (tests/unit/test_personal_data.py checks the
list against contracts.event_types): its personal fields are either *named* — an email,
a display name, a shipping address — and replaced by a stable keyed pseudonym, so an
analyst can still count and join on them, or *free text* — escalation messages, refund
reasons — and removed (set to null), since no pseudonym of a sentence is of use.

Not personal: ids (user, order, product ids are already opaque), amounts, statuses,
product names, a shipping address's country. Review comments stay: the read API shows
them to anyone next to the product (the reviewer's name does not stay).

An event type this module does not know loses all its data (fail closed): a new event
with personal fields must never reach analysts before someone has classified it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from contracts import event_types as events

PSEUDONYM_PREFIX = "anon_"
PSEUDONYM_HEX = 16
# Fields of a shipping address kept as they are (too coarse to single anyone out).
ADDRESS_KEPT = frozenset({"country"})

# type -> (fields replaced by a pseudonym, free-text fields removed)
NAMED: dict[str, frozenset[str]] = {
    events.ACCOUNT_CREATED: frozenset({"email", "display_name"}),
    events.REVIEW_CREATED: frozenset({"reviewer_name"}),
    # A carrier's tracking page shows where the parcel goes: as good as the address.
    events.ORDER_FULFILLED: frozenset({"tracking_number"}),
}
FREE_TEXT: dict[str, frozenset[str]] = {
    events.ESCALATION_OPENED: frozenset({"message"}),
    events.ESCALATION_MESSAGE_POSTED: frozenset({"message"}),
    events.ESCALATION_RESOLVED: frozenset({"message"}),
    events.ORDER_REFUND_REQUESTED: frozenset({"reason"}),
}
ADDRESSES: dict[str, frozenset[str]] = {
    events.ORDER_PLACED: frozenset({"shipping_address"}),
}
# Types whose data holds nothing personal: passed through unchanged. Listed one by one, so
# a new type is not passed through until someone has read its payload.
IMPERSONAL = frozenset(
    {
        events.ACCOUNT_DEACTIVATED,
        events.ACCOUNT_REACTIVATED,
        events.ACCOUNT_ROLE_CHANGED,
        events.CART_CREATED,
        events.CART_QUANTITY_SET,
        events.CART_ITEM_REMOVED,
        events.CART_CHECKED_OUT,
        events.CATEGORY_TREE_CREATED,
        events.CATEGORY_TREE_CATEGORY_ADDED,
        events.CATEGORY_TREE_CATEGORY_RENAMED,
        events.CATEGORY_TREE_CATEGORY_MOVED,
        events.ESCALATION_REFUND_STARTED,
        events.ESCALATION_REFUND_ABANDONED,  # its reason is a refusal code
        events.ORDER_PAYMENT_STARTED,
        events.ORDER_PAYMENT_RESUMED,
        events.ORDER_PAYMENT_PENDING,
        events.ORDER_PAYMENT_FAILED,
        events.ORDER_PAYMENT_AUTHORISED,
        events.ORDER_PAYMENT_VOIDED,
        events.ORDER_PAID,
        events.ORDER_STATUS_CHANGED,
        events.ORDER_CANCELLED,  # its reason is a code (customer, expired, refunded...)
        events.ORDER_FULFILMENT_DELIVERED,
        events.ORDER_REFUND_PENDING,
        events.ORDER_REFUND_SUCCEEDED,
        events.ORDER_REFUND_FAILED,  # its reason is the gateway's code
        events.PRODUCT_CREATED,
        events.PRODUCT_DETAILS_CHANGED,
        events.PRODUCT_REPRICED,
        events.PRODUCT_RECATEGORIZED,
        events.PRODUCT_STOCK_ADJUSTED,
        events.PRODUCT_RESERVED,
        events.PRODUCT_RESERVATION_RELEASED,
        events.PRODUCT_SOLD,
        events.PRODUCT_DISCONTINUED,
        events.PRODUCT_RESTOCKED,
        events.PURCHASES_CREATED,
        events.PURCHASES_ORDER_PAID,
    }
)
CLASSIFIED = IMPERSONAL | set(NAMED) | set(FREE_TEXT) | set(ADDRESSES)


def pseudonym(value: Any, key: bytes) -> str:
    """The same value always gives the same pseudonym under one key; without the key it
    cannot be reversed or recomputed from a guess."""
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + digest[:PSEUDONYM_HEX]


def pseudonymised(type_: str, data: Any, key: bytes) -> Any:
    """`data` of an event of `type_` with its personal fields replaced or removed."""
    if type_ not in CLASSIFIED or not isinstance(data, Mapping):
        return {}
    if type_ in IMPERSONAL:
        return data
    copy = dict(data)
    for name in NAMED.get(type_, ()):
        if copy.get(name):
            copy[name] = pseudonym(copy[name], key)
    for name in FREE_TEXT.get(type_, ()):
        if name in copy:
            copy[name] = None
    for name in ADDRESSES.get(type_, ()):
        if name in copy:
            copy[name] = _address(copy[name], key)
    return copy


def _address(address: Any, key: bytes) -> Any:
    if not isinstance(address, Mapping):
        return None if address is None else pseudonym(address, key)
    return {
        field: value if field in ADDRESS_KEPT or not value else pseudonym(value, key)
        for field, value in address.items()
    }
