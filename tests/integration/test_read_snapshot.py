"""Reads of a row and its children see one committed state (read_api.snapshot)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError

from projections.models import ProjectionCheckpoint
from read_api.snapshot import one_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def committed_elsewhere(change: Callable[[], object]) -> None:
    """Run `change` on another connection (another thread's) and commit it."""

    def run() -> None:
        try:
            change()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)


def read_twice_around_a_commit(block: AbstractContextManager[object]) -> tuple[int, int]:
    row = ProjectionCheckpoint.objects.create(projector="snapshot-test", partition="p", position=1)
    with block:
        first = ProjectionCheckpoint.objects.get(pk=row.pk).position
        committed_elsewhere(
            lambda: ProjectionCheckpoint.objects.filter(pk=row.pk).update(position=2)
        )
        second = ProjectionCheckpoint.objects.get(pk=row.pk).position
    return first, second


@pytest.fixture
def outside_any_transaction() -> None:
    """transaction=True: the test runs in autocommit, as a read API request does."""
    assert not connection.in_atomic_block


def test_two_reads_in_one_snapshot_do_not_see_a_commit_landing_between_them(
    outside_any_transaction: None,
) -> None:
    # when
    seen = read_twice_around_a_commit(one_snapshot())
    # then
    assert seen == (1, 1)
    assert ProjectionCheckpoint.objects.get(projector="snapshot-test").position == 2


def test_without_it_the_second_read_sees_the_commit(outside_any_transaction: None) -> None:
    # when: the control, showing what the snapshot prevents
    seen = read_twice_around_a_commit(nullcontext())
    # then
    assert seen == (1, 2)


def test_a_snapshot_is_read_only(outside_any_transaction: None) -> None:
    # when / then
    with pytest.raises(InternalError, match="read-only"), one_snapshot():
        ProjectionCheckpoint.objects.create(projector="snapshot-test", partition="q")


def test_inside_a_transaction_already_open_it_takes_that_one(
    outside_any_transaction: None,
) -> None:
    # given: an open transaction that has written (SET TRANSACTION would fail now)
    with transaction.atomic():
        ProjectionCheckpoint.objects.create(projector="snapshot-test", partition="r")
        # when
        with one_snapshot():
            found = ProjectionCheckpoint.objects.filter(projector="snapshot-test").count()
    # then
    assert found == 1
