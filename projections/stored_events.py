"""Stored events read straight from the event store (not from Kafka), in log order.

The store is read in pages (`recorder.select_notifications`: the notification log refuses
big sections); only the events of the aggregate types asked for are decoded, told by their
stored topic. Readers: the index rebuild and the projection replay.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

from eventsourcing.utils import resolve_topic

from write_api.published_events import EventLog, to_envelope

CHUNK = 5_000  # stored events read per query
Envelope = dict[str, Any]
T = TypeVar("T")


def pages(
    app: EventLog, aggregate_types: tuple[str, ...], after: int, stop: int | None = None
) -> Iterator[tuple[int, list[Envelope]]]:
    """Per page read: the last position read and the page's envelopes of `aggregate_types`.

    From notification position `after` (exclusive) up to `stop` (inclusive) or the end.
    """
    wanted = frozenset(aggregate_types)
    while stop is None or after < stop:
        notifications = app.recorder.select_notifications(
            start=after, limit=CHUNK, stop=stop, inclusive_of_start=False
        )
        if not notifications:
            return
        page = [
            to_envelope(app.mapper.to_domain_event(n), n.id)
            for n in notifications
            if aggregate_type_of(n.topic) in wanted
        ]
        after = notifications[-1].id
        yield after, page
        if len(notifications) < CHUNK:
            return


def stored_envelopes(
    app: EventLog, aggregate_types: tuple[str, ...], after: int, stop: int | None = None
) -> Iterator[Envelope]:
    """Every envelope of `aggregate_types` after position `after`, in log order."""
    for _, page in pages(app, aggregate_types, after, stop):
        yield from page


@functools.cache
def aggregate_type_of(topic: str) -> str:
    """The aggregate a stored event's topic belongs to (topics the library resolves, renames
    included), named as envelopes name it."""
    qualname: str = resolve_topic(topic).__qualname__
    return qualname.partition(".")[0]


def read_ahead(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """`items`, produced by a thread up to `depth` ahead: reading and decoding the next page
    overlap with the caller's writes (waits on either server release the GIL)."""
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        ready.put((True, item), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((False, None))
        except BaseException as error:  # noqa: BLE001 - raised again in the caller's thread
            ready.put((False, error))

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, item = ready.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
