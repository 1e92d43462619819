"""The Celery application (Redis broker); tasks are discovered in the Django apps."""

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

from adapters.metrics_endpoint import serve_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")

app = Celery("shopstream")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def start_metrics_endpoint(**kwargs: Any) -> None:
    """/metrics on METRICS_PORT (in the main process, before the worker forks its pool)."""
    serve_metrics()


@worker_process_init.connect(weak=False)
@beat_init.connect(weak=False)
def trace_process(**_: object) -> None:
    """Each pool process sets up tracing itself (a span processor's thread does not fork), and
    so does beat: a scheduled task's publish span is then the parent of its run."""
    from infra.tracing import configure_tracing

    configure_tracing()
