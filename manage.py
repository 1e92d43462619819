#!/usr/bin/env python
"""Django's command-line utility for shopstream."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")
    from django.core.management import execute_from_command_line

    from infra.tracing import configure_tracing

    configure_tracing()  # the relay, the projectors and every other command
    execute_from_command_line(sys.argv)
