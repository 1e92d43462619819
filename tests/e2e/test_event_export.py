"""The event export on the running read API (gunicorn, gthread): clients that leave mid-way."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.support.live_stack import LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

EVENTS = 200_000
SEED = """
INSERT INTO projections_auditevent
SELECT gen_random_uuid(), %(base)s + g, 'Product', gen_random_uuid(), 1, 'ProductRepriced', 1,
       '', '', 'bench', '', now(), jsonb_build_object('price', '19.99', 'pad', repeat('x', 300))
FROM generate_series(1, %(n)s) AS g
"""
# Sessions walking the audit log by position (an export's chunks, or the feed) now: running
# such a query, or between two of them (a walk queries every chunk, a fraction of a second
# apart). The API keeps idle connections for reuse, so an idle one of a past walk is fine.
WALKING_SESSIONS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND query LIKE '%%"projections_auditevent"."position" > %%'
  AND (state = 'active' OR state_change > now() - interval '1 second')
"""


def test_clients_that_leave_mid_export_free_their_thread_and_stop_reading_the_store(
    live_stack: LiveStack,
) -> None:
    # given: a long history (synthetic rows above every real position, removed afterwards)
    base = live_stack.sql("SELECT coalesce(max(position), 0) FROM projections_auditevent")[0][0]
    base += 10**9
    with psycopg.connect(live_stack.conninfo(), autocommit=True) as db:
        db.execute(SEED, {"base": base, "n": EVENTS})
    admin = live_stack.session("admin")
    export = f"{live_stack.read_url}/api/v2/events/export"
    try:
        # when: more clients than the API has threads (2 workers x 4) each read a little
        # of an export that takes many seconds to send, and hang up
        for _ in range(10):
            with admin.get(export, params={"after": base}, stream=True, timeout=10) as response:
                assert response.status_code == 200
                assert next(response.iter_content(64 * 1024))
        # then: within moments no export is reading the store any longer...
        time.sleep(2)
        samples = []
        for _ in range(30):
            samples.append(_walking_sessions(live_stack))
            time.sleep(0.1)
        assert samples == [0] * 30
        # ...and the API answers at once (no thread is stuck on a gone client)
        started = time.monotonic()
        feed = admin.get(f"{live_stack.read_url}/api/v2/events", params={"limit": 1}, timeout=5)
        assert feed.status_code == 200
        assert time.monotonic() - started < 2
    finally:
        with psycopg.connect(live_stack.conninfo(), autocommit=True) as db:
            db.execute("DELETE FROM projections_auditevent WHERE position > %s", (base,))


def _walking_sessions(stack: LiveStack) -> int:
    count: int = stack.sql(WALKING_SESSIONS)[0][0]
    return count
