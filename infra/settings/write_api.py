"""The command API (port 8000): commands, auth, Django admin."""

from infra.settings.base import *  # noqa: F403

ROOT_URLCONF = "infra.urls.write_api"
