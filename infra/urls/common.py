"""URL patterns both APIs serve: health, OpenAPI schema, Swagger UI, JSON 404 catch-all."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from infra.errors import not_found
from infra.health import Check, HealthzApi, ReadyzApi
from infra.operations import MetricsApi, ProjectionsHealthApi

API_VERSIONS = r"^api/(?P<version>v1|v2)/"
handler400 = "infra.errors.bad_request"
handler403 = "infra.errors.permission_denied"
handler404 = "infra.errors.not_found"
handler500 = "infra.errors.server_error"


class SchemaApi(SpectacularAPIView):
    versioning_class = None


class DocsApi(SpectacularSwaggerView):
    versioning_class = None


def service_patterns(readiness_checks: dict[str, Check]) -> list[URLPattern | URLResolver]:
    return [
        path("healthz", HealthzApi.as_view(), name="healthz"),
        path("readyz", ReadyzApi.as_view(checks=readiness_checks), name="readyz"),
        path("health/projections", ProjectionsHealthApi.as_view(), name="health-projections"),
        path("metrics", MetricsApi.as_view(), name="metrics"),
        path("api/schema/", SchemaApi.as_view(), name="schema"),
        path("api/docs/", DocsApi.as_view(url_name="schema"), name="docs"),
    ]


# Last in every URLconf: Django's DEBUG 404 page is HTML; this never is. CSRF-exempt,
# or a POST/DELETE to an unknown path would meet the CSRF check (a 403) before the 404.
catch_all = re_path(r"^", csrf_exempt(not_found))
