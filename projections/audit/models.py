"""The audit log: every published event, queryable by aggregate, actor, type, time and position."""

from django.db import models
from django.db.models.fields.json import KT, KeyTextTransform

from contracts.envelope import ORDER_CONCERNS


def concerned_order() -> KeyTextTransform:
    """The order an event of another aggregate concerns (an escalation's), as text."""
    return KT("data__order_id")


class AuditEvent(models.Model):
    """One event as published, with who caused it and when."""

    event_id = models.UUIDField(primary_key=True)
    position = models.BigIntegerField(unique=True)
    aggregate_type = models.CharField(max_length=50)
    aggregate_id = models.UUIDField(db_index=True)
    version = models.IntegerField()
    type = models.CharField(max_length=100, db_index=True)
    schema = models.IntegerField(default=1)
    actor_id = models.CharField(max_length=64, blank=True, db_index=True)
    actor_role = models.CharField(max_length=32, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    data = models.JSONField()

    class Meta:
        app_label = "projections"
        ordering = ["position"]
        indexes = [
            # A product's history by version: time travel reads a bounded range of it.
            models.Index(fields=["aggregate_id", "version"], name="audit_events_by_version"),
            models.Index(
                concerned_order(),
                condition=models.Q(aggregate_type__in=ORDER_CONCERNS),
                name="audit_events_by_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position} {self.type}"


class ProductStateCheckpoint(models.Model):
    """A product's folded state after its audit rows up to `version`, every so many versions:
    time travel folds from the nearest one instead of from the product's first event."""

    product_id = models.UUIDField()
    version = models.IntegerField()
    rows = models.IntegerField()  # the product's audit rows at or below `version`
    occurred_at = models.DateTimeField()  # the latest time among those rows
    state = models.JSONField()  # projections.audit.product_checkpoints.encode

    class Meta:
        app_label = "projections"
        constraints = [
            models.UniqueConstraint(
                fields=["product_id", "version"], name="product_checkpoint_version"
            )
        ]
        indexes = [
            models.Index(fields=["product_id", "occurred_at"], name="product_checkpoint_time"),
            models.Index(fields=["product_id", "rows"], name="product_checkpoint_rows"),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} v{self.version}"
