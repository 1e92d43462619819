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
from write_api.views import ProductCreateApi

commands = [
    path("products", ProductCreateApi.as_view(), name="product-create"),
]

urlpatterns = [
    *service_patterns(WRITE_API_CHECKS),
    path("admin/", admin.site.urls),
    re_path(API_VERSIONS, include(commands)),
    catch_all,
]
