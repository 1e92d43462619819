"""Who and what caused an event: carried by every event the domain records."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, kw_only=True)
class CommandContext:
    """Actor and tracing ids of one command; stored on each event as a plain dict."""

    actor_id: str | None = None
    actor_role: str | None = None
    request_id: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    # W3C trace context of the command's span (adapters.tracing), None with tracing off.
    traceparent: str | None = None

    def as_event_metadata(self) -> dict[str, str | None]:
        """Without a trace (tracing off), no `traceparent` key: events stay as they were."""
        metadata = asdict(self)
        if metadata["traceparent"] is None:
            del metadata["traceparent"]
        return metadata


SYSTEM = CommandContext(actor_role="system")
