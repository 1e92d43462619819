"""Snapshots: an aggregate's state at a version, so that a load replays only what came after.

The library takes them (`Application.snapshotting_intervals`) once a save crosses an interval,
and its repository starts each load from the newest one. This module adds two things:

- A shape stamp. Every snapshot records the `class_version` of its aggregate class, and the
  snapshot store hands out only snapshots stamped with the class's current one. A class that
  changes the shape of its state raises its `class_version`: older snapshots are then ignored
  and the aggregate is rebuilt from its events, which stay the source of truth, until the next
  snapshot is taken.
- Encodings for state the JSON transcoder cannot write as it is: dicts keyed by UUIDs (cart
  lines, reservations, category nodes), sets, and the category tree's nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate, Snapshot
from eventsourcing.persistence import EventStore, JSONTranscoder, Transcoding
from eventsourcing.utils import get_topic, register_topic, resolve_topic

from write_api.domain.category import Node

SHAPE = "class_version"
# Attributes every aggregate has that a snapshot carries in its own fields, or not at all.
_BOOKKEEPING = frozenset({"_id", "_version", "_pending_events"})


def shape_of(aggregate_class: type) -> int:
    """The version of the state's shape an aggregate class declares (1 unless it says)."""
    return int(getattr(aggregate_class, SHAPE, 1))


class StampedSnapshot(Snapshot):
    """A snapshot that always records the shape (class version) of the state it holds."""

    TOPIC = "shopstream.snapshot"

    @classmethod
    def take(cls, aggregate: MutableOrImmutableAggregate[UUID]) -> StampedSnapshot:
        state = {
            name: _storable(value)
            for name, value in vars(aggregate).items()
            if name not in _BOOKKEEPING
        }
        state[SHAPE] = shape_of(type(aggregate))
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )


# Stored snapshots name this topic; found without importing a module path that may move.
register_topic(StampedSnapshot.TOPIC, StampedSnapshot)


def is_current(snapshot: DomainEventProtocol[UUID]) -> bool:
    """Stamped with the shape its aggregate class has now."""
    return isinstance(snapshot, StampedSnapshot) and snapshot.state.get(SHAPE) == shape_of(
        resolve_topic(snapshot.topic)
    )


class CurrentShapeSnapshots(EventStore[UUID]):
    """The snapshot store: snapshots of another shape are skipped as if never taken."""

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        stored = super().get(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return filter(is_current, stored)


class UUIDKeyed:
    """Marks a dict keyed by UUIDs in a snapshot's state (JSON object keys are strings)."""

    __slots__ = ("items",)

    def __init__(self, items: dict[Any, Any]) -> None:
        self.items = items


def _storable(value: object) -> object:
    if isinstance(value, dict) and not all(isinstance(key, str) for key in value):
        return UUIDKeyed(value)
    return value


class UUIDKeyedAsPairs(Transcoding):
    type = UUIDKeyed
    name = "uuid_keyed_pairs"

    def encode(self, obj: UUIDKeyed) -> list[list[Any]]:
        return [[key, value] for key, value in obj.items.items()]

    def decode(self, data: list[list[Any]]) -> dict[Any, Any]:
        return {key: value for key, value in data}


class SetAsList(Transcoding):
    type = set
    name = "set"

    def encode(self, obj: set[Any]) -> list[Any]:
        return list(obj)

    def decode(self, data: list[Any]) -> set[Any]:
        return set(data)


class NodeAsPair(Transcoding):
    type = Node
    name = "category_node"

    def encode(self, obj: Node) -> list[Any]:
        return [obj.name, obj.parent_id]

    def decode(self, data: list[Any]) -> Node:
        name, parent_id = data
        return Node(name, parent_id)


def register_snapshot_transcodings(transcoder: JSONTranscoder) -> None:
    for transcoding in (UUIDKeyedAsPairs(), SetAsList(), NodeAsPair()):
        transcoder.register(transcoding)
