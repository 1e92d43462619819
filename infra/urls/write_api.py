"""URL root of the write (command) API."""

from django.contrib import admin
from django.urls import include, path, re_path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

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
    UserDeactivateApi,
    UserReactivateApi,
    UserRoleApi,
)
from write_api.views.categories import CategoryChangeApi, CategoryCreateApi
from write_api.views.products import ProductApi, ProductCreateApi, ProductStockApi

commands = [
    path("auth/signup", SignupApi.as_view(), name="signup"),
    path("auth/token", TokenObtainPairView.as_view(), name="token"),
    path("auth/token/refresh", TokenRefreshView.as_view(), name="token-refresh"),
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
]

urlpatterns = [
    *service_patterns(WRITE_API_CHECKS),
    path("admin/", admin.site.urls),
    re_path(API_VERSIONS, include(commands)),
    catch_all,
]
