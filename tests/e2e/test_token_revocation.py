"""Revoking a user's access tokens through one worker holds in every worker of both APIs at once."""

from __future__ import annotations

from collections.abc import Callable

import psutil
import pytest
import requests

from tests.support.live_stack import LiveStack

pytestmark = pytest.mark.e2e

# Each probe opens its own connection, so the probes spread over the workers.
PROBES = 12


def statuses(url: str, token: str, send: Callable[..., requests.Response]) -> set[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return {send(url, headers=headers, json={}, timeout=10).status_code for _ in range(PROBES)}


def worker_count(stack: LiveStack, name: str) -> int:
    return len(psutil.Process(stack.supervisor.find(name).process.pid).children(recursive=True))


def access_token(session: requests.Session) -> str:
    return str(session.headers["Authorization"]).removeprefix("Bearer ")


def test_the_revocation_of_a_deactivated_user_works_across_workers(live_stack: LiveStack) -> None:
    # given: a customer whose token every worker of both APIs has just accepted
    w, r = f"{live_stack.write_url}/api/v1", f"{live_stack.read_url}/api/v1"
    assert worker_count(live_stack, "write-api") >= 2
    assert worker_count(live_stack, "read-api") >= 2
    admin, customer = live_stack.session("admin"), live_stack.session("customer")
    token = access_token(customer)
    user_id = customer.get(f"{w}/auth/me", timeout=10).json()["id"]
    assert statuses(f"{w}/auth/me", token, requests.get) == {200}
    assert statuses(f"{r}/cart", token, requests.get) == {200}
    # when: an admin deactivates the customer, through one of the write API's workers
    deactivated = admin.post(f"{w}/users/{user_id}/deactivate", timeout=10)
    # then: the very next requests are refused, whichever worker of either API serves them
    assert deactivated.status_code == 200
    assert statuses(f"{w}/auth/me", token, requests.get) == {401}
    assert statuses(f"{r}/cart", token, requests.get) == {401}


def test_a_demotion_takes_effect_at_once_across_workers(live_stack: LiveStack) -> None:
    # given: a seller whose token every worker has just accepted (an empty body is a 400)
    w, r = f"{live_stack.write_url}/api/v1", f"{live_stack.read_url}/api/v1"
    admin, seller = live_stack.session("admin"), live_stack.session("seller")
    token = access_token(seller)
    user_id = seller.get(f"{w}/auth/me", timeout=10).json()["id"]
    assert statuses(f"{w}/products", token, requests.post) == {400}
    assert statuses(f"{r}/orders", token, requests.get) == {200}
    # when
    demoted = admin.post(f"{w}/users/{user_id}/role", json={"role": "customer"}, timeout=10)
    # then: the seller's token is refused everywhere (a refresh brings the new role)
    assert demoted.status_code == 200
    assert statuses(f"{w}/products", token, requests.post) == {401}
    assert statuses(f"{r}/orders", token, requests.get) == {401}
