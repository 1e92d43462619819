"""Counters of the shop's outcomes that matter to operators: checkouts and payments.

Labels are outcomes from a fixed vocabulary (a success word, or a DomainError's stable
code), never data of a request: no ids, emails, addresses, amounts or tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import Counter

from write_api.domain.errors import DomainError

CHECKOUTS = Counter(
    "shopstream_checkouts",
    "Checkouts, by outcome: placed, or the error code that refused it",
    ["outcome"],
)
PAYMENTS = Counter(
    "shopstream_payments",
    "Pay calls, by outcome: paid, payment_pending, or the error code (payment_declined, ...)",
    ["outcome"],
)
PAYMENT_NOTICES = Counter(
    "shopstream_payment_notices",
    "Verified gateway events, by outcome: applied, already_recorded, ignored, refused",
    ["outcome"],
)
PAYMENT_RECONCILIATIONS = Counter(
    "shopstream_payment_reconciliations",
    "Stalled payment attempts and pending refunds the reconciliation settled, by outcome",
    ["outcome"],
)
# Anything that is not a domain refusal (an outage, a bug): the envelope says 5xx.
FAILED = "error"


class Outcome:
    """What the counted block ended with; set it when success has more than one name."""

    def __init__(self, success: str) -> None:
        self.value = success


@contextmanager
def counted(counter: Counter, success: str) -> Iterator[Outcome]:
    """Count one call of a use case by how it ended; exceptions pass through unchanged."""
    outcome = Outcome(success)
    try:
        yield outcome
    except DomainError as refused:
        counter.labels(refused.code).inc()
        raise
    except Exception:
        counter.labels(FAILED).inc()
        raise
    counter.labels(outcome.value).inc()
