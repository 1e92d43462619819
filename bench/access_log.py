"""CPU cost of the access log per request, in-process (see bench/README.md).

Run from a checkout:  .venv/bin/python bench/access_log.py  (or another checkout's python
with this file's path, to compare commits in one window).

Times `infra.middleware.AccessLogMiddleware` around a view that does nothing, on a real
Django request, with the log records going through the process's logging configuration
into a pipe a child process drains (as under the launcher), and subtracts the same call
without the middleware. Prints the CPU microseconds per request: the minimum over
`--repeat` passes of `--requests` requests each (the minimum is the least disturbed pass).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.read_api")
os.environ.setdefault("SHOPSTREAM_ENV", "development")
sys.path.insert(0, os.getcwd())


def cpu_per_call(call: Callable[[], object], requests: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(requests):
            call()
        best = min(best, time.process_time() - started)
    return best / requests * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/access_log.py", description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests per pass (5000)")
    parser.add_argument("--repeat", type=int, default=7, help="passes; the minimum counts (7)")
    args = parser.parse_args(argv)

    import django
    from django.http import HttpResponse
    from django.test import RequestFactory

    django.setup()
    from infra.middleware import AccessLogMiddleware

    drain = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert drain.stdin is not None
    pipe = open(drain.stdin.fileno(), "w", closefd=False)  # noqa: SIM115 - closed below
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(pipe)
    response = HttpResponse(b'{"status": "ok"}', content_type="application/json")
    request = RequestFactory().get("/api/v1/products/3f2a9c1e-0000-4000-8000-000000000000")
    request.request_id = "bench-request-id"  # type: ignore[attr-defined]
    logged = AccessLogMiddleware(lambda _: response)
    with_log = cpu_per_call(lambda: logged(request), args.requests, args.repeat)
    without = cpu_per_call(lambda: response, args.requests, args.repeat)
    pipe.close()
    drain.stdin.close()
    drain.wait(timeout=10)
    print(
        f"access log: {with_log - without:.1f} us CPU per request"
        f"  (checkout {Path.cwd()}, load {os.getloadavg()[0]:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
