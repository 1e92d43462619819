"""`make up`'s launcher: serves both APIs, stops everything on SIGTERM, keeps data across runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
import requests

from infra.stack.processes import ROOT
from infra.stack.servers import free_port, wait_for
from tests.support.live_stack import PASSWORD, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

SERVER_URLS = ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "OPENSEARCH_URL")


def start_launcher(workdir: Path, write_port: int, read_port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_URLS}
    env.update(
        SHOPSTREAM_LOCAL_DIR=str(workdir),
        WRITE_API_PORT=str(write_port),
        READ_API_PORT=str(read_port),
        SHOPSTREAM_ENV="development",
    )
    log = (workdir / "launcher.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "infra.stack", "up"], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def stop_and_check_nothing_is_left(launcher: subprocess.Popen[bytes]) -> float:
    children = psutil.Process(launcher.pid).children(recursive=True)
    assert len(children) >= 10  # four servers, six app processes and their workers
    started = time.monotonic()
    launcher.send_signal(signal.SIGTERM)
    launcher.wait(timeout=15)
    elapsed = time.monotonic() - started
    _, alive = psutil.wait_procs(children, timeout=1)
    assert [p.pid for p in alive] == []
    return elapsed


def test_launcher_serves_both_apis_stops_cleanly_and_keeps_the_event_store(tmp_path: Path) -> None:
    # given: a running stack on ports of its own
    write_port, read_port = free_port(), free_port()
    write, read = f"http://127.0.0.1:{write_port}", f"http://127.0.0.1:{read_port}"
    first = start_launcher(tmp_path, write_port, read_port)
    try:
        for url in (write, read):
            wait_for(
                lambda url=url: requests.get(f"{url}/healthz", timeout=1).raise_for_status(),
                url,
                timeout=90,
            )
        token = f"keep{uuid.uuid4().hex[:8]}"
        seller = {"email": f"{token}@example.com", "password": PASSWORD, "role": "seller"}
        assert requests.post(f"{write}/api/v1/auth/signup", json=seller, timeout=10).ok
        access = requests.post(f"{write}/api/v1/auth/token", json=seller, timeout=10).json()
        body = {"name": f"{token} vase", "description": "", "price": "5.00", "stock": 1}
        created = requests.post(
            f"{write}/api/v1/products",
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {access['access']}"},
        )
        assert created.status_code == 201
        # and every process counts into the run's metrics directory, which /metrics reads
        metrics = requests.get(f"{read}/metrics", timeout=10).text
        assert 'shopstream_http_requests_total{method="POST",route="/api/<version>/products"' in (
            metrics.replace('service="write-api",', "")
        )
        assert any((tmp_path / "prometheus").iterdir())
    finally:
        # when: SIGTERM
        elapsed = stop_and_check_nothing_is_left(first)
    # then: it stopped within 10 s with no orphan, and took its metrics directory away
    assert first.returncode == 0
    assert elapsed < 10
    assert not (tmp_path / "prometheus").exists()
    # and when: it starts again on the same data directory with a fresh broker and index
    second = start_launcher(tmp_path, write_port, read_port)
    try:
        wait_for(lambda: requests.get(f"{read}/healthz", timeout=1).raise_for_status(), read, 90)
        # then: search shows what was stored in the first run
        found = eventually(
            lambda: (
                requests.get(f"{read}/api/v1/products", params={"search": token}, timeout=5).json()[
                    "count"
                ]
                == 1
            ),
            timeout=30,
        )
        assert found
    finally:
        stop_and_check_nothing_is_left(second)
