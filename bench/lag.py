"""Command-accepted -> visible-on-read-API lag of the shopstream pipeline.

Run on demand (this is not part of the test suite). Start the whole stack in one terminal:

    make up

then, in another terminal, from the repository root:

    .venv/bin/python bench/lag.py --rate 50 --count 500

What it does: creates `--count` products with `POST <write-url>/api/v1/products` on a steady
schedule of `--rate` commands per second: one sender sends command i at start + i / rate,
sleeping until that slot; a send that is already late goes out at once, so a write API slower
than the rate shows up as late sends and an achieved rate below the target, not as a silently
stretched schedule. For every command answered 201 it measures, from the moment the 201
arrived:

  detail lag  until `GET <read-url>/api/v1/products/{id}` first answers 200
  search lag  until `GET <read-url>/api/v1/products?search=<token>` first returns the product
              (every product's name carries a unique token)

A small pool of watcher threads polls each pending product about every `--poll-interval`
seconds (default 5 ms). The visibility moment is the arrival of the first successful probe's
response, so a lag is an upper bound, exact to within one poll interval plus one read round
trip. A product that is not visible within `--timeout` seconds is reported missing; any
missing product or failed command makes the exit status 1 (2: usage error, stack not up).

Only loopback URLs are accepted. Only the standard library and `requests` are used.
With `--markdown` the result is also printed as a table to paste into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import heapq
import ipaddress
import itertools
import math
import os
import platform
import secrets
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

PRODUCTS_PATH = "/api/v1/products"
POST_TIMEOUT = 10.0  # seconds one command may take before it counts as failed
PROBE_TIMEOUT = 2.0  # seconds one read probe may take
JOIN_GRACE = 5.0  # seconds past the last deadline the watchers get to finish


@dataclass
class Watch:
    """One accepted product whose visibility on the read API is being awaited."""

    index: int
    product_id: str
    token: str
    accepted_at: float
    deadline: float
    detail_at: float | None = None
    search_at: float | None = None

    @property
    def done(self) -> bool:
        return self.detail_at is not None and self.search_at is not None


@dataclass
class Results:
    sent_at: list[float] = field(default_factory=list)
    late_sends: int = 0
    max_lateness: float = 0.0
    post_latency: list[float] = field(default_factory=list)
    failed_commands: list[str] = field(default_factory=list)
    accepted: list[Watch] = field(default_factory=list)
    probes: int = 0
    probe_latency: list[float] = field(default_factory=list)
    probe_errors: int = 0
    last_probe_error: str = ""
    interrupted: bool = False


class WatchQueue:
    """Pending watches ordered by when each is next due for a probe."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._closed = False  # no more watches will be added
        self._aborted = False  # stop now, abandon what is pending

    def put(self, watch: Watch, due: float) -> None:
        with self._condition:
            heapq.heappush(self._heap, (due, next(self._sequence), watch))
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def abort(self) -> None:
        with self._condition:
            self._aborted = True
            self._condition.notify_all()

    def take(self, hard_deadline: float) -> Watch | None:
        """The next due watch, waiting for it; None once there is nothing left to do."""
        with self._condition:
            while not self._aborted and time.monotonic() < hard_deadline:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        return heapq.heappop(self._heap)[2]
                elif self._closed:
                    return None
                else:
                    wait = 0.05
                self._condition.wait(min(wait, hard_deadline - time.monotonic(), 0.05))
            return None


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of non-empty `values`."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summary_ms(values: list[float]) -> dict[str, str]:
    if not values:
        return {key: "-" for key in ("p50", "p90", "p99", "max")}
    return {
        "p50": f"{percentile(values, 0.50) * 1000:.0f}",
        "p90": f"{percentile(values, 0.90) * 1000:.0f}",
        "p99": f"{percentile(values, 0.99) * 1000:.0f}",
        "max": f"{max(values) * 1000:.0f}",
    }


def loopback_url(value: str) -> str:
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL")
    if host != "localhost":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise argparse.ArgumentTypeError(f"{value!r}: only loopback addresses are allowed")
    return value.rstrip("/")


def positive_float(value: str) -> float:
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number")
    return number


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive integer")
    return number


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    write_port = os.environ.get("WRITE_API_PORT") or "8000"
    read_port = os.environ.get("READ_API_PORT") or "8001"
    parser = argparse.ArgumentParser(
        prog="bench/lag.py",
        description="Measure command-accepted -> visible-on-read-API lag (see the docstring).",
    )
    parser.add_argument("--rate", type=positive_float, default=20.0, help="commands/s (20)")
    parser.add_argument("--count", type=positive_int, default=300, help="commands to send (300)")
    parser.add_argument(
        "--write-url",
        type=loopback_url,
        default=f"http://127.0.0.1:{write_port}",
        help="write API base URL (http://127.0.0.1:$WRITE_API_PORT, else port 8000)",
    )
    parser.add_argument(
        "--read-url",
        type=loopback_url,
        default=f"http://127.0.0.1:{read_port}",
        help="read API base URL (http://127.0.0.1:$READ_API_PORT, else port 8001)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=10.0, help="s before a product is missing (10)"
    )
    parser.add_argument("--watchers", type=positive_int, default=4, help="watcher threads (4)")
    parser.add_argument(
        "--poll-interval", type=positive_float, default=0.005, help="s between probes (0.005)"
    )
    parser.add_argument(
        "--markdown", action="store_true", help="also print a table to paste into BENCHMARKS.md"
    )
    return parser.parse_args(argv)


