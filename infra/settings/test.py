"""Settings for the test suite: the write API's URLs, fast password hashing."""

import os

os.environ.setdefault("SHOPSTREAM_ENV", "test")

from infra.settings.write_api import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tests that are about throttling set their own rates; the rest must never hit one.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "cart": "100000/min",
        "checkout": "100000/min",
        "auth": "100000/min",
    },
}
