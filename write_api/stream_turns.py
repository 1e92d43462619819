"""Turns on hot streams: a command that lost an optimistic-concurrency race on some streams
(a flash sale's product) queues on their PostgreSQL advisory locks and reloads when its turn
comes, instead of replaying against whoever wins next.

The locks are taken in a transaction of their own, on a connection of the event store's pool:
the library loads and saves on whichever pooled connection is free, so no single transaction
spans a command's loads and its save. A transaction-level lock ends with that transaction
whatever happens (an error, a dropped connection), so a pooled connection never keeps one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresDatastore

# How long a command waits for its turn before it goes back to retrying with back-off.
TURN_TIMEOUT_MS = 1_000


def lock_key(stream_id: UUID) -> int:
    """The stream's advisory-lock key (a signed bigint), in a key space of its own."""
    digest = hashlib.blake2b(b"stream\n" + stream_id.bytes, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def turn(datastore: object, stream_ids: Iterable[UUID], timeout_ms: int) -> Iterator[bool]:
    """Hold the streams' locks for the block; True once they are all held.

    False, holding nothing, when the store is not PostgreSQL (the in-memory store of unit
    tests) or the wait outlasted `timeout_ms`. Keys are locked in ascending order, so two
    commands that want the same streams never wait for each other in a circle.
    """
    keys = sorted({lock_key(stream_id) for stream_id in stream_ids})
    if not keys or not isinstance(datastore, PostgresDatastore):
        yield False
        return
    with datastore.transaction(commit=False) as cursor:
        if _lock(cursor, keys, timeout_ms):
            yield True
            return
    yield False  # the timed-out transaction is rolled back: nothing held, connection back


def _lock(cursor: psycopg.Cursor[Any], keys: list[int], timeout_ms: int) -> bool:
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(timeout_ms)}ms"])
    try:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
    except psycopg.errors.LockNotAvailable:
        return False
    return True
