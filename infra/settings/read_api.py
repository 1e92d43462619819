"""The query API (port 8001): search, product detail, order tracking."""

from infra.settings.base import *  # noqa: F403

ROOT_URLCONF = "infra.urls.read_api"
