"""The Django admin log-in locks out after repeated failures per address and email (django-axes).

The API's JWT log-in goes through the same `authenticate()` but keeps its own throttle
(tested in test_shopping.py): axes neither counts nor blocks it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from tests.integration.test_admin import csrf_token
from tests.support.actors import PASSWORD, make_actor
from write_api.accounts.models import User
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

ATTACKER, OTHER = "203.0.113.7", "198.51.100.20"


def browser(address: str) -> Client:
    return Client(SERVER_NAME="localhost", enforce_csrf_checks=True, REMOTE_ADDR=address)


def admin_log_in(client: Client, email: str, password: str) -> Any:
    token = csrf_token(client, "/admin/login/")
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "csrfmiddlewaretoken": token},
    )


def is_logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


@pytest.fixture
def admin_user(shop_app: Shop) -> User:
    user = make_actor(shop_app, "admin").user
    assert user is not None
    return user


def test_wrong_passwords_lock_the_address_out_even_for_the_right_password(
    admin_user: User,
) -> None:
    # given: one attempt short of the limit from one address
    attacker = browser(ATTACKER)
    limit = settings.AXES_FAILURE_LIMIT
    before = [admin_log_in(attacker, admin_user.email, "wrong-password").status_code]
    before += [
        admin_log_in(attacker, admin_user.email, f"wrong-{i}").status_code for i in range(limit - 2)
    ]
    # when: the last allowed failure, then the right password
    locking = admin_log_in(attacker, admin_user.email, "wrong-again")
    right_password = admin_log_in(attacker, admin_user.email, PASSWORD)
    # then
    assert before == [200] * (limit - 1)  # the form again, with its error
    assert (locking.status_code, right_password.status_code) == (429, 429)
    assert "too many login attempts" in right_password.content.decode()
    assert "sessionid" not in right_password.cookies
    assert is_logged_in(attacker) is False
    failures = AccessAttempt.objects.get(ip_address=ATTACKER, username=admin_user.email)
    assert failures.failures_since_start == limit


def test_other_addresses_can_still_log_in_during_a_lockout(admin_user: User) -> None:
    # given: the attacker's address is locked out
    attacker, colleague = browser(ATTACKER), browser(OTHER)
    for i in range(settings.AXES_FAILURE_LIMIT):
        admin_log_in(attacker, admin_user.email, f"wrong-{i}")
    # when
    response = admin_log_in(colleague, admin_user.email, PASSWORD)
    # then
    assert response.status_code == 302
    assert is_logged_in(colleague) is True
    assert admin_log_in(attacker, admin_user.email, PASSWORD).status_code == 429


def test_changing_the_email_case_does_not_reset_the_count(admin_user: User) -> None:
    # given
    attacker = browser(ATTACKER)
    spellings = [admin_user.email.upper(), admin_user.email.title(), admin_user.email]
    # when
    statuses = [
        admin_log_in(attacker, spellings[i % 3], f"wrong-{i}").status_code
        for i in range(settings.AXES_FAILURE_LIMIT)
    ]
    # then
    assert statuses[-1] == 429
    assert admin_log_in(attacker, admin_user.email.upper(), PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_cool_off(admin_user: User, settings: Any) -> None:
    # given
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    attacker = browser(ATTACKER)
    for i in range(settings.AXES_FAILURE_LIMIT):
        admin_log_in(attacker, admin_user.email, f"wrong-{i}")
    assert admin_log_in(attacker, admin_user.email, PASSWORD).status_code == 429
    # when
    time.sleep(1.2)
    response = admin_log_in(attacker, admin_user.email, PASSWORD)
    # then
    assert response.status_code == 302
    assert is_logged_in(attacker) is True


def test_failed_api_log_ins_neither_count_nor_lock_the_admin(admin_user: User) -> None:
    # given: more wrong JWT log-ins from one address than the admin allows
    api = APIClient(SERVER_NAME="localhost", REMOTE_ADDR=ATTACKER)
    wrong = [
        api.post(
            "/api/v1/auth/token",
            {"email": admin_user.email, "password": f"wrong-{i}"},
            format="json",
        ).status_code
        for i in range(settings.AXES_FAILURE_LIMIT + 1)
    ]
    # when
    token = api.post(
        "/api/v1/auth/token", {"email": admin_user.email, "password": PASSWORD}, format="json"
    )
    admin = admin_log_in(browser(ATTACKER), admin_user.email, PASSWORD)
    # then
    assert wrong == [401] * (settings.AXES_FAILURE_LIMIT + 1)
    assert (token.status_code, sorted(token.json())) == (200, ["access", "refresh"])
    assert admin.status_code == 302
    assert AccessAttempt.objects.filter(ip_address=ATTACKER).count() == 0
