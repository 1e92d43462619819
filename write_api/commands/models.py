"""Records that make retried commands and re-delivered webhooks take effect once."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one user: the request's fingerprint and the first response."""

    # No database constraint: the record is inserted in the transaction of the command's events,
    # on the event store's connection, which must not wait on (or lock) the user's row. Django
    # still deletes a user's records with the user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_constraint=False
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.IntegerField(null=True)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_record_per_key")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}"


class GatewayEvent(models.Model):
    """A payment-gateway webhook event already applied (its id is the gateway's)."""

    event_id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}: {self.outcome}"
