"""WSGI entry point of the write (command) API."""

import os

from django.core.wsgi import get_wsgi_application

from infra.tracing import configure_tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")
configure_tracing()  # before the middleware is loaded: it adds the Django instrumentation's
application = get_wsgi_application()
