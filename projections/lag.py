"""How far each projector and the relay are behind the event store, read from PostgreSQL.

A projector's checkpoint rows (one per Kafka partition, moved in the transaction that
writes its read rows) hold the highest store position it applied from that partition;
their maximum is the last position it applied. Every event of its aggregate types past
that position is lag: none is published yet, or none was applied. This needs no write of
its own. While partitions interleave within one poll, an event below the maximum may
still be in flight on another partition: that is at most one batch, and nothing once
the projector is caught up or stopped. Parked events are counted apart: the checkpoint
has moved past them.

`pipeline_lag()` costs a handful of index range scans, bounded by the lag itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from projections.registry import AGGREGATE_TYPES_BY_PROJECTOR
from projections.store_table import EVENTS_TABLE
from write_api.published_events import AGGREGATES

# A stored event's topic is its aggregate's TOPIC and the event's name ("shopstream.order.Paid").
AGGREGATE_TOPICS = {a.__name__: str(vars(a)["TOPIC"]) for a in AGGREGATES}
_AGGREGATE_TOPIC = r"regexp_replace(topic, '\.[^.]*$', '')"
# Bounded, so a scrape or a health check never hangs on a locked or slow database.
STATEMENT_TIMEOUT_MS = 2000

PROJECTOR_LAG = f"""
WITH applied AS (
    SELECT coalesce(max(position), 0) AS position
    FROM projections_projectioncheckpoint WHERE projector = %(checkpoint)s
), pending AS (
    SELECT notification_id FROM {EVENTS_TABLE}, applied
    WHERE notification_id > applied.position AND {_AGGREGATE_TOPIC} = ANY(%(topics)s)
)
SELECT (SELECT position FROM applied),
       (SELECT count(*) FROM pending),
       (SELECT greatest(0, extract(epoch FROM clock_timestamp() - (
            convert_from(state, 'UTF8')::jsonb #>> '{{timestamp,_data_}}')::timestamptz))
        FROM {EVENTS_TABLE}
        WHERE notification_id = (SELECT min(notification_id) FROM pending))
"""  # noqa: S608 - the table name is a constant; values are parameters
RELAY_LAG = f"""
SELECT count(*) FROM {EVENTS_TABLE} WHERE notification_id > coalesce(
    (SELECT position FROM projections_relaycheckpoint WHERE name = %s), 0)
"""  # noqa: S608 - the table name is a constant
PARKED = """
SELECT projector, count(*),
       greatest(0, extract(epoch FROM clock_timestamp() - min(parked_at)))
FROM projections_parkedevent WHERE status = 'parked' GROUP BY projector
"""


@dataclass(frozen=True)
class ProjectorLag:
    projector: str
    position: int  # the last store position it applied
    lag_events: int
    lag_seconds: float  # age of the oldest event it has not applied; 0 when none
    parked_events: int
    parked_oldest_age_seconds: float  # 0 when nothing is parked


@dataclass(frozen=True)
class PipelineLag:
    relay_lag_events: int
    projectors: list[ProjectorLag]


def pipeline_lag() -> PipelineLag:
    """Read in one short transaction; raises DatabaseError when PostgreSQL is away or slow."""
    prefix = settings.TOPIC_PREFIX
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
        cursor.execute(RELAY_LAG, [f"{prefix}relay"])
        (relay_lag,) = cursor.fetchone() or (0,)
        cursor.execute(PARKED)
        parked = {name: (int(count), float(age)) for name, count, age in cursor.fetchall()}
        projectors = []
        for name, types in AGGREGATE_TYPES_BY_PROJECTOR.items():
            topics = [AGGREGATE_TOPICS[t] for t in types]
            cursor.execute(PROJECTOR_LAG, {"checkpoint": f"{prefix}{name}", "topics": topics})
            position, lag_events, lag_seconds = cursor.fetchone() or (0, 0, None)
            parked_count, parked_age = parked.get(name, (0, 0.0))
            projectors.append(
                ProjectorLag(
                    projector=name,
                    position=int(position),
                    lag_events=int(lag_events),
                    lag_seconds=float(lag_seconds or 0.0),
                    parked_events=parked_count,
                    parked_oldest_age_seconds=parked_age,
                )
            )
    return PipelineLag(relay_lag_events=int(relay_lag), projectors=projectors)
