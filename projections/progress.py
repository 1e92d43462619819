"""Where projectors announce what they applied, so readers can wait for a version."""

from __future__ import annotations


def projected_channel(namespace: str, aggregate_id: str) -> str:
    return f"{namespace}:projected:{aggregate_id}"
