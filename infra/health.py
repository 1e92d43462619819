"""/healthz (the process answers) and /readyz (its dependencies answer, within a bound)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import psycopg
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adapters.clients import opensearch_client, redis_client
from adapters.openapi import ErrorEnvelopeSerializer
from infra.errors import envelope

Check = Callable[[], None]
ALIVE_BODY = {"status": "ok"}

ALIVE = inline_serializer("Alive", {"status": serializers.CharField()})
READY = inline_serializer(
    "Ready",
    {
        "status": serializers.CharField(),
        "checks": serializers.DictField(child=serializers.CharField(), help_text='"ok" each'),
    },
)


def check_postgres() -> None:
    database = settings.DATABASES["default"]
    timeout = max(1, int(settings.READINESS_TIMEOUT_SECONDS))
    with psycopg.connect(
        dbname=database["NAME"],
        host=database["HOST"],
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        connect_timeout=timeout,
    ) as connection:
        connection.execute("SELECT 1")


def check_redis() -> None:
    redis_client(settings.READINESS_TIMEOUT_SECONDS).ping()


def check_opensearch() -> None:
    if not opensearch_client(settings.READINESS_TIMEOUT_SECONDS).ping():
        raise ConnectionError(f"OpenSearch at {settings.OPENSEARCH_URL} did not answer")


def run_checks(checks: dict[str, Check], timeout: float) -> dict[str, str]:
    """Run every check at once; a check that errs or overruns `timeout` reports why."""
    results: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=len(checks))
    futures = {name: pool.submit(check) for name, check in checks.items()}
    for name, future in futures.items():
        try:
            future.result(timeout=timeout)
            results[name] = "ok"
        except FutureTimeout:
            results[name] = f"no answer within {timeout:g} s"
        except Exception as error:  # noqa: BLE001 - any failure means "not ready"
            results[name] = f"{type(error).__name__}: {error}".strip()[:300]
    pool.shutdown(wait=False, cancel_futures=True)
    return results


class HealthzApi(APIView):
    """Liveness: the process is up and serving.

    A GET skips DRF's request handling (negotiation, authentication, throttles, rendering):
    probes call it often and there is nothing to decide, so it costs what a bare Django
    view costs. `get` still describes it in the schema; other methods get DRF's answers.
    """

    authentication_classes: list[type] = []
    versioning_class = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "GET":
            return JsonResponse(ALIVE_BODY, json_dumps_params={"separators": (",", ":")})
        return super().dispatch(request, *args, **kwargs)

    @extend_schema(responses={200: ALIVE})
    def get(self, request: Request) -> Response:
        return Response(ALIVE_BODY)


class ReadyzApi(APIView):
    """Readiness: every backing server this API needs answers in time."""

    authentication_classes: list[type] = []
    versioning_class = None
    checks: dict[str, Check] = {}

    @extend_schema(responses={200: READY, 503: ErrorEnvelopeSerializer})
    def get(self, request: Request) -> Response:
        results = run_checks(self.checks, settings.READINESS_TIMEOUT_SECONDS + 0.5)
        if all(result == "ok" for result in results.values()):
            return Response({"status": "ready", "checks": results})
        down = ", ".join(name for name, result in results.items() if result != "ok")
        body = envelope(request, "not_ready", f"Dependencies unavailable: {down}.", results)
        return Response(body, status=503)


WRITE_API_CHECKS: dict[str, Check] = {"postgres": check_postgres, "redis": check_redis}
READ_API_CHECKS: dict[str, Check] = {
    "postgres": check_postgres,
    "redis": check_redis,
    "opensearch": check_opensearch,
}
