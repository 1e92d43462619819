"""/metrics and /health/projections: the pipeline as operators see it.

Both read the lag from PostgreSQL (`projections.lag`); when it cannot be read they answer
503 in the error envelope, never 500. /readyz stays about dependencies only: a lagging
projector must not take an API out of service.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.openapi import ErrorEnvelopeSerializer
from infra.errors import envelope
from infra.metrics import exposition
from projections.lag import PipelineLag, ProjectorLag, pipeline_lag

log = structlog.get_logger("shopstream.operations")

PROJECTOR_LAG = inline_serializer(
    "ProjectorLag",
    {
        "lag_events": serializers.IntegerField(),
        "lag_seconds": serializers.FloatField(),
        "parked_events": serializers.IntegerField(),
        "parked_oldest_age_seconds": serializers.FloatField(),
        "position": serializers.IntegerField(help_text="last event-store position it applied"),
        "lagging": serializers.ListField(
            child=serializers.CharField(), help_text="thresholds it is over; empty when healthy"
        ),
    },
)
PROJECTIONS_HEALTH = inline_serializer(
    "ProjectionsHealth",
    {
        "status": serializers.CharField(),
        "relay_lag_events": serializers.IntegerField(),
        "projectors": serializers.DictField(child=PROJECTOR_LAG),
    },
)


def database_unavailable(request: HttpRequest, error: DatabaseError) -> JsonResponse:
    log.warning("pipeline_lag_unreadable", error=repr(error))
    body = envelope(
        request,
        "database_unavailable",
        "The pipeline's positions cannot be read: PostgreSQL is unavailable.",
        {"postgres": f"{type(error).__name__}: {error}".strip()[:300]},
    )
    return JsonResponse(body, status=503)


def over_thresholds(projector: ProjectorLag) -> list[str]:
    """The thresholds a projector is over, named by their setting."""
    over = []
    if projector.lag_events > settings.PROJECTION_LAG_MAX_EVENTS:
        over.append("PROJECTION_LAG_MAX_EVENTS")
    if projector.lag_seconds > settings.PROJECTION_LAG_MAX_SECONDS:
        over.append("PROJECTION_LAG_MAX_SECONDS")
    if projector.parked_oldest_age_seconds > settings.PARKED_MAX_SECONDS:
        over.append("PARKED_MAX_SECONDS")
    return over


def projections_report(lag: PipelineLag) -> dict[str, Any]:
    projectors = {
        p.projector: {
            "lag_events": p.lag_events,
            "lag_seconds": round(p.lag_seconds, 3),
            "parked_events": p.parked_events,
            "parked_oldest_age_seconds": round(p.parked_oldest_age_seconds, 3),
            "position": p.position,
            "lagging": over_thresholds(p),
        }
        for p in lag.projectors
    }
    return {"relay_lag_events": lag.relay_lag_events, "projectors": projectors}


class MetricsApi(APIView):
    """Prometheus text format. A GET skips DRF (like /healthz): scrapers call it often."""

    authentication_classes: list[type] = []
    versioning_class = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "GET":
            return self.scrape(request)
        return super().dispatch(request, *args, **kwargs)

    @staticmethod
    def scrape(request: HttpRequest) -> HttpResponse:
        try:
            lag = pipeline_lag()
        except DatabaseError as error:
            return database_unavailable(request, error)
        return HttpResponse(exposition(lag), content_type=CONTENT_TYPE_LATEST)

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="Prometheus text exposition format"
            ),
            503: ErrorEnvelopeSerializer,
        }
    )
    def get(self, request: Request) -> HttpResponse:
        return self.scrape(request)


class ProjectionsHealthApi(APIView):
    """Each projector's lag; 503 naming the laggards when one is over a threshold."""

    authentication_classes: list[type] = []
    versioning_class = None

    @extend_schema(responses={200: PROJECTIONS_HEALTH, 503: ErrorEnvelopeSerializer})
    def get(self, request: Request) -> Response | JsonResponse:
        try:
            lag = pipeline_lag()
        except DatabaseError as error:
            return database_unavailable(request, error)
        report = projections_report(lag)
        laggards = sorted(name for name, p in report["projectors"].items() if p["lagging"])
        if not laggards:
            return Response({"status": "ok", **report})
        message = f"Projections behind: {', '.join(laggards)}."
        body = envelope(request, "projections_lagging", message, {"lagging": laggards, **report})
        return Response(body, status=503)