def preflight(write_url: str, read_url: str) -> str | None:
    """Why the stack cannot be benchmarked, or None when both APIs are ready."""
    for name, url in (("write API", write_url), ("read API", read_url)):
        try:
            response = requests.get(f"{url}/readyz", timeout=5)
        except requests.RequestException as error:
            return (
                f"{name} at {url} does not answer ({type(error).__name__}); is `make up` running?"
            )
        if response.status_code != 200:
            return f"{name} at {url}/readyz answered {response.status_code}: {response.text[:300]}"
    return None


def send_commands(
    args: argparse.Namespace, run_id: str, queue: WatchQueue, results: Results
) -> None:
    """Create the products on a fixed schedule: command i is sent at start + i / rate."""
    session = requests.Session()
    interval = 1.0 / args.rate
    start = time.monotonic() + 0.05
    for index in range(args.count):
        slot = start + index * interval
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sent_at = time.monotonic()
        lateness = sent_at - slot
        results.max_lateness = max(results.max_lateness, lateness)
        if lateness > interval:
            results.late_sends += 1
        results.sent_at.append(sent_at)
        token = f"lag{run_id}n{index:06d}"
        body = {
            "name": f"Lag bench {token}",
            "description": "Created by bench/lag.py to measure read-side lag.",
            "price": "12.50",
            "stock": 3,
        }
        try:
            response = session.post(
                f"{args.write_url}{PRODUCTS_PATH}", json=body, timeout=POST_TIMEOUT
            )
        except requests.RequestException as error:
            results.failed_commands.append(f"#{index}: {type(error).__name__}: {error}")
            continue
        accepted_at = time.monotonic()
        if response.status_code != 201:
            results.failed_commands.append(
                f"#{index}: {response.status_code} {response.text[:200]}"
            )
            continue
        results.post_latency.append(accepted_at - sent_at)
        try:
            product_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            results.failed_commands.append(f"#{index}: 201 without an id: {response.text[:200]}")
            continue
        watch = Watch(index, product_id, token, accepted_at, accepted_at + args.timeout)
        results.accepted.append(watch)
        queue.put(watch, accepted_at)


def probe(
    session: requests.Session, url: str, params: dict[str, str] | None, latency: list[float]
) -> requests.Response:
    started = time.monotonic()
    response = session.get(url, params=params, timeout=PROBE_TIMEOUT)
    latency.append(time.monotonic() - started)
    return response


def watch_products(
    args: argparse.Namespace,
    queue: WatchQueue,
    results: Results,
    lock: threading.Lock,
    hard_deadline: float,
) -> None:
    """Probe due products until each is visible both ways or past its deadline."""
    session = requests.Session()
    detail_base = f"{args.read_url}{PRODUCTS_PATH}/"
    search_url = f"{args.read_url}{PRODUCTS_PATH}"
    while (watch := queue.take(hard_deadline)) is not None:
        probes = errors = 0
        error_text = ""
        latency: list[float] = []
        try:
            if watch.detail_at is None:
                probes += 1
                response = probe(session, detail_base + watch.product_id, None, latency)
                if response.status_code == 200:
                    watch.detail_at = time.monotonic()
                elif response.status_code != 404:
                    errors += 1
                    error_text = f"detail {response.status_code} {response.text[:200]}"
            if watch.search_at is None:
                probes += 1
                response = probe(
                    session, search_url, {"search": watch.token, "page_size": "5"}, latency
                )
                if response.status_code == 200:
                    found = response.json().get("results", [])
                    if any(item.get("id") == watch.product_id for item in found):
                        watch.search_at = time.monotonic()
                else:
                    errors += 1
                    error_text = f"search {response.status_code} {response.text[:200]}"
        except (requests.RequestException, ValueError, AttributeError) as error:
            errors += 1
            error_text = f"{type(error).__name__}: {error}"
        with lock:
            results.probes += probes
            results.probe_latency.extend(latency)
            results.probe_errors += errors
            if error_text:
                results.last_probe_error = error_text
        now = time.monotonic()
        if not watch.done and now < watch.deadline:
            queue.put(watch, min(now + args.poll_interval, watch.deadline))


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "diff", "--quiet", "HEAD"], capture_output=True, timeout=5, check=False
        ).returncode
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if dirty else head


