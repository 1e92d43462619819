"""The read API's settings with one more URL, a bare Django JSON view: bench/read.py's server.

Only bench/read.py puts bench/ on the Python path, so no deployed server can serve it.
"""

from infra.settings.read_api import *  # noqa: F403

ROOT_URLCONF = "bare_view_urls"
