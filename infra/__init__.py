"""Composition root: settings, URL roots, clients, Celery, the local stack launcher."""

# Django loads this package first (settings), so every process that enqueues a
# task does it through this app and its broker, never Celery's default one.
from infra.celery_app import app as celery_app

__all__ = ["celery_app"]
