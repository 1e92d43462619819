"""Settings shared by every shopstream process, read from environment variables.

Safe defaults are production defaults: DEBUG is off unless DJANGO_DEBUG is set,
and outside development and test a missing secret is an error, not a default.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from contracts.schemas import SHOP_CURRENCY

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ENVIRONMENT = os.environ.get("SHOPSTREAM_ENV", "production")
IS_PRODUCTION = ENVIRONMENT not in {"development", "test"}


def env_flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def required(name: str, development_default: str) -> str:
    value = os.environ.get(name)
    if value:
        return value
    if IS_PRODUCTION:
        raise ImproperlyConfigured(
            f"{name} must be set in production (SHOPSTREAM_ENV={ENVIRONMENT})."
        )
    return development_default


DEBUG = env_flag("DJANGO_DEBUG")
SECRET_KEY = required(
    "DJANGO_SECRET_KEY", "insecure-development-key-never-use-in-production-0123456789"
)
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "write_api.accounts.apps.AccountsConfig",
    "write_api.commands.apps.CommandsConfig",
    "write_api.payments",
    "projections.apps.ProjectionsConfig",
    "processes.apps.ProcessesConfig",
    "infra.apps.InfraConfig",
    # No models: its management commands (export_events).
    "read_api",
]

MIDDLEWARE = [
    # First: request counts and latency per URL pattern cover every other middleware.
    "infra.metrics.HttpMetricsMiddleware",
    "infra.middleware.RequestIdMiddleware",
    "infra.middleware.AccessLogMiddleware",
    "infra.errors.UnhandledErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out admin log-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/shopstream")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Cached reads, throttle counters and read-your-writes waits can go without Redis:
# they wait for it this long at most, then read PostgreSQL, let the request through,
# or answer stale (README, "Redis").
REDIS_BEST_EFFORT_TIMEOUT_SECONDS = float(
    os.environ.get("REDIS_BEST_EFFORT_TIMEOUT_SECONDS", "0.5")
)


def redis_url_with_timeout(url: str, seconds: float) -> str:
    """`url` with its socket timeouts: django-redis keys its connection pools by URL."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(socket_timeout=str(seconds), socket_connect_timeout=str(seconds))
    return urlunsplit(parts._replace(query=urlencode(query)))


CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("SHOPSTREAM_NAMESPACE", "shopstream"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    },
    # The same keys, for callers that degrade without Redis (read_api.caching, throttles).
    "best_effort": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis_url_with_timeout(REDIS_URL, REDIS_BEST_EFFORT_TIMEOUT_SECONDS),
        "KEY_PREFIX": os.environ.get("SHOPSTREAM_NAMESPACE", "shopstream"),
    },
}

