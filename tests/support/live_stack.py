"""The end-to-end stack as tests drive it: its URLs, database and processes, and polling."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from infra.stack.processes import ROOT
from infra.stack.supervisor import Supervisor, prefixed
from tests.support.shop_data import ADDRESS, PASSWORD
from write_api.application import Shop, event_store_env

__all__ = ["PASSWORD"]

LOG_DIR = ROOT / ".local" / "test-logs"
ADMIN_EMAIL = "admin@e2e.example.com"


@dataclass
class LiveStack:
    write_url: str
    read_url: str
    database: dict[str, Any]
    namespace: str
    supervisor: Supervisor
    log_file: Path

    def shop(self) -> Shop:
        return Shop(env=event_store_env(self.database))

    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo()) as connection:
            return connection.execute(query, params).fetchall()

    def conninfo(self) -> str:
        d = self.database
        return f"postgresql://{d['USER']}@{d['HOST']}:{d['PORT']}/{d['NAME']}"

    @property
    def opensearch_url(self) -> str:
        return self.supervisor.base_env["OPENSEARCH_URL"]

    @property
    def kafka_servers(self) -> str:
        return self.supervisor.base_env["KAFKA_BOOTSTRAP_SERVERS"]

    @property
    def topic_prefix(self) -> str:
        return f"{self.namespace}."

    @property
    def mail_dir(self) -> Path:
        return Path(self.supervisor.base_env["EMAIL_FILE_PATH"])

    def restart(self, name: str) -> None:
        self.supervisor.ensure_running(name)

    def manage(self, *args: str) -> str:
        """Run a management command against this stack, as an operator (or beat) would."""
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *args],
            env=self.supervisor.base_env,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return result.stdout

    def session(self, role: str) -> requests.Session:
        """An HTTP session logged in as a new user of `role` (or as the bootstrapped admin)."""
        email = ADMIN_EMAIL
        if role != "admin":
            email = f"{role}-{uuid.uuid4().hex[:10]}@e2e.example.com"
            body = {"email": email, "password": PASSWORD, "role": role}
            signed_up = requests.post(f"{self.write_url}/api/v1/auth/signup", json=body, timeout=30)
            assert signed_up.status_code == 201, signed_up.text
        tokens = requests.post(
            f"{self.write_url}/api/v1/auth/token",
            json={"email": email, "password": PASSWORD},
            timeout=30,
        )
        assert tokens.status_code == 200, tokens.text
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {tokens.json()['access']}"
        return session


def file_sink(path: Path) -> Any:
    lock = threading.Lock()

    def write(name: str, lines: str, color: str) -> None:
        with lock, path.open("a") as log:
            log.write(prefixed(f"{name:<12}| ", lines))

    return write


def eventually(check: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `check()` until it returns a truthy value; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"condition not met within {timeout} s"
            return value
        time.sleep(interval)


def settle(check: Any, timeout: float, interval: float = 0.5) -> bool:
    """Poll `check()` until it holds or `timeout` passes; the caller asserts, for a useful diff."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(interval)
    return bool(check())


def paid_order(
    stack: LiveStack, name: str, price: str = "10.00"
) -> tuple[requests.Session, requests.Session, str]:
    """A seller, a customer and the id of the customer's paid order for one new product."""
    seller, customer = stack.session("seller"), stack.session("customer")
    w = f"{stack.write_url}/api/v1"
    product = seller.post(
        f"{w}/products",
        json={"name": name, "description": "", "price": price, "stock": 2},
        timeout=10,
    ).json()
    customer.post(f"{w}/cart/items", json={"product_id": product["id"], "quantity": 1}, timeout=10)
    order_id = customer.post(
        f"{w}/checkout", json={"shipping_address": ADDRESS}, timeout=10
    ).json()["order_id"]
    paid = customer.post(f"{w}/orders/{order_id}/pay", json={"payment_token": "tok_ok"}, timeout=10)
    assert paid.status_code == 200, paid.text
    return seller, customer, str(order_id)
