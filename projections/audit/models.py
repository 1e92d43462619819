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
            models.Index(
                concerned_order(),
                condition=models.Q(aggregate_type__in=ORDER_CONCERNS),
                name="audit_events_by_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.position} {self.type}"
