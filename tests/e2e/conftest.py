"""A running stack for end-to-end tests: both APIs, the relay and the projector as processes.

It gets its own database on the test PostgreSQL server and its own topic and index
namespace, so nothing the in-process tests do can disturb it (and vice versa).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import dj_database_url
import psycopg
import pytest
import requests

from infra.stack.processes import ROOT, celery, fresh_metrics_dir, gunicorn, pipeline_processes
from infra.stack.servers import free_port, wait_for
from infra.stack.supervisor import Supervisor
from tests.support.live_stack import ADMIN_EMAIL, LOG_DIR, PASSWORD, LiveStack, file_sink
from tests.support.traffic import Parties


@pytest.fixture(scope="session")
def live_stack(namespace: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
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
        # As the launcher does: every process of this stack counts into one directory.
        "PROMETHEUS_MULTIPROC_DIR": str(fresh_metrics_dir(tmp_path_factory.mktemp("metrics"))),
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
