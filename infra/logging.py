"""JSON logs through structlog for every process; request ids ride in context variables.

Access lines take a short path (`log_access`): one per request, they skip structlog's
processor chain and the caller lookup, and are rendered by a single json.dumps.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import structlog
from opentelemetry import trace


def trace_ids() -> dict[str, str]:
    """`trace_id` and `span_id` of the span running now; none without one (tracing off)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
    }


def add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: a log line names the trace it was written in."""
    event.update(trace_ids())
    return event


SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    add_trace_ids,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


ACCESS_LOGGER = "shopstream.access"
_access = logging.getLogger(ACCESS_LOGGER)


class AccessRecord(logging.LogRecord):
    """An access line: `msg` is its final event dict."""


def log_access(fields: dict[str, Any]) -> None:
    """Log one access line (a stdlib record, so handlers and pytest's caplog see it)."""
    if _access.isEnabledFor(logging.INFO):
        fields.update(trace_ids())
        _access.handle(AccessRecord(ACCESS_LOGGER, logging.INFO, __file__, 0, fields, None, None))


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter for every record, rendering access lines directly."""

    def __init__(self, service: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        if not isinstance(record, AccessRecord):
            return str(super().format(record))
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat()[:-6] + "Z"
        return json.dumps(
            {
                **record.msg,  # type: ignore[dict-item]
                "level": "info",
                "logger": ACCESS_LOGGER,
                "timestamp": stamp,
                "service": self.service,
            }
        )


def logging_config(level: str, service: str) -> dict[str, Any]:
    """Django LOGGING dict rendering stdlib and structlog records as one JSON line each."""
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": JsonFormatter,
                "service": service,
                "processors": [
                    lambda _, __, event: {**event, "service": service},
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(),
                ],
                "foreign_pre_chain": SHARED_PROCESSORS,
            }
        },
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            "django.request": {"level": "ERROR"},
            "kafka": {"level": "WARNING"},
            "opensearch": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
        },
    }
