"""Stall a real backing server as an overloaded or paused host looks: SIGSTOP, then SIGCONT.

The server keeps its sockets open and accepts connections, but answers nothing, so
clients meet timeouts rather than refused connections: the harder case to handle.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from urllib.parse import urlsplit

import psutil


def port_of(url: str) -> int:
    """The port of a server URL (`redis://h:p/0`, `http://h:p`) or a Kafka bootstrap list."""
    if "://" not in url:
        url = "tcp://" + url.split(",")[0]
    port = urlsplit(url).port
    if port is None:
        raise ValueError(f"{url!r} names no port")
    return port


def listening_pid(port: int) -> int:
    """The process listening on a local TCP port."""
    for connection in psutil.net_connections(kind="tcp"):
        if (
            connection.status == psutil.CONN_LISTEN
            and connection.laddr
            and connection.laddr.port == port
            and connection.pid
        ):
            return connection.pid
    raise LookupError(f"no process listens on port {port}")


@contextlib.contextmanager
def stalled(url: str) -> Iterator[int]:
    """Freeze the server behind `url` for the block; it resumes even if the block raises."""
    pid = listening_pid(port_of(url))
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)
