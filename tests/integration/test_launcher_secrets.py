"""The local stack generates its secrets once per checkout, never taking them from the source."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from infra.stack import __main__ as launcher

pytestmark = pytest.mark.integration


def env_in(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(launcher, "WORKDIR", workdir)
    monkeypatch.delenv("PAYMENT_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    return launcher.development_env()


def test_the_webhook_secret_is_generated_per_stack_kept_private_and_stable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # when
    first = env_in(tmp_path / "a", monkeypatch)
    again = env_in(tmp_path / "a", monkeypatch)
    other = env_in(tmp_path / "b", monkeypatch)
    # then
    secret = first["PAYMENT_WEBHOOK_SECRET"]
    assert secret.startswith("whsec_")
    assert len(secret.removeprefix("whsec_")) == 67  # token_urlsafe(50): 400 random bits
    assert secret != "whsec_development_only"
    assert again["PAYMENT_WEBHOOK_SECRET"] == secret
    assert other["PAYMENT_WEBHOOK_SECRET"] != secret
    assert secret.removeprefix("whsec_") != first["DJANGO_SECRET_KEY"]
    mode = stat.S_IMODE((tmp_path / "a" / "webhook_secret").stat().st_mode)
    assert mode == 0o600


def test_a_webhook_secret_from_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launcher, "WORKDIR", tmp_path)
    monkeypatch.setenv("PAYMENT_WEBHOOK_SECRET", "whsec_from_operator")
    assert launcher.development_env()["PAYMENT_WEBHOOK_SECRET"] == "whsec_from_operator"
    assert not (tmp_path / "webhook_secret").exists()


def test_every_stack_process_and_operator_command_gets_the_webhook_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    env = env_in(tmp_path, monkeypatch)
    # when
    stack_env = launcher.write_stack_env(env).read_text()
    # then
    assert f"PAYMENT_WEBHOOK_SECRET={env['PAYMENT_WEBHOOK_SECRET']}\n" in stack_env
