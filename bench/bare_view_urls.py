"""The read API's URLs plus /bench/bare: a Django JSON view with nothing of ours in it."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from infra.urls import read_api
from infra.urls.read_api import handler400, handler403, handler404, handler500  # noqa: F401


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("bench/bare", bare), *read_api.urlpatterns]
