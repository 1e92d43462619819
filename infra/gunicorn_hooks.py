"""Gunicorn server hooks of both APIs: `--config python:infra.gunicorn_hooks`.

A gthread worker keeps each kept-alive connection for its whole life, and the worker
that wins the accept race can take a whole burst of new connections: one core then
serves every client while the other idles (bench/read.py measured /healthz at a third
of its throughput in such runs). Closing a connection after KEEPALIVE_REQUESTS requests
lets the accept race spread the clients again, and it leans to the idle worker: a busy
worker's main thread first has to win the GIL back from its request threads. The
response that ends a connection says `Connection: close`, so clients reconnect cleanly.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import multiprocess

# A reconnect costs the server 0.1-0.16 ms of CPU, a third of a trivial request: once every
# 25 requests that is about 1 %, and a burst that landed on one worker spreads within 25.
KEEPALIVE_REQUESTS = 25


def pre_request(worker: Any, req: Any) -> None:
    if req.req_number >= KEEPALIVE_REQUESTS:
        req.must_close = True


def child_exit(server: Any, worker: Any) -> None:
    """prometheus_client's multiprocess mode: drop a dead worker's live gauges.

    Its counters and histograms stay in PROMETHEUS_MULTIPROC_DIR, so totals never go back.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
