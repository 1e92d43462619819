"""The Celery application (Redis broker); tasks are discovered in the Django apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")

app = Celery("shopstream")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
