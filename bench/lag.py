"""Command-accepted -> visible-on-read-API lag of the shopstream pipeline.

Run on demand (this is not part of the test suite). Start the whole stack in one terminal:

    make up

then, in another terminal, from the repository root:

    .venv/bin/python bench/lag.py --rate 50 --count 500

What it does: creates `--count` products with `POST <write-url>/api/v1/products` on a steady
schedule of `--rate` commands per second. The sending loop sleeps until slot i (start + i / rate)
and hands command i to a small pool of sender threads (`--senders`), so a slow response does not
push later slots back; a command that finds no free sender goes out late, and the report counts
late sends and gives the achieved rate. For every command answered 201 it measures, from the
moment the 201 arrived:

  detail lag  until `GET <read-url>/api/v1/products/{id}` first answers 200
  search lag  until `GET <read-url>/api/v1/products?search=<token>` first returns the product
              (every product's name carries a unique token)

A small pool of watcher threads (`--watchers`) probes each pending product, detail and search
separately, about every `--poll-interval` seconds (5 ms). The visibility moment is the arrival
of the first successful probe's response, so a lag is an upper bound; the report also gives the
"window" (from the start of the last failed probe to that arrival) inside which the product
really became visible, and warns when the watchers fell behind, i.e. when the read API could not
answer the probes fast enough for the lags to be fine-grained. A product not visible both ways
within `--timeout` seconds is reported missing.

Exit status: 0 all visible; 1 a product missing or a command failed; 2 usage error or the
stack is not up; 130 interrupted (partial results are still printed).

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
from concurrent.futures import ThreadPoolExecutor
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
    # Start of the latest probe that did not see the product: the lower end of the window in
    # which it became visible (the upper end is detail_at / search_at).
    detail_miss_at: float = 0.0
    search_miss_at: float = 0.0

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
    """Pending (product, kind) probes ordered by when each is next due; kind: detail|search."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch, str]] = []
        self._sequence = itertools.count()
        self._condition = threading.Condition()
        self._closed = False  # no more watches will be added
        self._aborted = False  # stop now, abandon what is pending

    def put(self, watch: Watch, kind: str, due: float) -> None:
        with self._condition:
            heapq.heappush(self._heap, (due, next(self._sequence), watch, kind))
            self._condition.notify()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def abort(self) -> None:
        with self._condition:
            self._aborted = True
            self._condition.notify_all()

    def take(self, hard_deadline: float) -> tuple[Watch, str] | None:
        """The next due watch, waiting for it; None once there is nothing left to do."""
        with self._condition:
            while not self._aborted and time.monotonic() < hard_deadline:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        _, _, watch, kind = heapq.heappop(self._heap)
                        return watch, kind
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
    parser.add_argument("--senders", type=positive_int, default=4, help="sender threads (4)")
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
    args: argparse.Namespace,
    run_id: str,
    queue: WatchQueue,
    results: Results,
    lock: threading.Lock,
) -> None:
    """Create the products on a fixed schedule: command i goes out at start + i / rate.

    This loop only sleeps until each slot and hands the command to a small pool of sender
    threads, so a slow response does not push the following slots back; a command still
    waiting for a free sender when its slot passes is sent late, and counted as such.
    """
    interval = 1.0 / args.rate
    local = threading.local()

    def send(index: int, slot: float) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        token = f"lag{run_id}n{index:06d}"
        body = {
            "name": f"Lag bench {token}",
            "description": "Created by bench/lag.py to measure read-side lag.",
            "price": "12.50",
            "stock": 3,
        }
        sent_at = time.monotonic()
        with lock:
            results.sent_at.append(sent_at)
            results.max_lateness = max(results.max_lateness, sent_at - slot)
            results.late_sends += sent_at - slot > interval
        try:
            response = local.session.post(
                f"{args.write_url}{PRODUCTS_PATH}", json=body, timeout=POST_TIMEOUT
            )
            accepted_at = time.monotonic()
            if response.status_code != 201:
                raise ValueError(f"{response.status_code} {response.text[:200]}")
            product_id = str(response.json()["id"])
        except Exception as error:  # noqa: BLE001 - every failure is reported as a failed command
            with lock:
                results.failed_commands.append(f"#{index}: {type(error).__name__}: {error}")
            return
        watch = Watch(index, product_id, token, accepted_at, accepted_at + args.timeout)
        watch.detail_miss_at = watch.search_miss_at = accepted_at
        with lock:
            results.post_latency.append(accepted_at - sent_at)
            results.accepted.append(watch)
        queue.put(watch, "detail", accepted_at)
        queue.put(watch, "search", accepted_at)

    start = time.monotonic() + 0.05
    with ThreadPoolExecutor(args.senders, thread_name_prefix="sender") as pool:
        try:
            for index in range(args.count):
                slot = start + index * interval
                delay = slot - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(send, index, slot)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def watch_products(
    args: argparse.Namespace,
    queue: WatchQueue,
    results: Results,
    lock: threading.Lock,
    hard_deadline: float,
) -> None:
    """Probe due (product, kind) pairs until each is visible or past its product's deadline."""
    session = requests.Session()
    detail_base = f"{args.read_url}{PRODUCTS_PATH}/"
    search_url = f"{args.read_url}{PRODUCTS_PATH}"
    while (item := queue.take(hard_deadline)) is not None:
        watch, kind = item
        error_text = ""
        started = time.monotonic()
        try:
            if kind == "detail":
                response = session.get(detail_base + watch.product_id, timeout=PROBE_TIMEOUT)
                visible = response.status_code == 200
                if response.status_code not in (200, 404):
                    error_text = f"detail {response.status_code} {response.text[:200]}"
            else:
                response = session.get(
                    search_url,
                    params={"search": watch.token, "page_size": "5"},
                    timeout=PROBE_TIMEOUT,
                )
                found = response.json().get("results", []) if response.status_code == 200 else []
                visible = any(hit.get("id") == watch.product_id for hit in found)
                if response.status_code != 200:
                    error_text = f"search {response.status_code} {response.text[:200]}"
        except (requests.RequestException, ValueError, AttributeError) as error:
            visible = False
            error_text = f"{kind} {type(error).__name__}: {error}"
        now = time.monotonic()
        if visible:
            setattr(watch, f"{kind}_at", now)
        else:
            setattr(watch, f"{kind}_miss_at", started)
        with lock:
            results.probes += 1
            results.probe_latency.append(now - started)
            if error_text:
                results.probe_errors += 1
                results.last_probe_error = error_text
        if not visible and now < watch.deadline:
            queue.put(watch, kind, min(now + args.poll_interval, watch.deadline))


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
    sent_at = sorted(results.sent_at)
    sent = len(sent_at)
    window = sent_at[-1] - sent_at[0] if sent > 1 else 0.0
    achieved = f"{(sent - 1) / window:.1f}" if window > 0 else "n/a"
    accepted = list(results.accepted)
    failed = len(results.failed_commands)
    missing = sum(1 for w in accepted if not w.done)
    kinds = {}
    for kind, label in (
        ("detail", "detail  GET products/{id}"),
        ("search", "search  ?search=<token>"),
    ):
        seen = [(getattr(w, f"{kind}_at"), getattr(w, f"{kind}_miss_at"), w) for w in accepted]
        kinds[kind] = {
            "label": label,
            "n": sum(1 for at, _, _ in seen if at is not None),
            "lag": summary_ms([at - w.accepted_at for at, _, w in seen if at is not None]),
            "window": summary_ms([at - miss for at, miss, _ in seen if at is not None]),
            "missing": sum(1 for at, _, _ in seen if at is None),
        }
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    post = summary_ms(results.post_latency)
    probe = summary_ms(results.probe_latency)
    ok = missing == 0 and failed == 0 and not results.interrupted and sent == args.count

    print()
    print(f"shopstream read-side lag  (run {run_id}, {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)")
    print(f"command:   {command}")
    print(f"write API: {args.write_url}   read API: {args.read_url}")
    print(
        f"rate:      target {args.rate:g}/s, achieved {achieved}/s ({sent} sent over "
        f"{window:.1f} s by {args.senders} senders; {results.late_sends} sent more than one "
        f"slot late, worst {results.max_lateness * 1000:.0f} ms late)"
    )
    print(
        f"commands:  N={sent}, {len(accepted)} accepted (201), {failed} failed; POST latency ms "
        f"p50 {post['p50']}  p90 {post['p90']}  p99 {post['p99']}  max {post['max']}"
    )
    print()
    header = ("N", "p50", "p90", "p99", "max", "missing", "window p50")
    print(f"{'lag from the 201, ms':<28}" + "".join(f"{h:>8}" for h in header[:5]), end="")
    print(f"{header[5]:>9}{header[6]:>12}")
    for row in kinds.values():
        lag = row["lag"]
        print(
            f"{row['label']:<28}{row['n']:>8}{lag['p50']:>8}{lag['p90']:>8}{lag['p99']:>8}"
            f"{lag['max']:>8}{row['missing']:>9}{row['window']['p50']:>12}"
        )
    print("(window: how long before the first successful probe the last failed one started;")
    print(" the product became visible within it, so a lag overstates by up to that much)")
    print()
    probe_rate = results.probes / elapsed if elapsed > 0 else 0.0
    print(
        f"watchers:  {args.watchers} threads, poll every {args.poll_interval * 1000:g} ms, "
        f"timeout {args.timeout:g} s; {results.probes} probes ({probe_rate:.0f}/s, latency ms "
        f"p50 {probe['p50']}  p99 {probe['p99']}), {results.probe_errors} probe errors"
    )
    # With watchers to spare, a window is about one poll interval plus two probe round trips.
    round_trip = percentile(results.probe_latency, 0.5) if results.probe_latency else 0.0
    expected_ms = 1000 * (args.poll_interval + 2 * round_trip)
    coarse = [
        row["label"].split()[0]
        for row in kinds.values()
        if row["n"] and float(row["window"]["p50"]) > 2 * expected_ms + 10
    ]
    if coarse:
        print(
            f"warning:   the watchers fell behind ({', '.join(coarse)} window p50 over twice the "
            f"{expected_ms:.0f} ms expected), so the lags above are coarse; lower --rate, or add "
            "--watchers if the machine has idle CPU"
        )
    if results.last_probe_error:
        print(f"last probe error: {results.last_probe_error}")
    for line in results.failed_commands[:5]:
        print(f"failed command {line}")
    if missing:
        examples = ", ".join(w.product_id for w in accepted if not w.done)
        when = "when interrupted" if results.interrupted else f"after {args.timeout:g} s"
        print(f"not visible {when} ({missing}): {examples[:400]}")
    if results.interrupted:
        print("interrupted: the numbers above are partial")
    print(f"result:    {'OK' if ok else 'FAIL'}  (missing {missing}, failed commands {failed})")

    if args.markdown:
        d, s = kinds["detail"]["lag"], kinds["search"]["lag"]
        windows = f"{kinds['detail']['window']['p50']} / {kinds['search']['window']['p50']}"
        shown = command.replace("|", "\\|")  # a pipe would end the table cell
        print()
        print(
            "| date (UTC) | commit | host | rate target / achieved | N "
            "| detail lag p50 / p90 / p99 / max ms | search lag p50 / p90 / p99 / max ms "
            "| window p50 ms (detail / search) | missing | command |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {git_revision()} "
            f"| {platform.node() or '?'} ({os.cpu_count()} CPU) "
            f"| {args.rate:g} / {achieved} | {sent} "
            f"| {d['p50']} / {d['p90']} / {d['p99']} / {d['max']} "
            f"| {s['p50']} / {s['p90']} / {s['p99']} / {s['max']} "
            f"| {windows} | {missing} | `{shown}` |"
        )
    if results.interrupted:
        return 130
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
        send_commands(args, run_id, queue, results, lock)
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
