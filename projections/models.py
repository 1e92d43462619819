"""Read tables and the bookkeeping that makes projection exactly-once in effect."""

from django.db import models
from django.utils import timezone

from projections.audit.models import AuditEvent, ProductStateCheckpoint
from projections.catalog.models import AggregateVersion, CategoryView, ProductView, ReviewView
from projections.escalations.models import EscalationMessageView, EscalationView
from projections.notifications.models import SentEmail
from projections.shopping.models import (
    CartLineView,
    CartView,
    OrderLineView,
    OrderRefundView,
    OrderStatusChange,
    OrderView,
)

__all__ = [
    "AggregateVersion",
    "AuditEvent",
    "CartLineView",
    "CartView",
    "CategoryView",
    "EscalationMessageView",
    "EscalationView",
    "OrderLineView",
    "OrderRefundView",
    "OrderStatusChange",
    "OrderView",
    "ParkedEvent",
    "PendingCacheBump",
    "ProductStateCheckpoint",
    "ProductView",
    "ProjectionCheckpoint",
    "RelayCheckpoint",
    "ReviewView",
    "SentEmail",
]


class RelayCheckpoint(models.Model):
    """Last notification-log position the relay saw acknowledged by Kafka."""

    name = models.CharField(max_length=200, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"


class ProjectionCheckpoint(models.Model):
    """Highest event-store position a projector applied from one Kafka partition.

    Positions rise within a partition (the relay publishes in log order), so a
    message at or below the checkpoint is a re-delivery and is skipped.
    """

    projector = models.CharField(max_length=200)
    partition = models.CharField(max_length=300)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["projector", "partition"], name="one_checkpoint_per_partition"
            )
        ]

    def __str__(self) -> str:
        return f"{self.projector} {self.partition} at {self.position}"


class ParkedEvent(models.Model):
    """An event a projector could not apply on its own merits, held for an operator.

    Parked in the transaction that moves the checkpoint past it; every later event of
    the same aggregate (same projector) parks behind it, so the aggregate's read row is
    visibly held back rather than wrong. `manage.py parked` and the admin redrive or
    skip it; nothing is ever deleted.
    """

    PARKED, REDRIVEN, SKIPPED = "parked", "redriven", "skipped"
    STATUSES = [(PARKED, "parked"), (REDRIVEN, "redriven"), (SKIPPED, "skipped")]

    projector = models.CharField(max_length=100)
    aggregate_id = models.CharField(max_length=200)
    # Event-store position; None for a message that could not even be read.
    position = models.BigIntegerField(null=True, blank=True)
    envelope = models.JSONField()
    # The exact envelope as JSON text, kept only when jsonb cannot hold it (NUL, lone surrogates).
    envelope_text = models.TextField(blank=True, default="")
    source = models.CharField(max_length=300, blank=True, default="")
    error = models.TextField()
    attempts = models.IntegerField(default=0)
    status = models.CharField(max_length=10, choices=STATUSES, default=PARKED)
    parked_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=200, blank=True, default="")
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["projector", "status", "aggregate_id"], name="parked_by_aggregate")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["projector", "aggregate_id", "position"],
                condition=models.Q(position__isnull=False),
                name="one_parking_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.projector} {self.aggregate_id} at {self.position} ({self.status})"


class PendingCacheBump(models.Model):
    """A cache generation to move forward, recorded with the rows it invalidates (an outbox).

    Flushed to Redis after the commit and deleted once Redis acknowledged, so neither a
    Redis stall nor a crash between commit and bump leaves a page stale.
    """

    key = models.CharField(max_length=300)
    recorded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key
