"""A running stack for end-to-end tests: both APIs, the relay and the projector as processes.

It gets its own database on the test PostgreSQL server and its own topic and index
namespace, so nothing the in-process tests do can disturb it (and vice versa).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dj_database_url
import psycopg
import pytest
import requests

from infra.stack.processes import ROOT, celery, gunicorn, pipeline_processes
from infra.stack.servers import free_port, wait_for
from infra.stack.supervisor import Supervisor
from tests.support.shop_data import ADDRESS
from tests.support.traffic import Parties
from write_api.application import Shop
from write_api.event_store import event_store_env

LOG_DIR = ROOT / ".local" / "test-logs"
ADMIN_EMAIL = "admin@e2e.example.com"
PASSWORD = "correct-horse-battery-staple"


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

    def write(name: str, line: str, color: str) -> None:
        with lock, path.open("a") as log:
            log.write(f"{name:<12}| {line.rstrip()}\n")

    return write


@pytest.fixture(scope="session")
def live_stack(namespace: str) -> Iterator[LiveStack]:
    server = dj_database_url.parse(os.environ["DATABASE_URL"])
    database = {**server, "NAME": f"e2e_{namespace}"}
    admin = f"postgresql://{server['USER']}@{server['HOST']}:{server['PORT']}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database["NAME"]}"')
    write_port, read_port = free_port(), free_port()
    env = {
        **os.environ,
        "PAYMENT_WEBHOOK_URL": f"http://127.0.0.1:{write_port}/api/v1/payments/webhook",
        "FAKE_GATEWAY_SETTLE_SECONDS": "0.2",
        "SHOPSTREAM_ENV": "test",
        "DATABASE_URL": f"postgresql://{server['USER']}@{server['HOST']}:{server['PORT']}/{database['NAME']}",
        "SHOPSTREAM_NAMESPACE": f"{namespace}e2e",
        "DJANGO_SETTINGS_MODULE": "infra.settings.write_api",
        "SHOPSTREAM_ADMIN_EMAIL": ADMIN_EMAIL,
        "SHOPSTREAM_ADMIN_PASSWORD": PASSWORD,
        "EMAIL_BACKEND": "tests.support.slow_email.SlowFileBackend",
        "EMAIL_FILE_PATH": str(LOG_DIR / f"mail-{namespace}"),
        "SLOW_EMAIL_SECONDS": "2",
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "6",
        "CELERY_RESTORE_INTERVAL_SECONDS": "1",
        # Many users from one loopback address: limits are tested in-process, not here.
        "THROTTLE_AUTH": "100000/min",
        "THROTTLE_CART": "100000/min",
        "THROTTLE_CHECKOUT": "100000/min",
    }
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "prepare_stack"], env=env, check=True, cwd=ROOT
    )
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_file = LOG_DIR / f"e2e-{namespace}.log"
    supervisor = Supervisor(env, sink=file_sink(log_file))
    for spec in [
        gunicorn("write-api", "write_api", write_port, "infra.settings.write_api"),
        gunicorn("read-api", "read_api", read_port, "infra.settings.read_api"),
        *pipeline_processes(),
        celery("celery-worker", "worker", "--concurrency", "2", "--without-gossip"),
    ]:
        supervisor.start(spec)
    stack = LiveStack(
        f"http://127.0.0.1:{write_port}",
        f"http://127.0.0.1:{read_port}",
        database,
        env["SHOPSTREAM_NAMESPACE"],
        supervisor,
        log_file,
    )
    for url in (stack.write_url, stack.read_url):
        wait_for(lambda url=url: requests.get(f"{url}/healthz", timeout=1).raise_for_status(), url)
    # Like `make up` (and compose's restart policy): a crashed process comes back.
    stopped = threading.Event()
    watcher = threading.Thread(target=restart_crashed, args=(supervisor, stopped), daemon=True)
    watcher.start()
    yield stack
    stopped.set()
    watcher.join(timeout=5)
    supervisor.stop_all(timeout=5)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database["NAME"]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def parties(live_stack: LiveStack) -> Parties:
    """A seller, three customers and the admin, logged in once, for traffic during faults."""
    return Parties(
        write_url=live_stack.write_url,
        read_url=live_stack.read_url,
        seller=live_stack.session("seller"),
        customers=[live_stack.session("customer"), live_stack.session("customer")],
        buyer=live_stack.session("customer"),
        admin=live_stack.session("admin"),
    )


def restart_crashed(supervisor: Supervisor, stopped: threading.Event) -> None:
    while not stopped.wait(0.5):
        supervisor.restart_crashed()


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
