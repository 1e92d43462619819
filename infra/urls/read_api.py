"""URL root of the read (query) API."""

from django.urls import include, path, re_path

from infra.health import READ_API_CHECKS
from infra.urls.common import (  # noqa: F401 - Django reads the handlers from here
    API_VERSIONS,
    catch_all,
    handler400,
    handler403,
    handler404,
    handler500,
    service_patterns,
)
from read_api.escalation_views import EscalationDetailApi, EscalationListApi
from read_api.event_export_views import EventExportApi
from read_api.history_views import AuditSearchApi, EventFeedApi, OrderTimelineApi
from read_api.product_history_views import ProductHistoryApi
from read_api.views import (
    CartApi,
    CategoryTreeApi,
    OrderDetailApi,
    OrderListApi,
    ProductDetailApi,
    ProductListApi,
    ProductReviewListApi,
    ProductSearchV2Api,
    ProductSuggestV2Api,
)

queries = [
    path("categories", CategoryTreeApi.as_view(), name="category-tree"),
    path("cart", CartApi.as_view(), name="cart"),
    path("orders", OrderListApi.as_view(), name="order-list"),
    path("orders/<uuid:order_id>", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<uuid:order_id>/timeline", OrderTimelineApi.as_view(), name="order-timeline"),
    path("escalations", EscalationListApi.as_view(), name="escalation-list"),
    path(
        "escalations/<uuid:escalation_id>", EscalationDetailApi.as_view(), name="escalation-detail"
    ),
    path("admin/audit", AuditSearchApi.as_view(), name="audit"),
    path("events", EventFeedApi.as_view(), name="events"),
    path("events/export", EventExportApi.as_view(), name="events-export"),
    path("products", ProductListApi.as_view(), name="product-list"),
    path("products/search", ProductSearchV2Api.as_view(), name="product-search"),
    path("products/suggest", ProductSuggestV2Api.as_view(), name="product-suggest"),
    path("products/<uuid:product_id>", ProductDetailApi.as_view(), name="product-detail"),
    path("products/<uuid:product_id>/reviews", ProductReviewListApi.as_view(), name="review-list"),
    path("products/<uuid:product_id>/history", ProductHistoryApi.as_view(), name="product-history"),
]

urlpatterns = [
    *service_patterns(READ_API_CHECKS),
    re_path(API_VERSIONS, include(queries)),
    catch_all,
]
