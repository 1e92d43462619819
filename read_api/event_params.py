"""Query parameters of the event feed and the event export, and whose personal data shows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from contracts.envelope import AGGREGATE_TYPES
from contracts.event_types import EVENT_TYPES
from read_api.event_export import EventFilters

FULL, PSEUDONYMISED = "full", "pseudonymised"


class EventFilterParams(serializers.Serializer):
    after = serializers.IntegerField(
        min_value=0, default=0, help_text="Only events after this position (resume here)."
    )
    type = serializers.ChoiceField(choices=sorted(EVENT_TYPES), required=False, default=None)
    aggregate_type = serializers.ChoiceField(
        choices=sorted(AGGREGATE_TYPES), required=False, default=None
    )
    aggregate_id = serializers.UUIDField(required=False, default=None)
    since = serializers.DateTimeField(
        required=False, default=None, help_text="Occurred at or after."
    )
    until = serializers.DateTimeField(
        required=False, default=None, help_text="Occurred at or before."
    )
    personal = serializers.ChoiceField(
        choices=[PSEUDONYMISED, FULL],
        required=False,
        default=None,
        help_text="Personal data in full (admins only; their default) or pseudonymised "
        "(always for analysts).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since > until:
            raise serializers.ValidationError({"since": ["Must not be after until."]})
        return attrs


def filters_of(params: dict[str, Any]) -> EventFilters:
    return EventFilters(
        type=params["type"],
        aggregate_type=params["aggregate_type"],
        aggregate_id=params["aggregate_id"],
        since=params["since"],
        until=params["until"],
    )


def personal_key(request: Request, wanted: str | None) -> bytes | None:
    """None when the caller sees personal data in full (an admin), else the pseudonym key."""
    is_admin = getattr(request.user, "role", None) == "admin"
    if wanted == FULL and not is_admin:
        raise PermissionDenied("Only admins may read personal data in full.")
    if is_admin and wanted != PSEUDONYMISED:
        return None
    key: bytes = settings.PSEUDONYM_KEY
    return key
