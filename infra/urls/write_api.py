"""URL root of the write (command) API."""

from django.contrib import admin
from django.urls import include, path, re_path

from infra.health import WRITE_API_CHECKS
from infra.urls.common import API_VERSIONS, catch_all, service_patterns
from write_api.views import ProductCreateApi

handler400 = "infra.errors.bad_request"
handler403 = "infra.errors.permission_denied"
handler404 = "infra.errors.not_found"
handler500 = "infra.errors.server_error"

commands = [
    path("products", ProductCreateApi.as_view(), name="product-create"),
]

urlpatterns = [
    *service_patterns(WRITE_API_CHECKS),
    path("admin/", admin.site.urls),
    re_path(API_VERSIONS, include(commands)),
    catch_all,
]
