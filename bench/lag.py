"""Command-accepted -> visible-on-read-API lag of the shopstream pipeline (see bench/README.md).

Run on demand against a running stack (`make up`):  .venv/bin/python bench/lag.py --rate 50

Creates `--count` products with `POST /api/v1/products` on a steady schedule: command i goes
out at start + i / `--rate`, handed to a small sender pool so a slow response does not push
later slots back (late sends and the achieved rate are reported), signed with the JWT of a
throwaway seller it signs up (unsigned if the write API has no accounts). From each 201:

  search lag  until a `GET /api/v1/products?search=<run token>&page_size=100` response lists it
  detail lag  until `GET /api/v1/products/{id}` first answers 200

The read load does not grow with the number of pending products: every product name carries
the run's token, and ONE thread polls that search (`--poll-interval` apart). The run's products
score alike and come newest first, so page 1 holds every pending product while fewer than 100
newer ones are indexed; if it is full and older ones are still unseen, the loop pages on to
find them and the report warns. A search lag ends at the arrival of the first response listing
the product: an upper bound, too long by at most the "window" from the start of the previous
page-1 poll to that arrival (one poll interval plus two round trips). A detail probe starts
once the product is listed (unlisted ones get one probe every `--detail-after` s), in a small
pool retrying every DETAIL_RETRY s, for every `--detail-every`-th product; its lag includes any
wait for a free probe thread (reported). Not visible both ways within `--timeout` s: missing.

Exit status: 0 all visible; 1 a product missing or a command failed; 2 usage error or the
stack is not up; 130 interrupted (partial results are still printed). Loopback URLs only;
standard library and `requests` only. `--markdown` also prints a row for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
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
PAGE_SIZE = 100  # the read API's largest page
MAX_RESULTS = 10_000  # it pages no further
POST_TIMEOUT = 10.0  # seconds one command may take before it counts as failed
PROBE_TIMEOUT = 2.0  # seconds one read request may take
DETAIL_RETRY = 0.02  # seconds between two detail probes of one product
JOIN_GRACE = 5.0  # seconds past the last deadline the threads get to finish
TOKEN_REUSE = 600.0  # seconds one access token is used (the write API issues them for 15 min)


class Seller:
    """A throwaway seller account whose JWT signs the commands (none if the API has no accounts)."""

    def __init__(self, write_url: str) -> None:
        self.url, self.lock, self.headers = f"{write_url}/api/v1/auth", threading.Lock(), {}
        email = f"lag-bench-{secrets.token_hex(6)}@example.com"
        self.credentials = {"email": email, "password": secrets.token_urlsafe(24)}
        body = {**self.credentials, "role": "seller"}
        signup = requests.post(f"{self.url}/signup", json=body, timeout=POST_TIMEOUT)
        if signup.status_code not in (201, 404):  # 404: a write API without accounts
            raise ValueError(f"sign-up answered {signup.status_code}: {signup.text[:300]}")
        self.renew_at = 0.0 if signup.status_code == 201 else math.inf
        self.auth()

    def auth(self) -> dict[str, str]:
        """Headers for one command, logging in again when the access token is getting old."""
        with self.lock:
            if time.monotonic() >= self.renew_at:
                token = requests.post(f"{self.url}/token", json=self.credentials, timeout=10)
                if token.status_code != 200:
                    raise ValueError(f"log-in answered {token.status_code}: {token.text[:300]}")
                self.headers = {"Authorization": f"Bearer {token.json()['access']}"}
                self.renew_at = time.monotonic() + TOKEN_REUSE
            return self.headers


@dataclass
class Product:
    index: int
    product_id: str
    accepted_at: float
    deadline: float
    search_at: float | None = None
    search_window: float = 0.0
    beyond_first_page: bool = False  # unseen while page 1 was full of newer ones
    detail_wanted: bool = True  # --detail-every picked it
    detail_next: float = math.inf  # when to probe it if it is not listed by then
    detail_queued: float | None = None
    detail_wait: float = 0.0  # queued -> first probe: the detail pool's backlog
    detail_at: float | None = None
    detail_probes: int = 0


@dataclass
class State:
    args: argparse.Namespace
    pool: ThreadPoolExecutor
    seller: Seller
    lock: threading.Lock = field(default_factory=threading.Lock)
    sessions: threading.local = field(default_factory=threading.local)  # one per thread
    products: dict[str, Product] = field(default_factory=dict)
    unseen: dict[str, Product] = field(default_factory=dict)  # accepted, not listed yet
    seen: dict[str, tuple[float, float]] = field(default_factory=dict)  # id: arrival, window
    sending_done: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    sent_at: list[float] = field(default_factory=list)
    late_sends: int = 0
    max_lateness: float = 0.0
    post_latency: list[float] = field(default_factory=list)
    failed_commands: list[str] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)  # search round trips
    probes: list[float] = field(default_factory=list)  # detail round trips
    max_pending: int = 0
    pages_beyond_first: int = 0
    errors: int = 0
    last_error: str = ""
    interrupted: bool = False

    def session(self) -> requests.Session:
        """This thread's HTTP session (keeps its connection open)."""
        if not hasattr(self.sessions, "session"):
            self.sessions.session = requests.Session()
        return self.sessions.session

    def error(self, text: str) -> None:
        with self.lock:
            self.errors, self.last_error = self.errors + 1, text

    def queue_detail(self, product: Product) -> None:
        """Start probing `product`'s detail (once); call with the lock held."""
        if product.detail_wanted and product.detail_queued is None and not self.stop.is_set():
            product.detail_queued = time.monotonic()
            with contextlib.suppress(RuntimeError):  # shut down: the run is over
                self.pool.submit(probe_detail, self, product)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of non-empty `values`."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def summary_ms(values: list[float]) -> dict[str, str]:
    if not values:
        return dict.fromkeys(("p50", "p90", "p99", "max"), "-")
    cut = {"p50": 0.50, "p90": 0.90, "p99": 0.99}
    out = {key: f"{percentile(values, q) * 1000:.0f}" for key, q in cut.items()}
    return out | {"max": f"{max(values) * 1000:.0f}"}


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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ports = os.environ.get("WRITE_API_PORT") or "8000", os.environ.get("READ_API_PORT") or "8001"
    parser = argparse.ArgumentParser(
        prog="bench/lag.py",
        description="Measure command-accepted -> visible-on-read-API lag (see the docstring).",
    )
    for flag, kind, default, text in (
        ("--rate", float, 20.0, "commands/s"),
        ("--count", int, 300, "commands to send"),
        ("--write-url", loopback_url, f"http://127.0.0.1:{ports[0]}", "write API, $WRITE_API_PORT"),
        ("--read-url", loopback_url, f"http://127.0.0.1:{ports[1]}", "read API, $READ_API_PORT"),
        ("--timeout", float, 10.0, "s after its 201 before a product is missing"),
        ("--senders", int, 4, "sender threads"),
        ("--poll-interval", float, 0.005, "s between two search polls"),
        ("--detail-workers", int, 2, "detail probe threads"),
        ("--detail-every", int, 1, "probe the detail of every k-th product"),
        ("--detail-after", float, 1.0, "s after the 201 to probe an unlisted product"),
    ):
        parser.add_argument(flag, type=kind, default=default, help=f"{text} ({default})")
    parser.add_argument("--markdown", action="store_true", help="also print a BENCHMARKS.md row")
    args = parser.parse_args(argv)
    for name, value in vars(args).items():
        if name not in ("write_url", "read_url", "markdown") and not 0 <= value < math.inf:
            parser.error(f"--{name.replace('_', '-')} must be a finite number >= 0")
    positive = ("rate", "count", "timeout", "senders", "detail_workers", "detail_every")
    if any(getattr(args, name) <= 0 for name in positive):
        parser.error(f"{', '.join('--' + n.replace('_', '-') for n in positive)} must be > 0")
    if not 0 <= args.poll_interval <= 1:
        parser.error("--poll-interval must be between 0 and 1 s")
    return args


