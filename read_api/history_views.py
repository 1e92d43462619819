"""History queries: an order's timeline or past state, the audit search, the event feed."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from read_api.event_params import EventFilterParams, filters_of, personal_key
from read_api.history import (
    audit_search,
    event_body,
    event_feed,
    order_as_of,
    order_timeline,
    order_visible_to,
)
from read_api.openapi import EVENT_FEED, EVENT_PAGE, TIMELINE
from read_api.pagination import PageParams, paginated
from read_api.permissions import IsAdmin, OwnsOrdersOrAdmin, ReadsHistory


class AsOfSerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()


def order_detail_as_of(request: Request, version: str, order_id: UUID) -> Response:
    """v2: the order as it was at `as_of`, rebuilt from its events (owner or admin)."""
    if version != "v2":
        raise NotFound("?as_of is a v2 feature.")
    params = AsOfSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    if getattr(request.user, "role", None) not in ("customer", "admin") or not order_visible_to(
        request.user, order_id
    ):
        raise NotFound(f"Order {order_id} does not exist.")
    order = order_as_of(order_id, params.validated_data["as_of"])
    if order is None:
        raise NotFound(f"Order {order_id} did not exist at that time.")
    return Response(order)


class OrderTimelineApi(APIView):
    """Every event of an order and of its escalations, in order, with actor and time (owner
    or admin)."""

    permission_classes = [OwnsOrdersOrAdmin]

    @extend_schema(responses={200: TIMELINE})
    def get(self, request: Request, version: str, order_id: UUID) -> Response:
        if not order_visible_to(request.user, order_id):
            raise NotFound(f"Order {order_id} does not exist.")
        events = [event_body(e) for e in order_timeline(order_id)]
        return Response({"order_id": str(order_id), "events": events})


class AuditSearchApi(APIView):
    """Admins search the audit log by aggregate or actor and time range."""

    permission_classes = [IsAdmin]

    class ParamsSerializer(PageParams):
        aggregate_id = serializers.UUIDField(required=False, default=None)
        actor_id = serializers.CharField(required=False, max_length=64, default=None)
        since = serializers.DateTimeField(required=False, default=None)
        until = serializers.DateTimeField(required=False, default=None)

    @extend_schema(parameters=[ParamsSerializer], responses={200: EVENT_PAGE})
    def get(self, request: Request, version: str) -> Response:
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        page, size = data.pop("page"), data.pop("page_size")
        events = audit_search(**data)
        # Counted first: a row projected between the two queries then shows in the page
        # (count lags by it) instead of a count that promises a row the page lacks.
        count = events.count()
        results = [event_body(e) for e in events[(page - 1) * size : page * size]]
        return Response(paginated(request, page, size, count, results))


class EventFeedApi(APIView):
    """v2: the event history in store order, for analysts and admins replaying it.

    `results` and `next` (a link continuing after the last position; null at the end of
    the history so far) as every list; `events` and `next_after` are the same for clients
    of the first shape. Analysts get personal data pseudonymised (read_api.personal_data).
    """

    permission_classes = [ReadsHistory]

    class ParamsSerializer(EventFilterParams):
        limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)

    @extend_schema(versions=["v1"], exclude=True)
    @extend_schema(parameters=[ParamsSerializer], responses={200: EVENT_FEED})
    def get(self, request: Request, version: str) -> Response:
        if version != "v2":
            raise NotFound("The event feed is a v2 endpoint.")
        params = self.ParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        key = personal_key(request, data["personal"])
        page = event_feed(after=data["after"], limit=data["limit"], filters=filters_of(data))
        events = page.rows
        last = events[-1].position if events else data["after"]
        url = request.build_absolute_uri()
        results = [event_body(e, key) for e in events]
        # A short page (the end, or the audit log's first hole) says: poll again from
        # next_after later; a full one links straight on.
        return Response(
            {
                "results": results,
                "next": replace_query_param(url, "after", last)
                if len(events) == data["limit"]
                else None,
                "events": results,
                "next_after": last,
            }
        )
