"""Read tables of escalations, written only by the shopping projector (fold.py)."""

from django.db import models


class EscalationView(models.Model):
    """An escalation as its parties and admins follow it."""

    id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField(db_index=True)
    customer_id = models.UUIDField(db_index=True)
    status = models.CharField(max_length=16)
    reason = models.CharField(max_length=32)
    opened_at = models.DateTimeField(db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, blank=True, default="")
    # {id, amount, status} of the refund a refund resolution made.
    refund = models.JSONField(null=True, blank=True)
    version = models.IntegerField()

    class Meta:
        app_label = "projections"
        ordering = ["opened_at"]
        indexes = [models.Index(fields=["status", "opened_at"], name="escalations_by_status")]

    def __str__(self) -> str:
        return f"escalation {self.id} ({self.status})"


class EscalationMessageView(models.Model):
    """One message of an escalation: the opening complaint, the parties' replies, the verdict."""

    escalation = models.ForeignKey(
        EscalationView, related_name="messages", on_delete=models.CASCADE
    )
    by = models.CharField(max_length=64, blank=True)
    role = models.CharField(max_length=32, blank=True)
    message = models.TextField()
    at = models.DateTimeField()
    version = models.IntegerField()

    class Meta:
        app_label = "projections"
        ordering = ["version"]
        constraints = [
            models.UniqueConstraint(
                fields=["escalation", "version"], name="one_message_per_escalation_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.escalation_id} #{self.version} by {self.role}"