KAFKA_BOOTSTRAP_SERVERS = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
KAFKA_PARTITIONS = int(os.environ.get("KAFKA_PARTITIONS", "3"))
# Group joins wait for the rebalance timeout, which kafka-python takes from this value.
KAFKA_MAX_POLL_INTERVAL_MS = int(os.environ.get("KAFKA_MAX_POLL_INTERVAL_MS", "5000"))
OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200")
# Request threads per server process (gunicorn --threads; the launcher sets it): each may
# hold an OpenSearch connection at once, so the client pools as many.
SERVER_THREADS = int(os.environ.get("SERVER_THREADS", "4"))
# How long a search request waits for OpenSearch before it answers 503.
SEARCH_TIMEOUT_SECONDS = float(os.environ.get("SEARCH_TIMEOUT_SECONDS", "1.2"))
# Prefix of topics, consumer groups, index aliases and cache keys, so that two
# deployments (or a test run) can share servers without seeing each other.
SHOPSTREAM_NAMESPACE = os.environ.get("SHOPSTREAM_NAMESPACE", "shopstream")
TOPIC_PREFIX = f"{SHOPSTREAM_NAMESPACE}."
# Tries before a projector parks an event that fails on its own merits (outages retry forever).
PROJECTION_MAX_ATTEMPTS = int(os.environ.get("PROJECTION_MAX_ATTEMPTS", "3"))
# A product's state is checkpointed every this many versions in the audit log: time travel
# over a product folds at most about that many events before what it shows.
AUDIT_CHECKPOINT_EVERY = int(os.environ.get("AUDIT_CHECKPOINT_EVERY", "100"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_DEFAULT_QUEUE = f"{SHOPSTREAM_NAMESPACE}.tasks"
# An unacknowledged task (its worker died) is handed to another worker after this long.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_SECONDS", "300")),
    # How often workers look for such abandoned tasks (kombu's default is ~100 s).
    "unacked_restore_interval": int(os.environ.get("CELERY_RESTORE_INTERVAL_SECONDS", "30")),
    "unacked_restore_throttle": 1,
}
ORDER_PAYMENT_TIMEOUT_SECONDS = int(os.environ.get("ORDER_PAYMENT_TIMEOUT_SECONDS", "900"))
ORDER_EXPIRY_SCAN_SECONDS = float(os.environ.get("ORDER_EXPIRY_SCAN_SECONDS", "30"))
# A payment attempt without progress for this long is settled from what the gateway knows of
# it; longer than any pay call takes (gateway timeouts included), so a live one is left alone.
PAYMENT_RECONCILE_AFTER_SECONDS = float(os.environ.get("PAYMENT_RECONCILE_AFTER_SECONDS", "300"))
PAYMENT_RECONCILE_SCAN_SECONDS = float(os.environ.get("PAYMENT_RECONCILE_SCAN_SECONDS", "60"))
# A refund the gateway has not answered for this long is asked about again (same key).
REFUND_RESUME_SECONDS = float(os.environ.get("REFUND_RESUME_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    "expire-unpaid-orders": {
        "task": "infra.tasks.expire_unpaid_orders",
        "schedule": ORDER_EXPIRY_SCAN_SECONDS,
    },
    "reconcile-payments": {
        "task": "processes.tasks.reconcile_payments",
        "schedule": PAYMENT_RECONCILE_SCAN_SECONDS,
    },
    "resume-stalled-refunds": {
        "task": "processes.tasks.resume_stalled_refunds",
        "schedule": ORDER_EXPIRY_SCAN_SECONDS,
    },
    "purge-expired-idempotency-keys": {
        "task": "infra.tasks.purge_expired_idempotency_keys",
        "schedule": 3600.0,
    },
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "infra.admin_lockout.AdminLoginLockout",
    "django.contrib.auth.backends.ModelBackend",
]
# The admin log-in locks after this many failures per client address and email, for the
# cool-off; the API's JWT log-in has its own throttle ("auth" below) and is not counted.
AXES_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ADMIN_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_ONLY_ADMIN_SITE = True
AXES_HANDLER = "infra.admin_lockout.AdminLoginAttempts"
AXES_CLIENT_IP_CALLABLE = "infra.admin_lockout.client_ip"
AXES_USERNAME_CALLABLE = "infra.admin_lockout.username"
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout are refused without extending it: the cool-off ends on time.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "adapters.authentication.UserJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["infra.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "infra.openapi.ShopstreamAutoSchema",
    "EXCEPTION_HANDLER": "infra.errors.api_exception_handler",
    # Scopes are set per view: per user when logged in, per client IP otherwise (Redis-backed).
    "DEFAULT_THROTTLE_CLASSES": ["infra.throttling.FailOpenScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "cart": os.environ.get("THROTTLE_CART", "60/min"),
        "checkout": os.environ.get("THROTTLE_CHECKOUT", "10/min"),
        "auth": os.environ.get("THROTTLE_AUTH", "20/min"),
    },
    "NUM_PROXIES": int(os.environ.get("NUM_PROXIES", "0")),
    "UNAUTHENTICATED_USER": None,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(
        minutes=min(15, int(os.environ.get("JWT_ACCESS_MINUTES", "15")))
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=int(os.environ.get("JWT_REFRESH_DAYS", "7"))),
    # Pinned: tokens signed any other way (including "none") are refused.
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY") or SECRET_KEY,
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "LEEWAY": 0,
    # Access tokens carry role, display name and token version (adapters/authentication.py).
    "TOKEN_OBTAIN_SERIALIZER": "adapters.authentication.IdentityTokenObtainSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "shopstream API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response bodies are separate components: what a client sends is not what
    # it gets back (read-only ids and versions, write-only passwords).
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "write_api.domain.account.ROLES",
        "SelfServiceRoleEnum": "write_api.domain.account.SELF_SERVICE_ROLES",
        "EscalationStatusEnum": "write_api.domain.escalation_rules.STATUSES",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
# WhiteNoise serves static files from gunicorn itself (Swagger UI, the admin's CSS).
# Production serves what `collectstatic` put in STATIC_ROOT (the Dockerfile runs it);
# development and tests serve straight from the apps, so a fresh clone needs no step.
STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("DJANGO_STATIC_ROOT") or (
    str(BASE_DIR / ".local" / "static") if IS_PRODUCTION else None
)
WHITENOISE_USE_FINDERS = not IS_PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# HTTPS in production: redirect plain HTTP, HSTS, cookies only over TLS. Behind a proxy
# that terminates TLS, DJANGO_SECURE_PROXY_SSL_HEADER names the header it sets to
# "https" (e.g. X-Forwarded-Proto; the proxy must overwrite it from clients).
# `make up` is development: plain HTTP, none of this.
SECURE_SSL_REDIRECT = env_flag("DJANGO_SECURE_SSL_REDIRECT", IS_PRODUCTION)
# Health probes of an orchestrator come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$", r"^health/projections$"]
_PROXY_SSL_HEADER = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "31536000" if IS_PRODUCTION else "0")
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env_flag("DJANGO_SECURE_HSTS_PRELOAD", IS_PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = IS_PRODUCTION and not env_flag("SHOPSTREAM_INSECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# CSRF guards the session-based admin only: API views authenticate by bearer token and
# are exempt, and so is the catch-all 404 (infra.urls.common).
CSRF_FAILURE_VIEW = "infra.errors.csrf_failure"
# Larger bodies are refused with 413 (infra.errors); Django's default, stated.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Keys the pseudonyms analysts see in place of personal data (read_api.personal_data).
# Without PSEUDONYM_KEY it is derived from SECRET_KEY: rotating that changes every pseudonym.
PSEUDONYM_KEY = (
    os.environ.get("PSEUDONYM_KEY")
    or hashlib.sha256(b"pseudonyms:" + SECRET_KEY.encode()).hexdigest()
).encode()

PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "write_api.payments.fake_gateway.FakeGateway")
PAYMENT_WEBHOOK_SECRET = required("PAYMENT_WEBHOOK_SECRET", "whsec_development_only")
PAYMENT_WEBHOOK_TOLERANCE_SECONDS = int(os.environ.get("PAYMENT_WEBHOOK_TOLERANCE_SECONDS", "300"))
PAYMENT_WEBHOOK_URL = os.environ.get(
    "PAYMENT_WEBHOOK_URL",
    f"http://127.0.0.1:{os.environ.get('WRITE_API_PORT', '8000')}/api/v1/payments/webhook",
)
# A payment attempt without progress for this long may be resumed (same gateway key).
PAYMENT_ATTEMPT_RESUME_SECONDS = float(os.environ.get("PAYMENT_ATTEMPT_RESUME_SECONDS", "60"))
FAKE_GATEWAY_SETTLE_SECONDS = float(os.environ.get("FAKE_GATEWAY_SETTLE_SECONDS", "1"))
# New orders' currency (SHOPSTREAM_CURRENCY, read once in contracts.schemas); an order is
# paid, refunded and matched in the one it recorded.
CURRENCY = SHOP_CURRENCY

SHOPSTREAM_ADMIN_EMAIL = os.environ.get("SHOPSTREAM_ADMIN_EMAIL", "")
SHOPSTREAM_ADMIN_PASSWORD = os.environ.get("SHOPSTREAM_ADMIN_PASSWORD", "")
# How long /readyz waits for each dependency before calling it down.
READINESS_TIMEOUT_SECONDS = float(os.environ.get("READINESS_TIMEOUT_SECONDS", "2"))
# /health/projections answers 503 when a projector is further behind than this, or an
# event has been parked longer than PARKED_MAX_SECONDS (README, "Operating it").
PROJECTION_LAG_MAX_EVENTS = int(os.environ.get("PROJECTION_LAG_MAX_EVENTS", "100"))
PROJECTION_LAG_MAX_SECONDS = float(os.environ.get("PROJECTION_LAG_MAX_SECONDS", "30"))
PARKED_MAX_SECONDS = float(os.environ.get("PARKED_MAX_SECONDS", "300"))

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / ".local" / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "shop@localhost")

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
SHOPSTREAM_SERVICE = os.environ.get("SHOPSTREAM_SERVICE", "shopstream")
from infra.logging import logging_config  # noqa: E402

LOGGING = logging_config(LOG_LEVEL, SHOPSTREAM_SERVICE)

APPEND_SLASH = False
REST_FRAMEWORK["DEFAULT_VERSIONING_CLASS"] = "rest_framework.versioning.URLPathVersioning"
REST_FRAMEWORK["ALLOWED_VERSIONS"] = ["v1", "v2"]
REST_FRAMEWORK["DEFAULT_VERSION"] = "v1"
