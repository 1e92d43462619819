"""Where the audit log is complete: the first stored event it does not hold yet.

The store numbers events in commit order, but the audit projector receives them from
several Kafka partitions, so a lower position can be written after a higher one. A reader
walking the log by position (the event feed, exports) must stop before such a hole, or it
would step over an event that lands later and never see it. An event the operator skipped
for the audit projector (`manage.py parked skip`) will never land: it is no hole. One
parked and not yet resolved is: the walk waits for it, as the audit log does.
"""

from __future__ import annotations

from django.db import connection

from projections.models import ParkedEvent
from projections.store_table import EVENTS_TABLE

FIRST_HOLE = f"""
SELECT min(stored.notification_id) FROM {EVENTS_TABLE} stored
WHERE stored.notification_id > %(after)s AND stored.notification_id <= %(through)s
  AND NOT EXISTS (
    SELECT 1 FROM projections_auditevent audited
    WHERE audited.position = stored.notification_id
      -- the range again: a merge anti-join then reads only the chunk's part of the index,
      -- never the index from its start (a plan seen on a small store)
      AND audited.position > %(after)s AND audited.position <= %(through)s
  )
  AND NOT EXISTS (
    SELECT 1 FROM projections_parkedevent parked
    WHERE parked.projector = 'audit' AND parked.status = %(skipped)s
      AND parked.position = stored.notification_id
  )
"""  # noqa: S608 - the table name is a constant; values are parameters


def first_hole(after: int, through: int) -> int | None:
    """The lowest stored position in (after, through] the audit log lacks, or None.

    Two index range scans bounded by the range, which a reader takes one chunk at a time.
    """
    if through <= after:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            FIRST_HOLE, {"after": after, "through": through, "skipped": ParkedEvent.SKIPPED}
        )
        row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])
