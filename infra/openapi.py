"""How both APIs describe themselves in OpenAPI: the error envelope and which errors each
operation can answer, component names, and strict request bodies.

Views declare their request body and success responses with `extend_schema`; the error
answers every operation shares (bad input, no token, wrong role, unknown id, rate limit,
backing service down) are derived here from the view itself, so none can be forgotten.
A view adds the refusals only it knows (402, 409, 422, ...) with `errors(...)`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle

from adapters.openapi import ERROR_DESCRIPTIONS, ErrorEnvelopeSerializer
from write_api.serializers import StrictSerializer

Direction = Literal["request", "response"]


class ShopstreamAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error answers and naming rules above."""

    def get_tags(self) -> list[str]:
        parts = [p for p in self.path.split("/") if p and not p.startswith("{")]
        if len(parts) >= 3 and parts[0] == "api":
            return [parts[2]]
        return ["service"]

    def get_operation_id(self) -> str:
        """`ProductListApi` GET -> `product_list_get`: unique, and stable when paths change."""
        view = type(self.view).__name__.removesuffix("Api").removesuffix("View")
        return re.sub(r"(?<!^)(?=[A-Z])", "_", view).lower() + "_" + self.method.lower()

    def get_serializer_name(self, serializer: serializers.Serializer, direction: Direction) -> str:
        """`SignupApi.InputSerializer` -> `Signup`: nested serializers named after their view."""
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if not outer or "<" in outer:
            return super().get_serializer_name(serializer, direction)
        view = outer.rsplit(".", 1)[-1].removesuffix("Api").removesuffix("View")
        inner = inner.removesuffix("Serializer")
        return view + ("" if inner in {"Input", "Patch"} else inner)

    def _map_basic_serializer(self, serializer: Any, direction: Direction) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False  # unknown fields are a 400
        return schema

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        for status in sorted(self.error_statuses() - {int(code) for code in responses}):
            responses[str(status)] = self._get_response_for_code(
                ErrorEnvelopeSerializer, str(status), direction=direction
            )
        for code, response in responses.items():
            if int(code) >= 400 and not response.get("description"):
                response["description"] = ERROR_DESCRIPTIONS.get(int(code), "")
        return dict(sorted(responses.items()))

    def error_statuses(self) -> set[int]:
        """The error answers this operation can give whatever it does."""
        if not self.path.startswith("/api/"):
            return set()  # /healthz, /readyz: each documents its own answers
        statuses = {503}
        has_body = self.method in {"POST", "PUT", "PATCH"} and bool(self.get_request_serializer())
        parameters = self._get_parameters()
        if has_body:
            statuses |= {400, 413, 415}
        if any(p["in"] != "path" for p in parameters):
            statuses.add(400)
        if any(p["in"] == "path" for p in parameters):
            statuses.add(404)
        if self.view.get_authenticators():
            statuses.add(401)  # a missing, expired or forged token
        if any(not isinstance(p, AllowAny) for p in self.view.get_permissions()):
            statuses |= {401, 403}
        if any(self._throttles(t) for t in self.view.get_throttles()):
            statuses.add(429)
        return statuses

    def _throttles(self, throttle: Any) -> bool:
        if isinstance(throttle, ScopedRateThrottle):
            return bool(getattr(self.view, "throttle_scope", None))
        return True
