"""v2: the event history streamed as a download (NDJSON or CSV), in store order."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from read_api.event_export import CONTENT_TYPES, export_stream
from read_api.event_params import EventFilterParams, filters_of, personal_key
from read_api.permissions import ReadsHistory


class FirstRenderer(BaseContentNegotiation):
    """`?format=` names the export's format here, not one of DRF's renderers: errors are
    always rendered by the first (JSON) renderer."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class EventExportApi(APIView):
    """Every matching event, read from the store in chunks and streamed in constant memory
    (analysts: personal data pseudonymised; admins: in full unless they ask otherwise).
    Resume a cut download with `after` = the last position received."""

    permission_classes = [ReadsHistory]
    content_negotiation_class = FirstRenderer

    class ParamsSerializer(EventFilterParams):
        format = serializers.ChoiceField(choices=sorted(CONTENT_TYPES), default="ndjson")

    @extend_schema(versions=["v1"], exclude=True)
    @extend_schema(
        parameters=[ParamsSerializer],
        responses={
            (200, media): OpenApiResponse(OpenApiTypes.BINARY, description="The events.")
            for media in ("application/x-ndjson", "text/csv")
        },
    )
    def get(self, request: Request, version: str) -> StreamingHttpResponse:
        if version != "v2":
            raise NotFound("The event export is a v2 endpoint.")
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        key = personal_key(request, data["personal"])
        format_ = data["format"]
        stream = export_stream(format_, filters_of(data), after=data["after"], key=key)
        response = StreamingHttpResponse(stream, content_type=CONTENT_TYPES[format_])
        response["Content-Disposition"] = (
            f'attachment; filename="events-after-{data["after"]}.{format_}"'
        )
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"  # a proxy passes chunks on as they come
        return response
