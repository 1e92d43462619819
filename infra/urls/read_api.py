"""URL root of the read (query) API."""

from django.urls import include, path, re_path

from infra.health import READ_API_CHECKS
from infra.urls.common import API_VERSIONS, catch_all, service_patterns
from read_api.views import ProductDetailApi, ProductListApi

handler400 = "infra.errors.bad_request"
handler403 = "infra.errors.permission_denied"
handler404 = "infra.errors.not_found"
handler500 = "infra.errors.server_error"

queries = [
    path("products", ProductListApi.as_view(), name="product-list"),
    path("products/<uuid:product_id>", ProductDetailApi.as_view(), name="product-detail"),
]

urlpatterns = [
    *service_patterns(READ_API_CHECKS),
    re_path(API_VERSIONS, include(queries)),
    catch_all,
]
