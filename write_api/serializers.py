"""Shape checks shared by command views (types only; business rules live in the domain)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from write_api.fields import printable


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, so a typo or an attempt to set more is a 400."""

    def to_internal_value(self, data: Any) -> Any:
        unknown = {}
        if isinstance(data, dict):
            unknown = {
                printable(str(k)): ["This field is not allowed."]
                for k in sorted(set(data) - set(self.fields))
            }
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as invalid:
            if unknown and isinstance(invalid.detail, dict):
                raise serializers.ValidationError({**invalid.detail, **unknown}) from None
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class NonEmptyPatchSerializer(StrictSerializer):
    """A PATCH body must change something."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                {"non_field_errors": [f"Give at least one of: {', '.join(self.fields)}."]}
            )
        return attrs