def report(args: argparse.Namespace, results: Results, run_id: str, elapsed: float) -> int:
    sent = len(results.sent_at)
    window = results.sent_at[-1] - results.sent_at[0] if sent > 1 else 0.0
    achieved = (sent - 1) / window if window > 0 else float("nan")
    accepted = list(results.accepted)
    detail = [w.detail_at - w.accepted_at for w in accepted if w.detail_at is not None]
    search = [w.search_at - w.accepted_at for w in accepted if w.search_at is not None]
    missing_detail = sum(1 for w in accepted if w.detail_at is None)
    missing_search = sum(1 for w in accepted if w.search_at is None)
    missing = sum(1 for w in accepted if not w.done)
    failed = len(results.failed_commands)
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    post = summary_ms(results.post_latency)
    d, s = summary_ms(detail), summary_ms(search)
    ok = missing == 0 and failed == 0 and not results.interrupted and sent == args.count

    print()
    print(f"shopstream read-side lag  (run {run_id}, {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)")
    print(f"command:   {command}")
    print(f"write API: {args.write_url}   read API: {args.read_url}")
    print(
        f"rate:      target {args.rate:g}/s, achieved {achieved:.1f}/s "
        f"({sent} sent over {window:.1f} s; {results.late_sends} sent more than one slot late, "
        f"worst {results.max_lateness * 1000:.0f} ms late)"
    )
    print(f"commands:  N={sent}, {len(accepted)} accepted (201), {failed} failed")
    print(
        f"POST 201 latency ms: p50 {post['p50']}  p90 {post['p90']}  p99 {post['p99']}  "
        f"max {post['max']}"
    )
    print(
        f"{'lag from 201 (ms)':<28}{'N':>6}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'missing':>9}"
    )
    for label, values, stats, lost in (
        ("detail  GET products/{id}", detail, d, missing_detail),
        ("search  GET products?search", search, s, missing_search),
    ):
        print(
            f"{label:<28}{len(values):>6}{stats['p50']:>8}{stats['p90']:>8}"
            f"{stats['p99']:>8}{stats['max']:>8}{lost:>9}"
        )
    probe_rate = results.probes / elapsed if elapsed > 0 else 0.0
    print(
        f"watchers:  {args.watchers} threads, poll every {args.poll_interval * 1000:g} ms, "
        f"timeout {args.timeout:g} s; {results.probes} probes ({probe_rate:.0f}/s), "
        f"{results.probe_errors} probe errors"
    )
    probe = summary_ms(results.probe_latency)
    print(
        f"probe latency ms: p50 {probe['p50']}  p90 {probe['p90']}  p99 {probe['p99']}  "
        f"max {probe['max']}  (a lag is exact to about poll interval + 2 probe round trips)"
    )
    if results.last_probe_error:
        print(f"last probe error: {results.last_probe_error}")
    for line in results.failed_commands[:5]:
        print(f"failed command {line}")
    if missing:
        examples = ", ".join(w.product_id for w in accepted if not w.done)
        print(f"missing after {args.timeout:g} s ({missing}): {examples[:400]}")
    if results.interrupted:
        print("interrupted: the numbers above are partial")
    print(f"result:    {'OK' if ok else 'FAIL'}  (missing {missing}, failed commands {failed})")

    if args.markdown:
        print()
        print(
            "| date (UTC) | commit | host | rate target / achieved | N "
            "| detail p50 / p90 / p99 / max ms | search p50 / p90 / p99 / max ms "
            "| missing | command |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {git_revision()} "
            f"| {platform.node() or '?'} ({os.cpu_count()} CPU) "
            f"| {args.rate:g} / {achieved:.1f} | {sent} "
            f"| {d['p50']} / {d['p90']} / {d['p99']} / {d['max']} "
            f"| {s['p50']} / {s['p90']} / {s['p99']} / {s['max']} "
            f"| {missing} | `{command.replace('|', '%7C')}` |"
        )
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = preflight(args.write_url, args.read_url)
    if problem:
        print(f"bench/lag.py: {problem}", file=sys.stderr)
        return 2
    run_id = secrets.token_hex(4)
    queue, results, lock = WatchQueue(), Results(), threading.Lock()
    # Every watch ends by its own deadline; this bounds the watchers even if one is stuck.
    hard_deadline = (
        time.monotonic() + args.count / args.rate + args.count * POST_TIMEOUT + args.timeout
    )
    watchers = [
        threading.Thread(
            target=watch_products,
            args=(args, queue, results, lock, hard_deadline),
            name=f"watcher-{n}",
            daemon=True,
        )
        for n in range(args.watchers)
    ]
    for watcher in watchers:
        watcher.start()
    print(
        f"bench/lag.py: sending {args.count} commands at {args.rate:g}/s to {args.write_url}, "
        f"watching {args.read_url} (run {run_id}) ...",
        flush=True,
    )
    started = time.monotonic()
    try:
        send_commands(args, run_id, queue, results)
        queue.close()
        join_until = time.monotonic() + args.timeout + PROBE_TIMEOUT * 2 + JOIN_GRACE
        for watcher in watchers:
            watcher.join(max(0.0, join_until - time.monotonic()))
    except KeyboardInterrupt:
        results.interrupted = True
    queue.abort()
    for watcher in watchers:
        watcher.join(PROBE_TIMEOUT + 1)
    elapsed = time.monotonic() - started
    return report(args, results, run_id, elapsed)


if __name__ == "__main__":
    sys.exit(main())