def preflight(write_url: str, read_url: str) -> str | None:
    """Why the stack cannot be benchmarked, or None when both APIs are ready."""
    for name, url in (("write API", write_url), ("read API", read_url)):
        try:
            response = requests.get(f"{url}/readyz", timeout=5)
        except requests.RequestException as error:
            return f"{name} at {url} does not answer ({type(error).__name__}); is the stack up?"
        if response.status_code != 200:
            return f"{name} at {url}/readyz answered {response.status_code}: {response.text[:300]}"
    return None


def send_commands(state: State, run_token: str) -> None:
    """Create the products on a fixed schedule: command i goes out at start + i / rate."""
    args, interval = state.args, 1.0 / state.args.rate

    def send(index: int, slot: float) -> None:
        name = f"Lag bench {run_token} {run_token}n{index:06d}"
        body = {"name": name, "description": "bench/lag.py", "price": "12.50", "stock": 3}
        sent_at = time.monotonic()
        with state.lock:
            state.sent_at.append(sent_at)
            state.max_lateness = max(state.max_lateness, sent_at - slot)
            state.late_sends += sent_at - slot > interval
        try:
            url = f"{args.write_url}{PRODUCTS_PATH}"
            headers = state.seller.auth()
            response = state.session().post(url, json=body, headers=headers, timeout=POST_TIMEOUT)
            accepted_at = time.monotonic()
            if response.status_code != 201:
                raise ValueError(f"{response.status_code} {response.text[:200]}")
            product_id = str(response.json()["id"])
        except Exception as error:  # noqa: BLE001 - every failure is reported as a failed command
            with state.lock:
                state.failed_commands.append(f"#{index}: {type(error).__name__}: {error}")
            return
        product = Product(index, product_id, accepted_at, accepted_at + args.timeout)
        product.detail_wanted = index % args.detail_every == 0
        product.detail_next = accepted_at + args.detail_after
        with state.lock:
            state.post_latency.append(accepted_at - sent_at)
            state.products[product_id] = product
            if product_id in state.seen:  # listed before its 201 arrived here
                product.search_at, product.search_window = state.seen[product_id]
                state.queue_detail(product)
            else:
                state.unseen[product_id] = product

    start = time.monotonic() + 0.05
    with ThreadPoolExecutor(args.senders, thread_name_prefix="sender") as senders:
        try:
            for index in range(args.count):
                slot = start + index * interval
                if (delay := slot - time.monotonic()) > 0:
                    time.sleep(delay)
                senders.submit(send, index, slot)
        except KeyboardInterrupt:
            senders.shutdown(wait=False, cancel_futures=True)
            raise


