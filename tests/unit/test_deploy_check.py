"""`manage.py check --deploy` under production settings, and HTTPS settings per environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SHOPSTREAM_ENV": "production",
    "DJANGO_SECRET_KEY": "deploy-check-" + "s3cr3t-" * 8,
    "PAYMENT_WEBHOOK_SECRET": "whsec_deploy_check_0123456789",
}
SHOW_HTTPS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS, "
    "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))"
)


def clean_env(settings_module: str, **env: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SHOPSTREAM_"))}
    return {**kept, "DJANGO_SETTINGS_MODULE": settings_module, **env}


def deploy_check_warnings(settings_module: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy"],
        env=clean_env(settings_module, **PRODUCTION),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert "ERRORS:" not in result.stderr, result.stderr
    assert "System check identified" in result.stdout + result.stderr, result.stderr
    return re.findall(r"\(([\w.]+\.[WE]\d+)\)", result.stderr + result.stdout)


def https_settings(**env: str) -> list[object]:
    result = subprocess.run(
        [sys.executable, "-c", SHOW_HTTPS],
        env=clean_env("infra.settings.write_api", **env),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.mark.slow
@pytest.mark.parametrize("api", ["write_api", "read_api"])
def test_the_deploy_check_finds_no_warning_in_production(api: str) -> None:
    # when
    warnings = deploy_check_warnings(f"infra.settings.{api}")
    # then: neither security settings nor the OpenAPI schema (drf_spectacular.W00x)
    assert warnings == []


def test_production_redirects_to_https_with_hsts_and_secure_cookies() -> None:
    assert https_settings(**PRODUCTION) == [True, None, 31536000, True, True]


def test_behind_a_tls_proxy_its_header_marks_requests_as_https() -> None:
    settings = https_settings(**PRODUCTION, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert settings[1] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_development_keeps_plain_http() -> None:
    assert https_settings(SHOPSTREAM_ENV="development") == [False, None, 0, False, False]
