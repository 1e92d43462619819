"""bench/bare_view_settings.py without the HTTP metrics middleware: bench/read.py's "off"
variant, what the read API costs with nothing of issue 12's (metrics, tracing) in it.

Only bench/read.py puts bench/ on the Python path, so no deployed server can serve it.
"""

from bare_view_settings import *  # noqa: F403
from bare_view_settings import MIDDLEWARE as WITH_METRICS

METRICS_MIDDLEWARE = "infra.metrics.HttpMetricsMiddleware"
if METRICS_MIDDLEWARE not in WITH_METRICS:  # renamed: "off" would silently equal "metrics"
    raise RuntimeError(f"{METRICS_MIDDLEWARE} is not in the read API's MIDDLEWARE")
MIDDLEWARE = [m for m in WITH_METRICS if m != METRICS_MIDDLEWARE]