def watch_search(state: State, run_token: str, hard_deadline: float) -> None:
    """Poll the run's search page until every product is listed or past its deadline.

    Normally only page 1 is polled. When it is full and products older than all it lists are
    still unseen (more than a page pending, or a stall), the next polls page on until they are
    found or the pages run out, then start over at page 1.
    """
    args, session = state.args, state.session()
    url, params = f"{args.read_url}{PRODUCTS_PATH}", {"search": run_token, "page_size": PAGE_SIZE}
    previous_start = time.monotonic()  # start of the latest successful poll of page 1
    page = 1
    while time.monotonic() < hard_deadline and not state.stop.is_set():
        started = time.monotonic()
        with state.lock:
            waiting = any(started < p.deadline for p in state.unseen.values())
            for product in state.unseen.values():
                if started >= product.detail_next:
                    state.queue_detail(product)
        if state.sending_done.is_set() and not waiting:
            return
        try:
            response = session.get(url, params={**params, "page": page}, timeout=PROBE_TIMEOUT)
            if response.status_code != 200:
                raise ValueError(f"{response.status_code} {response.text[:200]}")
            body = response.json()
            ids, total = [str(hit["id"]) for hit in body["results"]], int(body["count"])
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            state.error(f"search page {page} {type(error).__name__}: {error}")
            page = 1
            time.sleep(max(args.poll_interval, 0.05))
            continue
        arrived = time.monotonic()
        with state.lock:
            state.polls.append(arrived - started)
            state.pages_beyond_first += page > 1
            for product_id in ids:
                if product_id not in state.seen:
                    state.seen[product_id] = (arrived, arrived - previous_start)
                    if (product := state.unseen.pop(product_id, None)) is not None:
                        product.search_at, product.search_window = state.seen[product_id]
                        state.queue_detail(product)
            state.max_pending = max(state.max_pending, len(state.unseen))
            shown = [state.products[i].index for i in ids if i in state.products]
            floor = min(shown, default=math.inf)
            older = [p for p in state.unseen.values() if p.index < floor and arrived < p.deadline]
            more = older and page * PAGE_SIZE < min(total, MAX_RESULTS)
            for product in older if more else ():
                product.beyond_first_page = True
        if page == 1:
            previous_start = started
        page = page + 1 if more else 1
        time.sleep(args.poll_interval)


