"""Every projector says how it is replayed (or why it is not), and replays send nothing."""

from __future__ import annotations

import pytest

from projections.catalog.replay import Unindexed
from projections.registry import AGGREGATE_TYPES_BY_PROJECTOR, NOT_REPLAYABLE, PROJECTORS, REPLAYS
from projections.stored_events import read_ahead


def test_every_projector_is_replayable_or_says_why_not() -> None:
    # then
    assert set(REPLAYS) | set(NOT_REPLAYABLE) == set(PROJECTORS)
    assert not set(REPLAYS) & set(NOT_REPLAYABLE)


@pytest.mark.parametrize("name", sorted(REPLAYS))
def test_a_replay_reads_what_its_live_projector_reads(name: str) -> None:
    # when
    projector = REPLAYS[name].projector()
    # then
    assert projector.name == name
    assert tuple(projector.aggregate_types) == AGGREGATE_TYPES_BY_PROJECTOR[name]


def test_no_read_table_belongs_to_two_replays() -> None:
    # given
    tables = [t for replay in REPLAYS.values() for t in replay.tables]
    # then
    assert len(tables) == len(set(tables))


def test_the_catalog_replay_writes_no_search_document() -> None:
    # when
    projector = REPLAYS["catalog"].projector()
    # then
    assert isinstance(projector.search, Unindexed)  # type: ignore[attr-defined]
    assert projector.search.write([{"id": "x"}]) == 0  # type: ignore[attr-defined]


def test_reading_ahead_yields_every_item_in_order() -> None:
    # then
    assert list(read_ahead(iter(range(50)), depth=3)) == list(range(50))


def test_reading_ahead_raises_what_the_reader_raised() -> None:
    # given
    def failing() -> object:
        yield 1
        raise ValueError("store went away")

    # when
    items = read_ahead(failing())  # type: ignore[arg-type]
    # then
    assert next(items) == 1
    with pytest.raises(ValueError, match="store went away"):
        next(items)
