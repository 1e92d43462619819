"""One replay of a projector at a time, and no redrive of its parked events meanwhile.

Both take the projector's replay lock, a session-level PostgreSQL advisory lock keyed
(hashtext('replay'), hashtext(projector)): the replay exclusively, for its whole run (a
second replay would drop the first one's generation); a redrive shared, while it redrives
(the replay holds a redriven aggregate's events back as they were when it started, so a
redrive meanwhile would leave them out of the new generation). Neither waits: the one that
comes second is refused. The other two-key advisory locks (`parking.lock_aggregates`) take
a projector's name as their first key, and no projector is named so that its hash is
hashtext('replay') (tests/integration/test_parked_events.py checks); one-key locks
(`write_api.commands.idempotency`) are a separate key space.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

from django.db import connection

from adapters.outages import is_outage

LOCK = "hashtext('replay'), hashtext(%s)"


class ReplayRunning(RuntimeError):
    """The projector's replay lock is taken: a replay (or a redrive) of it is running."""


def take(projector: str) -> bool:
    """The replay's lock, exclusively, for this session; False if anyone holds it."""
    return _one(f"SELECT pg_try_advisory_lock({LOCK})", projector)


def session() -> int:
    """This connection's PostgreSQL session (its backend), which holds session locks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [(pid,)] = cursor.fetchall()
    return int(pid)


def release(projector: str) -> None:
    _one(f"SELECT pg_advisory_unlock({LOCK})", projector)


@contextmanager
def one_replay_of(projector: str) -> Iterator[None]:
    """Held by a replay for its whole run."""
    if not take(projector):
        raise ReplayRunning(
            f"a replay of {projector} is already running (or a redrive of its parked events)"
        )
    try:
        yield
    finally:
        try:
            release(projector)
        except Exception as error:  # the session is gone, and its lock with it
            if not is_outage(error):
                raise


@contextmanager
def no_replay_of(projectors: Iterable[str]) -> Iterator[None]:
    """Held by a redrive of these projectors' parked events; refused while one replays."""
    with ExitStack() as held:
        for projector in sorted(set(projectors)):
            if not _one(f"SELECT pg_try_advisory_lock_shared({LOCK})", projector):
                raise ReplayRunning(
                    f"a replay of {projector} is running: redrive its parked events once it "
                    "has ended (nothing was redriven)"
                )
            held.callback(_one, f"SELECT pg_advisory_unlock_shared({LOCK})", projector)
        yield


def _one(query: str, projector: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(query, [projector])
        [(result,)] = cursor.fetchall()
    return bool(result)
