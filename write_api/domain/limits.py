"""The shop's business limits: what a command may carry, so every read model can store it.

One place for every bound. The read tables (money as numeric(14,2), counts as 32-bit
integers, names as varchar) and the search index (integer stock, scaled_float price)
are sized to hold these values; tests check that they agree. The largest order total
follows from the other limits (price x quantity x lines) rather than being checked
on its own.
"""

from __future__ import annotations

from decimal import Decimal

PRICE_MIN = Decimal("0.01")
PRICE_MAX = Decimal("1000000.00")
STOCK_MAX = 1_000_000
QUANTITY_MAX = 99
CART_LINES_MAX = 100
ORDER_TOTAL_MAX = PRICE_MAX * QUANTITY_MAX * CART_LINES_MAX
RATING_MIN, RATING_MAX = 1, 5

PRODUCT_NAME_MAX = 200
DESCRIPTION_MAX = 5_000
CATEGORY_NAME_MAX = 100
COMMENT_MAX = 2_000
EMAIL_MAX = 254
DISPLAY_NAME_MAX = 40
PASSWORD_MAX = 128
PAYMENT_TOKEN_MAX = 200
REFUND_REASON_MAX = 500
# Shipping address field -> (min, max) length; line2 may be empty.
ADDRESS_FIELDS = {
    "name": (1, 200),
    "line1": (1, 200),
    "line2": (0, 200),
    "city": (1, 100),
    "postcode": (1, 20),
    "country": (2, 2),
}

# Line breaks and tabs belong in descriptions and comments, never in a name or an address line.
_MULTILINE_ALLOWED = frozenset("\t\n\r")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` is not storable, clean text, or None when it is.

    PostgreSQL cannot store NUL in text or jsonb, and a lone surrogate (JSON "\\ud800")
    cannot be encoded as UTF-8 at all; other control characters are never typed by a
    person and the search index's autocomplete reserves some of them.
    """
    for character in value:
        code = ord(character)
        if code == 0:
            return "Must not contain the NUL character."
        if 0xD800 <= code <= 0xDFFF:
            return "Must not contain unpaired surrogate characters."
        if (code < 0x20 or 0x7F <= code < 0xA0) and not (
            multiline and character in _MULTILINE_ALLOWED
        ):
            return "Must not contain control characters."
    return None


def text_errors(
    value: str, *, max_length: int, min_length: int = 0, multiline: bool = False
) -> list[str]:
    """Every rule `value` breaks: clean text and a length within the bounds."""
    errors = []
    if not min_length <= len(value) <= max_length:
        if min_length:
            errors.append(f"Must be {min_length} to {max_length} characters.")
        else:
            errors.append(f"Must be at most {max_length} characters.")
    problem = text_problem(value, multiline=multiline)
    if problem:
        errors.append(problem)
    return errors
