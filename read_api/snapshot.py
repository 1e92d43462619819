"""Read a row and its children as one committed state.

A projector writes a read row and its child rows (an order, its refunds and parcels) in one
transaction. Read in separate statements under READ COMMITTED, a commit landing between
them showed half of it: a refund that succeeded on an order that had not been refunded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def one_snapshot() -> Iterator[None]:
    """The block's queries see one snapshot (REPEATABLE READ, read only). Within a
    transaction already open (a test's, a caller's), that one's snapshot rules instead."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
