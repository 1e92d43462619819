"""Hypothesis strategies for command bodies: valid up to every limit, or with one hostile field.

A body is mostly valid (so that commands are accepted and reach the read models), with
values at the limits themselves; otherwise one field is replaced by something hostile
(NUL, lone surrogates, control characters, one past a limit, 2^31, 2^63, a wrong type).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from write_api.domain.escalation_rules import MESSAGE_MAX, REASONS
from write_api.domain.limits import (
    ADDRESS_FIELDS,
    CARRIER_MAX,
    CATEGORY_NAME_MAX,
    COMMENT_MAX,
    DESCRIPTION_MAX,
    EMAIL_MAX,
    PRICE_MAX,
    PRODUCT_NAME_MAX,
    QUANTITY_MAX,
    STOCK_MAX,
    TRACKING_NUMBER_MAX,
)

Strategy = st.SearchStrategy
# Characters that PostgreSQL, UTF-8 or the search index treat specially.
SPECIAL = ["\x00", "\ud800", "\udfff", "\n", "\t", "\r", "\x1f", "\x1e", "\x7f", "\x85", " "]
ANY_CHARACTER = st.characters(exclude_categories=())  # lone surrogates included
READABLE = st.characters(categories=["L", "N"]) | st.sampled_from(" 𝄞☕é-/'")
HUGE = [2**31 - 1, 2**31, -(2**31) - 1, 2**63, "3", 2.5, None, True]


def readable(max_length: int, *, multiline: bool = False) -> Strategy[str]:
    """Valid text: a few readable words, or exactly `max_length` characters (4-byte ones too)."""
    alphabet = READABLE | st.sampled_from("\n\t") if multiline else READABLE
    words = st.text(alphabet, min_size=1, max_size=min(40, max_length)).filter(str.strip)
    full = st.sampled_from(["a" * max_length, "𝄞" * max_length])
    return st.one_of(words, words, words, full)


def hostile_text(max_length: int) -> Strategy[Any]:
    """Anything at all (often special characters), one character too long, blank or not text."""
    anything = st.lists(ANY_CHARACTER | st.sampled_from(SPECIAL), max_size=12).map("".join)
    special = st.builds(lambda c: f"Tea{c}pot", st.sampled_from(SPECIAL))
    return st.one_of(anything, special, st.sampled_from(["a" * (max_length + 1), "", " ", 5, None]))


def with_one_hostile(
    valid: dict[str, Strategy[Any]], hostile: dict[str, Strategy[Any]]
) -> Strategy[dict[str, Any]]:
    """A valid body (3 times in 5), else the same with one field made hostile or one unknown."""
    body = st.fixed_dictionaries(valid)
    spoiled = st.tuples(body, st.sampled_from(sorted(hostile))).flatmap(
        lambda pair: hostile[pair[1]].map(lambda bad: {**pair[0], pair[1]: bad})
    )
    unknown_key = st.sampled_from(["\ud800", "\x00", "is_staff"]) | st.text(
        ANY_CHARACTER | st.sampled_from(SPECIAL), min_size=1, max_size=5
    )
    extended = st.tuples(body, unknown_key).map(lambda pair: {**pair[0], pair[1]: 1})
    return st.one_of(body, body, body, spoiled, extended)


def mostly(strategy: Strategy[Any]) -> Strategy[Any]:
    """The strategy 3 times in 4, else None (the step is skipped)."""
    return st.one_of(strategy, strategy, strategy, st.none())


def category_name() -> Strategy[Any]:
    """Mostly a fresh name (siblings must differ), sometimes the longest or a hostile one."""
    fresh = st.builds(
        lambda words, tag: f"{words.strip()[:80]} {tag}",
        readable(80),
        st.uuids().map(lambda u: u.hex[:8]),
    )
    return st.one_of(fresh, fresh, readable(CATEGORY_NAME_MAX), hostile_text(CATEGORY_NAME_MAX))


def integer(typical: Strategy[int], *edges: int) -> Strategy[int]:
    return st.one_of(typical, typical, st.sampled_from(edges)) if edges else typical


def prices() -> Strategy[str]:
    typical = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
    return st.one_of(typical.map(str), st.sampled_from(["0.01", str(PRICE_MAX)]))


BAD_PRICES = st.sampled_from(
    [
        *("0", "0.001", "-1", "1.999", str(PRICE_MAX + Decimal("0.01")), "999999999999.99"),
        *("NaN", "1e400", 1e15, True, None),
    ]
)


def product_body() -> Strategy[dict[str, Any]]:
    return with_one_hostile(
        {
            "name": readable(PRODUCT_NAME_MAX),
            "description": st.just("") | readable(DESCRIPTION_MAX, multiline=True),
            "price": prices(),
            "stock": integer(st.integers(100, 1_000), 0, STOCK_MAX),
        },
        {
            "name": hostile_text(PRODUCT_NAME_MAX),
            "description": hostile_text(DESCRIPTION_MAX),
            "price": BAD_PRICES,
            "stock": st.sampled_from([-1, STOCK_MAX + 1, *HUGE]),
        },
    )


def product_patch() -> Strategy[dict[str, Any]]:
    changes = st.fixed_dictionaries(
        {},
        optional={
            "name": readable(PRODUCT_NAME_MAX),
            "description": readable(DESCRIPTION_MAX, multiline=True),
            "price": prices(),
        },
    )
    spoiled = st.fixed_dictionaries(
        {}, optional={"name": hostile_text(PRODUCT_NAME_MAX), "price": BAD_PRICES}
    )
    return st.one_of(changes, changes, spoiled)


def address() -> Strategy[dict[str, Any]]:
    plausible = {"name": "Ann", "line1": "1 Main St", "city": "Springfield", "postcode": "12345"}
    valid: dict[str, Strategy[Any]] = {
        field: st.just(value) | readable(ADDRESS_FIELDS[field][1])
        for field, value in plausible.items()
    }
    valid["line2"] = st.just("") | readable(ADDRESS_FIELDS["line2"][1])
    valid["country"] = st.sampled_from(["US", "DE", "FR"])
    hostile = {field: hostile_text(high) for field, (_, high) in ADDRESS_FIELDS.items()}
    return with_one_hostile(valid, hostile)


def review_body() -> Strategy[dict[str, Any]]:
    return with_one_hostile(
        {
            "rating": st.integers(1, 5),
            "comment": st.just("") | readable(COMMENT_MAX, multiline=True),
        },
        {"rating": st.sampled_from([0, 6, *HUGE]), "comment": hostile_text(COMMENT_MAX)},
    )


def parcel_body() -> Strategy[dict[str, Any]]:
    """How a seller's parcel travels (the lines it carries are the test's)."""
    return with_one_hostile(
        {
            "carrier": st.none() | readable(CARRIER_MAX),
            "tracking_number": st.none() | readable(TRACKING_NUMBER_MAX),
        },
        {
            "carrier": hostile_text(CARRIER_MAX),
            "tracking_number": hostile_text(TRACKING_NUMBER_MAX),
        },
    )


def escalation_body() -> Strategy[dict[str, Any]]:
    return with_one_hostile(
        {
            "reason": st.sampled_from(REASONS),
            "message": readable(MESSAGE_MAX, multiline=True),
        },
        {"reason": hostile_text(20), "message": hostile_text(MESSAGE_MAX)},
    )


def emails() -> Strategy[Any]:
    valid = st.emails().filter(lambda e: len(e) <= EMAIL_MAX)
    return st.one_of(valid, valid, valid, hostile_text(EMAIL_MAX).map(lambda t: f"{t}@example.com"))


def scenario() -> Strategy[dict[str, Any]]:
    """One seller's product and what happens to it: change, restock, buy, pay, review, ship,
    escalate."""
    return st.fixed_dictionaries(
        {
            "category": mostly(category_name()),
            "product": product_body(),
            "patch": mostly(product_patch()),
            "delta": mostly(
                integer(st.integers(-20, 1_000), STOCK_MAX, STOCK_MAX + 1, -STOCK_MAX - 1, 2**31)
            ),
            "quantity": mostly(
                integer(st.integers(1, 5), QUANTITY_MAX, 0, QUANTITY_MAX + 1, 2**31)
            ),
            "address": address(),
            "token": st.one_of(
                *[st.sampled_from(["tok_ok", "tok_ok", "tok_declined"])] * 3, hostile_text(200)
            ),
            "review": mostly(review_body()),
            "parcel": mostly(parcel_body()),
            "escalation": mostly(escalation_body()),
            "signup_email": mostly(emails()),
            "signup_role": st.one_of(
                *[st.sampled_from(["customer", "seller"])] * 3, hostile_text(10)
            ),
        }
    )


_QUIET = {
    "category": None,
    "patch": None,
    "delta": None,
    "quantity": None,
    "address": {},
    "token": "tok_ok",
    "review": None,
    "parcel": None,
    "escalation": None,
    "signup_email": None,
    "signup_role": "customer",
}
PRODUCT = {"name": "Teapot", "description": "", "price": "45.00", "stock": 2}
# Every limit at once: the longest texts (4-byte characters), the highest price, the most
# stock, a full line bought and reviewed.
AT_THE_LIMITS = {
    **_QUIET,
    "category": "c" * CATEGORY_NAME_MAX,
    "product": {
        "name": "𝄞" * PRODUCT_NAME_MAX,
        "description": "Line\n\t" * (DESCRIPTION_MAX // 6),
        "price": str(PRICE_MAX),
        "stock": STOCK_MAX,
    },
    "patch": {"name": "a" * PRODUCT_NAME_MAX},
    "delta": -1,
    "quantity": QUANTITY_MAX,
    "address": {
        field: ("US" if field == "country" else "𝄞" * high)
        for field, (_, high) in ADDRESS_FIELDS.items()
    },
    "review": {"rating": 5, "comment": "g\n" * (COMMENT_MAX // 2)},
    "parcel": {"carrier": "𝄞" * CARRIER_MAX, "tracking_number": "t" * TRACKING_NUMBER_MAX},
    "escalation": {"reason": "not_as_described", "message": "𝄞\n" * (MESSAGE_MAX // 2)},
    "signup_email": f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 57}.com",
}
# The bodies of issue 8's reproduction.
ISSUE_8 = [
    {**_QUIET, "product": {**PRODUCT, "stock": 2**31}},
    {**_QUIET, "product": {**PRODUCT, "stock": STOCK_MAX}, "delta": 1},
    {**_QUIET, "product": {**PRODUCT, "stock": 2**31 - 1}, "delta": 1},
    {**_QUIET, "product": {**PRODUCT, "price": "999999999999.99"}, "quantity": 2},
    {**_QUIET, "product": {**PRODUCT, "name": "Tea\x00pot"}},
    {**_QUIET, "product": {**PRODUCT, "description": "Tea\ud800pot"}},
]
