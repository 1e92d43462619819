"""Read tables and the bookkeeping that makes projection exactly-once in effect."""

from django.db import models

from projections.audit.models import AuditEvent
from projections.catalog.models import AggregateVersion, CategoryView, ProductView, ReviewView
from projections.notifications.models import SentEmail
from projections.shopping.models import (
    CartLineView,
    CartView,
    OrderLineView,
    OrderStatusChange,
    OrderView,
)

__all__ = [
    "AggregateVersion",
    "AuditEvent",
    "CartLineView",
    "CartView",
    "CategoryView",
    "OrderLineView",
    "OrderStatusChange",
    "OrderView",
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
