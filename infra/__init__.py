"""Composition root: settings, URL roots, clients, Celery, the local stack launcher."""
