"""WSGI entry point of the write (command) API."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")
application = get_wsgi_application()
