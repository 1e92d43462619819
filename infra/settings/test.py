"""Settings for the test suite: the write API's URLs, fast password hashing."""

import os

os.environ.setdefault("SHOPSTREAM_ENV", "test")

from infra.settings.write_api import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
