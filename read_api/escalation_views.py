"""Escalation queries: the list by role, and one escalation with its messages."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from read_api.escalations import (
    escalation_get,
    escalation_list_visible,
    escalation_summary,
    escalation_version,
)
from read_api.openapi import ESCALATION_PAGE, EscalationSerializer
from read_api.pagination import PageParams, paginated
from read_api.permissions import TracksOrders
from read_api.views import ReadApi


class EscalationListApi(APIView):
    """Escalations the caller takes part in (all for admins), newest first, paginated."""

    permission_classes = [TracksOrders]

    class ParamsSerializer(PageParams):
        status = serializers.ChoiceField(choices=["open", "resolved"], required=False)

    @extend_schema(parameters=[ParamsSerializer], responses={200: ESCALATION_PAGE})
    def get(self, request: Request, version: str) -> Response:
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        page, size = data["page"], data["page_size"]
        rows = escalation_list_visible(request.user, data.get("status"))
        count = rows.count()
        results = [escalation_summary(r) for r in rows[(page - 1) * size : page * size]]
        return Response(paginated(request, page, size, count, results))


class EscalationDetailApi(ReadApi):
    """One escalation with its messages, for its parties and admins; honours X-Min-Version."""

    permission_classes = [TracksOrders]

    @extend_schema(responses={200: EscalationSerializer})
    def get(self, request: Request, version: str, escalation_id: UUID) -> Response:
        self.wait_for(request, escalation_version)
        escalation = escalation_get(request.user, escalation_id)
        if escalation is None:
            raise NotFound(f"Escalation {escalation_id} does not exist.")
        return Response(escalation)
