"""The Celery application (Redis broker); tasks are discovered in the Django apps."""

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")

app = Celery("shopstream")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect(weak=False)
def trace_worker_process(**_: object) -> None:
    """Each pool process sets up tracing itself: a span processor's thread does not fork."""
    from infra.tracing import configure_tracing

    configure_tracing()