def probe_detail(state: State, product: Product) -> None:
    """Probe one product's detail until it answers 200 or the product's deadline passes."""
    url = f"{state.args.read_url}{PRODUCTS_PATH}/{product.product_id}"
    session = state.session()
    product.detail_wait = time.monotonic() - (product.detail_queued or 0.0)
    while not state.stop.is_set() and (started := time.monotonic()) < product.deadline:
        try:
            response = session.get(url, timeout=PROBE_TIMEOUT)
            if response.status_code not in (200, 404):
                state.error(f"detail {response.status_code} {response.text[:200]}")
        except requests.RequestException as error:
            state.error(f"detail {type(error).__name__}: {error}")
            response = None
        now = time.monotonic()
        with state.lock:
            state.probes.append(now - started)
            product.detail_probes += 1
            if response is not None and response.status_code == 200:
                product.detail_at = now
                return
            if product.search_at is None:  # not listed yet: free the thread, try again later
                product.detail_queued, product.detail_next = None, now + state.args.detail_after
                return
        time.sleep(DETAIL_RETRY)


def git_revision() -> str:
    run = {"capture_output": True, "text": True, "timeout": 5, "check": False}
    git = ["git", "-C", os.path.dirname(os.path.abspath(__file__))]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], **run).stdout.strip()
        dirty = subprocess.run([*git, "diff", "--quiet", "HEAD"], **run).returncode
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head or 'unknown'}{'-dirty' if dirty else ''}"


