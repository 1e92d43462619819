"""Where projectors announce what they applied, so readers can wait for a version."""

from __future__ import annotations

from collections.abc import Callable

from adapters.clients import redis_client


def projected_channel(namespace: str, aggregate_id: str) -> str:
    return f"{namespace}:projected:{aggregate_id}"


def version_announcer(namespace: str) -> Callable[[list[tuple[str, int]]], None]:
    """Publish each applied (aggregate id, version) for readers waiting on X-Min-Version.

    Best effort, on a short timeout: the projector loop logs a failure and goes on, and a
    reader that misses the announcement only waits out its bound and answers stale.
    """
    client = redis_client(timeout=0.5)

    def announce(applied: list[tuple[str, int]]) -> None:
        pipe = client.pipeline(transaction=False)
        for aggregate_id, version in applied:
            pipe.publish(projected_channel(namespace, aggregate_id), version)
        pipe.execute()

    return announce
