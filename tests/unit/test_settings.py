import os
import subprocess
import sys

SETUP = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"


def run_setup(**env: str) -> subprocess.CompletedProcess[str]:
    ours = ("DJANGO_", "SHOPSTREAM_", "PAYMENT_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    clean["DJANGO_SETTINGS_MODULE"] = "infra.settings.write_api"
    return subprocess.run(
        [sys.executable, "-c", SETUP],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    # when
    result = run_setup(SHOPSTREAM_ENV="production")
    # then
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set in production" in result.stderr


def test_production_refuses_to_start_without_a_webhook_secret() -> None:
    # when
    result = run_setup(SHOPSTREAM_ENV="production", DJANGO_SECRET_KEY="k" * 50)
    # then
    assert result.returncode != 0
    assert "PAYMENT_WEBHOOK_SECRET must be set in production" in result.stderr


def test_production_is_the_default_environment() -> None:
    result = run_setup()
    assert result.returncode != 0
    assert "SHOPSTREAM_ENV=production" in result.stderr


def test_debug_is_off_unless_asked_for() -> None:
    # when
    quiet = run_setup(
        SHOPSTREAM_ENV="production", DJANGO_SECRET_KEY="k" * 50, PAYMENT_WEBHOOK_SECRET="w" * 32
    )
    loud = run_setup(SHOPSTREAM_ENV="development", DJANGO_DEBUG="1")
    # then
    assert (quiet.returncode, quiet.stdout.strip()) == (0, "False")
    assert (loud.returncode, loud.stdout.strip()) == (0, "True")