def report(state: State, run_token: str, elapsed: float) -> int:
    args, products, failed = state.args, list(state.products.values()), state.failed_commands
    sent_at, wanted = sorted(state.sent_at), [p for p in products if p.detail_wanted]
    sent, span = len(sent_at), (sent_at[-1] - sent_at[0] if len(sent_at) > 1 else 0.0)
    achieved = f"{(sent - 1) / span:.1f}" if span > 0 else "n/a"
    listed, found = [p for p in products if p.search_at], [p for p in wanted if p.detail_at]
    lags = {
        "search  ?search=<run token>": ([p.search_at - p.accepted_at for p in listed], products),
        "detail  GET products/{id}": ([p.detail_at - p.accepted_at for p in found], wanted),
    }
    search, detail = (summary_ms(values) for values, _ in lags.values())
    absent = [
        p.product_id for p in products if not (p.search_at and (p.detail_at or not p.detail_wanted))
    ]
    window = summary_ms([p.search_window for p in listed if not p.beyond_first_page])
    post, poll, probe = (summary_ms(v) for v in (state.post_latency, state.polls, state.probes))
    waits = [p.detail_wait for p in wanted if p.detail_probes]
    wait = summary_ms(waits)
    beyond = [p for p in products if p.beyond_first_page]
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    ok = not absent and not failed and not state.interrupted and sent == args.count
    now = datetime.now(UTC)

    def ms(summary: dict[str, str], *keys: str) -> str:
        return "  ".join(f"{key} {summary[key]}" for key in keys or summary)

    print(f"\nshopstream read-side lag  (run {run_token}, {now:%Y-%m-%d %H:%M:%S} UTC)")
    print(f"command:   {command}\nwrite API: {args.write_url}   read API: {args.read_url}")
    print(
        f"rate:      target {args.rate:g}/s, achieved {achieved}/s ({sent} sent over {span:.1f} s;"
        f" {state.late_sends} more than one slot late, worst {state.max_lateness * 1000:.0f} ms)"
    )
    print(
        f"commands:  N={sent}, {len(products)} accepted, {len(failed)} failed; POST ms {ms(post)}"
    )
    print(f"\n{'lag from the 201, ms':<30}" + "".join(f"{h:>8}" for h in ("N", *search, "missing")))
    for label, (values, expected) in lags.items():
        cells = [len(values), *summary_ms(values).values(), len(expected) - len(values)]
        print(f"{label:<30}" + "".join(f"{cell:>8}" for cell in cells))
    print(f"search window ms (how much a search lag may overstate): {ms(window)}")
    print(
        f"\nsearch:    1 thread, {len(state.polls)} polls ({len(state.polls) / elapsed:.0f}/s, "
        f"pause {args.poll_interval * 1000:g} ms, round trip ms {ms(poll, 'p50', 'p99')}); "
        f"at most {state.max_pending} products pending at once"
    )
    print(
        f"detail:    1 in {args.detail_every} products, {args.detail_workers} threads, "
        f"{len(state.probes)} probes ({len(state.probes) / elapsed:.0f}/s, round trip ms "
        f"{ms(probe, 'p50', 'p99')}); {sum(p.detail_probes == 1 for p in found)} of {len(found)}"
        f" found by the first probe; waited for a thread ms {ms(wait, 'p50', 'p99')}"
    )
    print(f"reads:     {state.errors} errors {state.last_error}")
    if beyond:
        print(
            f"warning:   {len(beyond)} products were unseen while page 1 was full of newer ones "
            f"(pages 2+ polled {state.pages_beyond_first} times); their search lags are coarser"
        )
    if waits and percentile(waits, 0.99) > 0.05:
        print(
            "warning:   the detail probes queued for a free thread (see above), which their "
            "lags include: raise --detail-every"
        )
    for line in failed[:5]:
        print(f"failed command {line}")
    if absent:
        when = "when interrupted" if state.interrupted else f"within {args.timeout:g} s"
        print(f"not visible {when} ({len(absent)}): {', '.join(absent)[:400]}")
    if state.interrupted:
        print("interrupted: the numbers above are partial")
    print(f"result:    {'OK' if ok else 'FAIL'}  (missing {len(absent)}, failed {len(failed)})")
    if args.markdown:
        shown = command.replace("|", "\\|")  # a pipe would end the table cell
        print(
            "\n| date (UTC) | commit | host | rate target / achieved | N | search lag p50 / p90"
            " / p99 / max ms | detail lag p50 / p90 / p99 / max ms | search window p50 ms"
            f" | max pending | missing | command |\n{'|---' * 11}|\n| {now:%Y-%m-%d %H:%M} "
            f"| {git_revision()} | {platform.node() or '?'} ({os.cpu_count()} CPU) | {args.rate:g}"
            f" / {achieved} | {sent} | {' / '.join(search.values())} "
            f"| {' / '.join(detail.values())} | {window['p50']} | {state.max_pending} "
            f"| {len(absent)} | `{shown}` |"
        )
    return 130 if state.interrupted else 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if problem := preflight(args.write_url, args.read_url):
        print(f"bench/lag.py: {problem}", file=sys.stderr)
        return 2
    try:
        seller = Seller(args.write_url)
    except (requests.RequestException, ValueError, KeyError) as error:
        print(
            f"bench/lag.py: cannot sign commands: {type(error).__name__}: {error}", file=sys.stderr
        )
        return 2
    run_token = f"lag{secrets.token_hex(5)}"
    pool = ThreadPoolExecutor(args.detail_workers, thread_name_prefix="detail")
    state = State(args, pool, seller)
    # Each product ends by its own deadline; this bounds the search loop even if one is stuck.
    hard_deadline = time.monotonic() + args.count * (1 / args.rate + POST_TIMEOUT) + args.timeout
    searcher = threading.Thread(target=watch_search, args=(state, run_token, hard_deadline))
    searcher.daemon = True
    searcher.start()
    print(f"bench/lag.py: {args.count} commands at {args.rate:g}/s (run {run_token}) ...")
    started = time.monotonic()
    try:
        send_commands(state, run_token)
        state.sending_done.set()
        searcher.join(args.timeout + PROBE_TIMEOUT * 2 + JOIN_GRACE)
        state.pool.shutdown(wait=True)  # every probe ends by its product's deadline
    except KeyboardInterrupt:
        state.interrupted = True
    state.sending_done.set()
    state.stop.set()
    searcher.join(PROBE_TIMEOUT + 1)
    with state.lock:
        state.pool.shutdown(wait=False, cancel_futures=True)
        return report(state, run_token, max(time.monotonic() - started, 1e-6))


if __name__ == "__main__":
    sys.exit(main())
