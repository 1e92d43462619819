"""Emails already sent, keyed by the event that caused them."""

from django.db import models


class SentEmail(models.Model):
    """One notification per event id: a re-delivered event or task finds it and sends nothing."""

    event_id = models.UUIDField(primary_key=True)
    kind = models.CharField(max_length=50)
    order_id = models.UUIDField()
    recipient = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        app_label = "projections"

    def __str__(self) -> str:
        return f"{self.kind} for {self.order_id}"
