"""Rate limits of both APIs, counted in Redis, failing open when Redis is away."""

from __future__ import annotations

from typing import Any

import structlog
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from adapters.outages import pause_redis, redis_paused

log = structlog.get_logger("shopstream.throttling")


class FailOpenScopedRateThrottle(ScopedRateThrottle):
    """DRF's per-view-scope throttle; without Redis the request is let through.

    A limit that cannot be counted is not enforced, rather than refusing every
    log-in and cart change while the cache is down (README, "Redis").
    """

    cache = caches["best_effort"]  # short socket timeouts (settings)

    def allow_request(self, request: Request, view: Any) -> bool:
        if redis_paused():  # Redis just failed this process: one wait per request at most
            return True
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            pause_redis()
            log.warning("throttle_unavailable", scope=self.scope, error=repr(error))
            return True
