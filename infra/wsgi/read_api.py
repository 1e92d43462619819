"""WSGI entry point of the read (query) API."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.read_api")
application = get_wsgi_application()
