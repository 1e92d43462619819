"""URL root of the write (command) API."""

from django.contrib import admin
from django.urls import include, path, re_path

from infra.health import WRITE_API_CHECKS
from infra.urls.common import (  # noqa: F401 - Django reads the handlers from here
    API_VERSIONS,
    catch_all,
    handler400,
    handler403,
    handler404,
    handler500,
    service_patterns,
)
from write_api.views.accounts import (
    LogoutApi,
    MeApi,
    SignupApi,
    TokenApi,
    TokenRefreshApi,
    UserDeactivateApi,
    UserReactivateApi,
    UserRoleApi,
)
from write_api.views.categories import CategoryChangeApi, CategoryCreateApi
from write_api.views.escalations import (
    EscalationMessageCreateApi,
    EscalationResolveApi,
    OrderEscalationCreateApi,
)
from write_api.views.fulfilments import OrderFulfilmentCreateApi, OrderFulfilmentDeliverApi
from write_api.views.orders import OrderCancelApi, OrderPayApi, OrderStatusApi
from write_api.views.payments import PaymentWebhookApi
from write_api.views.products import (
    ProductApi,
    ProductCreateApi,
    ProductReviewCreateApi,
    ProductStockApi,
)
from write_api.views.refunds import OrderRefundCreateApi
from write_api.views.shopping import CartItemAddApi, CartItemApi, CheckoutApi

commands = [
    path("auth/signup", SignupApi.as_view(), name="signup"),
    path("auth/token", TokenApi.as_view(), name="token"),
    path("auth/token/refresh", TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", LogoutApi.as_view(), name="logout"),
    path("auth/me", MeApi.as_view(), name="me"),
    path("users/<uuid:user_id>/role", UserRoleApi.as_view(), name="user-role"),
    path("users/<uuid:user_id>/deactivate", UserDeactivateApi.as_view(), name="user-deactivate"),
    path("users/<uuid:user_id>/reactivate", UserReactivateApi.as_view(), name="user-reactivate"),
    path("categories", CategoryCreateApi.as_view(), name="category-create"),
    path("categories/<uuid:category_id>", CategoryChangeApi.as_view(), name="category-change"),
    path("products", ProductCreateApi.as_view(), name="product-create"),
    path("products/<uuid:product_id>", ProductApi.as_view(), name="product"),
    path("products/<uuid:product_id>/stock", ProductStockApi.as_view(), name="product-stock"),
    path(
        "products/<uuid:product_id>/reviews", ProductReviewCreateApi.as_view(), name="review-create"
    ),
    path("cart/items", CartItemAddApi.as_view(), name="cart-add"),
    path("cart/items/<uuid:product_id>", CartItemApi.as_view(), name="cart-item"),
    path("checkout", CheckoutApi.as_view(), name="checkout"),
    path("orders/<uuid:order_id>/pay", OrderPayApi.as_view(), name="order-pay"),
    path("orders/<uuid:order_id>/cancel", OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<uuid:order_id>/status", OrderStatusApi.as_view(), name="order-status"),
    path(
        "orders/<uuid:order_id>/fulfilments",
        OrderFulfilmentCreateApi.as_view(),
        name="order-fulfilment-create",
    ),
    path(
        "orders/<uuid:order_id>/fulfilments/<uuid:fulfilment_id>/deliver",
        OrderFulfilmentDeliverApi.as_view(),
        name="order-fulfilment-deliver",
    ),
    path(
        "orders/<uuid:order_id>/escalations",
        OrderEscalationCreateApi.as_view(),
        name="order-escalation-create",
    ),
    path(
        "escalations/<uuid:escalation_id>/messages",
        EscalationMessageCreateApi.as_view(),
        name="escalation-message-create",
    ),
    path(
        "escalations/<uuid:escalation_id>/resolve",
        EscalationResolveApi.as_view(),
        name="escalation-resolve",
    ),
    path("orders/<uuid:order_id>/refunds", OrderRefundCreateApi.as_view(), name="order-refunds"),
    path("payments/webhook", PaymentWebhookApi.as_view(), name="payment-webhook"),
]

urlpatterns = [
    *service_patterns(WRITE_API_CHECKS),
    path("admin/", admin.site.urls),
    re_path(API_VERSIONS, include(commands)),
    catch_all,
]
