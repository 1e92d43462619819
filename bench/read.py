"""Read API throughput and latency: search and product detail vs /healthz (see bench/README.md).

Run on demand against a running stack (`make up`):  .venv/bin/python bench/read.py
Compare commits in one window: one `make up` per checkout (other ports), then
  bench/read.py --checkout OLD --write-url URL_OLD --checkout NEW --write-url URL_NEW

1. For each checkout, starts that checkout's own read-api process (its gunicorn options and
   code, its stack's servers from .local/stack.env) on a free port, with one URL added by
   bench/bare_view_settings.py: /bench/bare, a bare Django JSON view. Every scenario of a
   checkout runs against this one server.
2. Seeds `--products` products through its write API (one throwaway seller, `--seed-threads`
   senders; names and descriptions drawn from a fixed pseudo-word vocabulary with a fixed
   seed) and waits until the read side lists them all. `--skip-seed` reuses an earlier seed.
3. In each of `--rounds` rounds, checkout after checkout (the order alternates between
   rounds), runs every scenario for `--duration` s, with `--connections` (throughput) and,
   unless `--no-latency`, with one connection (latency):
     bare           GET /bench/bare: a Django JSON view, our middleware, no DRF
     healthz        GET /healthz on the same server: its ratio is taken against bare
     detail-hot     GET /api/v1/products/{id} over 50 ids already cached
     detail-cold    the same, each id requested for the first time since the seed
     search-hot     ?search=<word>&page_size=20 over 5 words, cached
     filter-hot     the same + &min_price=10&max_price=50&ordering=price
     search-cold    ?search=<word> <word>&page_size=20, every query new (never cached)
     filter-cold    the same + the price filter and ordering
   Each pass records the server's CPU per request (master and workers, from /proc), the
   balance between its workers (least / most CPU) and the 1-minute load average. It prints
   every pass, the medians over the rounds (ratios against healthz of the same round), and
   issue 10's ratio targets checked in every round.

With `--variants` (or its shorthands `--metrics`: off,metrics and `--tracing`:
metrics,trace-ids,export), each checkout's read server runs once per variant: without the
HTTP metrics middleware and tracing (off), as shipped (metrics), with trace ids (trace-ids),
with OTLP export to a sink in this process (export); see bench/server_variants.py. Each
scenario runs under every variant one after the other, and the report adds each variant's
req/s as a ratio to the first variant's in the same round, and its CPU per request.

"Cold" ids and queries are consumed: a state file per write API
(/tmp/shopstream-bench-read-<write port>.json) remembers the seeded ids and how far each
cold list got, so a later run with `--skip-seed` only sends never-seen requests.
The load comes from `wrk` (one thread, C: it leaves the CPUs to the server) if installed,
else Python threads (`--client python`), which cost CPU the server then lacks and so narrow
the ratios. Loopback URLs only; every loop is bounded by a count or a deadline.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lag import git_revision, loopback_url, percentile, preflight
from server_variants import (
    SETTINGS,
    OtlpSink,
    chosen_variants,
    print_overhead,
    settings_module,
    variant_env,
)

PRODUCTS = "/api/v1/products"
HOT_IDS = 50  # the first ids of the seed serve the cached detail scenario
FILTER = "&min_price=10&max_price=50&ordering=price"
SYLLABLES = ("ka", "lo", "mi", "ru", "te", "san", "vo", "pel", "dor", "fin")
SYLLABLES += ("gra", "hu", "jet", "lum", "nor", "qui", "ba", "zen", "tor", "wex")

LUA = """
paths, n, i, wraps = {}, 0, 0, 0  -- globals: done() reads i and wraps with thread:get
local thread
function setup(t) thread = t end
function init(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
end
function request()
  i = i + 1
  if i > n then i, wraps = 1, wraps + 1 end
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, '
    .. '"p99_us": %d, "errors": %d, "consumed": %d, "wraps": %d}\\n', summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.status + e.timeout, thread:get("i"), thread:get("wraps")))
end
"""


def vocabulary() -> list[str]:
    rng, words = random.Random(5), set()
    while len(words) < 200:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))))
    return sorted(words)


def cold_queries(words: list[str]) -> list[str]:
    """Every unordered pair of words, in a fixed shuffled order: 19,900 distinct searches."""
    pairs = [f"{a}+{b}" for a, b in itertools.combinations(words, 2)]
    random.Random(6).shuffle(pairs)
    return pairs


def seed(args: argparse.Namespace, write_url: str, words: list[str]) -> list[str]:
    """Create the products through the write API; their ids, in creation order."""
    auth = f"{write_url}/api/v1/auth"
    login = {"email": f"read-bench-{secrets.token_hex(6)}@example.com"}
    login["password"] = secrets.token_urlsafe(24)
    requests.post(f"{auth}/signup", json={**login, "role": "seller"}, timeout=10).raise_for_status()
    token = requests.post(f"{auth}/token", json=login, timeout=10).json()["access"]
    headers, local = {"Authorization": f"Bearer {token}"}, threading.local()
    rng = random.Random(7)
    bodies = [
        {
            "name": " ".join(rng.choices(words, k=3)).title(),
            "description": " ".join(rng.choices(words, k=12)),
            "price": f"{rng.randint(100, 20000) / 100:.2f}",
            "stock": rng.randint(1, 50),
        }
        for _ in range(args.products)
    ]

    def create(body: dict) -> str:
        local.session = getattr(local, "session", None) or requests.Session()
        for _ in range(3):  # a retry or two on a transient error; then the seed fails
            try:
                reply = local.session.post(
                    f"{write_url}{PRODUCTS}", json=body, headers=headers, timeout=30
                )
                if reply.status_code == 201:
                    return str(reply.json()["id"])
            except requests.RequestException:
                pass
            time.sleep(1)
        raise RuntimeError(f"cannot create {body['name']}")

    started = time.monotonic()
    with ThreadPoolExecutor(args.seed_threads) as pool:
        ids = list(pool.map(create, bodies))
    print(f"seeded {len(ids)} products in {time.monotonic() - started:.0f} s", flush=True)
    return ids


def wait_listed(read_url: str, count: int, timeout: float = 900) -> None:
    deadline, listed = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        reply = requests.get(f"{read_url}{PRODUCTS}?page_size=1", timeout=10)
        if reply.status_code == 200 and (listed := reply.json()["count"]) >= count:
            return
        time.sleep(2)
    raise RuntimeError(f"the read side lists {listed} products, not {count}, after {timeout} s")


def run_wrk(url: str, paths: list[str], connections: int, duration: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-read-") as tmp:
        script, listing = Path(tmp, "paths.lua"), Path(tmp, "paths.txt")
        script.write_text(LUA)
        listing.write_text("\n".join(paths) + "\n")
        command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
        command += ["-s", str(script), url, "--", str(listing)]
        out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed: {out.stdout[-500:]} {out.stderr[-500:]}")
    raw = json.loads(line.removeprefix("BENCHJSON "))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "errors": raw["errors"],
        "consumed": min(raw["consumed"] + raw["wraps"] * len(paths), len(paths)),
        "wrapped": raw["wraps"] > 0,
    }


def run_python(url: str, paths: list[str], connections: int, duration: int) -> dict:
    lock, latencies, errors, position = threading.Lock(), [], [0], [0]
    deadline = time.monotonic() + duration

    def worker() -> None:
        session = requests.Session()
        while (start := time.monotonic()) < deadline:
            with lock:
                path = paths[position[0] % len(paths)]
                position[0] += 1
            try:
                ok = session.get(url + path, timeout=10).status_code < 400
            except requests.RequestException:
                ok = False
            with lock:
                latencies.append(time.monotonic() - start)
                errors[0] += not ok

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 15)
    elapsed = time.monotonic() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "errors": errors[0],
        "consumed": min(position[0], len(paths)),
        "wrapped": position[0] > len(paths),
    }


BENCH_DIR = Path(__file__).resolve().parent
BARE = "/bench/bare"  # bench/bare_view_urls.py
SCENARIOS = ("bare", "healthz", "detail-hot", "detail-cold", "search-hot", "filter-hot")
SCENARIOS += ("search-cold", "filter-cold")
# (scenario, least ratio every round, what it is taken against): issue 10's targets
TARGETS = [("healthz", 0.95, "bare"), ("detail-hot", 0.85, "healthz")]
RUN = {"wrk": run_wrk, "python": run_python}


@dataclass
class Target:
    """One checkout's stack (started with `make up`) and the bench read server run from it."""

    checkout: Path
    write_url: str
    state_path: Path
    server: subprocess.Popen[bytes] | None = None
    read_url: str = ""
    state: dict = field(default_factory=dict)

    label: str = ""  # the checkout's name and commit when its server started
    variant: str = ""  # with --variants: how its server runs (server_variants.VARIANTS)
    env: dict[str, str] = field(default_factory=dict)  # added to its server's environment


def checkout_revision(checkout: Path) -> str:
    run = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return run.stdout.strip() or "unknown"


SERVER_SPEC = """
import json, sys
from infra.stack.processes import gunicorn
spec = gunicorn("read-api-bench", "read_api", int(sys.argv[1]), "infra.settings.read_api")
print(json.dumps({"argv": list(spec.argv), "env": spec.env}))
"""


def stack_env(checkout: Path) -> dict[str, str]:
    """The servers and secrets of the stack `make up` runs in `checkout` (.local/stack.env)."""
    path = checkout / ".local" / "stack.env"
    if not path.exists():
        raise RuntimeError(f"no {path}: is `make up` running in {checkout}?")
    pairs = (shlex.split(line)[0].split("=", 1) for line in path.read_text().splitlines() if line)
    return dict(pairs)


def start_server(target: Target, log_dir: Path) -> None:
    """The checkout's own read-api process (its gunicorn options and code) with the bare view
    added, on a free port: every scenario of a target runs against this one server."""
    port = free_port()
    python = str(target.checkout / ".venv" / "bin" / "python")
    out = subprocess.run(
        [python, "-c", SERVER_SPEC, str(port)],
        cwd=target.checkout,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    spec = json.loads(out.stdout)
    env = {**os.environ, **stack_env(target.checkout), **spec["env"]}
    if target.variant:
        env = {k: v for k, v in env.items() if not k.startswith(("OTEL_", "SHOPSTREAM_TRACE_IDS"))}
        env |= target.env
    # Metrics in multiprocess mode, as the launcher runs them; a directory per server, so the
    # stack's own /metrics does not count the bench's requests.
    metrics_dir = log_dir / f"prometheus-{port}"
    metrics_dir.mkdir()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env["DJANGO_SETTINGS_MODULE"] = settings_module(target.variant) if target.variant else SETTINGS
    env["PYTHONPATH"] = f"{BENCH_DIR}{os.pathsep}{target.checkout}"
    log = (log_dir / f"bench-read-server-{port}.log").open("ab")
    target.server = subprocess.Popen(
        spec["argv"],
        cwd=target.checkout,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    target.read_url = f"http://127.0.0.1:{port}"
    target.label = f"{target.checkout.name}@{checkout_revision(target.checkout)}"
    if target.variant:
        target.label += f" {target.variant}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{target.read_url}{BARE}", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the bench read server of {target.checkout} did not start ({log.name})")


def stop_server(target: Target) -> None:
    if target.server is not None and target.server.poll() is None:
        os.killpg(target.server.pid, signal.SIGTERM)
        target.server.wait(timeout=15)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_cpu(server: subprocess.Popen[bytes]) -> dict[int, float]:
    """CPU seconds (user + system) so far of the server's master and each worker."""
    master = psutil.Process(server.pid)
    cpu = {}
    for process in [master, *master.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            cpu[process.pid] = times.user + times.system
    return cpu


def prepare(args: argparse.Namespace, target: Target, words: list[str]) -> None:
    """Seed the target's stack (or reuse its seed) and wait until its read side lists it.

    Targets of one stack (--variants) share one state: cold requests are never repeated.
    """
    seeded = [t for t in args.targets if t.state and t.state_path == target.state_path]
    if seeded:
        target.state = seeded[0].state
    elif args.skip_seed:
        if not target.state_path.exists():
            raise RuntimeError(f"no {target.state_path}: run once without --skip-seed")
        target.state = json.loads(target.state_path.read_text())
    else:
        read = requests.get(f"{target.read_url}{PRODUCTS}?page_size=1", timeout=10).json()
        target.state = {
            "ids": seed(args, target.write_url, words),
            "next": {"detail-cold": HOT_IDS},
        }
        target.state["listed"] = read["count"] + len(target.state["ids"])
        target.state_path.write_text(json.dumps(target.state))
    wait_listed(target.read_url, target.state["listed"])


def scenario_lists(ids: list[str], words: list[str]) -> dict[str, list[str]]:
    pairs, search = cold_queries(words), f"{PRODUCTS}?page_size=20&search="
    return {
        "healthz": ["/healthz"],
        "bare": [BARE],
        "detail-hot": [f"{PRODUCTS}/{i}" for i in ids[:HOT_IDS]],
        "detail-cold": [f"{PRODUCTS}/{i}" for i in ids],
        "search-hot": [search + w for w in words[::40]],
        "filter-hot": [search + w + FILTER for w in words[::40]],
        "search-cold": [search + p for p in pairs],
        "filter-cold": [search + p + FILTER for p in pairs],
    }


def measure(args: argparse.Namespace, target: Target, name: str, paths: list[str], conns: int):
    """One pass: the load generator's figures, the server's CPU per request, its worker
    balance (least / most CPU of a worker) and the 1-minute load average before it."""
    assert target.server is not None
    start = target.state["next"].get(name, 0)
    todo = paths[start:] if name.endswith("-cold") else paths
    if not todo:
        raise RuntimeError(f"{name}: no unseen requests left for {target.checkout}; seed again")
    load, before = os.getloadavg()[0], server_cpu(target.server)
    result = RUN[args.client](target.read_url, todo, conns, args.duration)
    after = server_cpu(target.server)
    used = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    workers = [cpu for pid, cpu in used.items() if pid != target.server.pid]
    served = result["rps"] * args.duration
    result["cpu_ms"] = sum(used.values()) / served * 1000 if served else float("nan")
    result["balance"] = min(workers) / max(workers) if len(workers) > 1 and max(workers) else 1.0
    result["load"] = load
    result["wrapped"] &= name.endswith("-cold")  # hot lists are meant to repeat
    if name.endswith("-cold"):
        target.state["next"][name] = start + result["consumed"]
        target.state_path.write_text(json.dumps(target.state))
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    port = os.environ.get("WRITE_API_PORT") or "8000"
    parser = argparse.ArgumentParser(prog="bench/read.py", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add(
        "--checkout",
        type=Path,
        action="append",
        help="checkout whose `make up` stack to "
        "measure (repeat to alternate several in one window; default: this one)",
    )
    add(
        "--write-url",
        type=loopback_url,
        action="append",
        help=f"its write API, in --checkout order (default http://127.0.0.1:{port})",
    )
    add("--products", type=int, default=10_000, help="products to seed (10000)")
    add("--seed-threads", type=int, default=8, help="seeding senders (8)")
    add("--skip-seed", action="store_true", help="reuse the products of the state files")
    add("--rounds", type=int, default=3, help="rounds of all scenarios (3)")
    add("--duration", type=int, default=5, help="whole seconds per scenario and concurrency (5)")
    add("--connections", type=int, default=8, help="concurrency of the throughput pass (8)")
    add("--no-latency", action="store_true", help="skip the one-connection (latency) passes")
    add(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated subset (bare and "
        "healthz always run first: the ratios are taken against them)",
    )
    add("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator")
    add("--markdown", action="store_true", help="also print BENCHMARKS.md tables")
    add(
        "--variants",
        default="",
        help="comma-separated server variants of each checkout (off, metrics, trace-ids, "
        "export: bench/server_variants.py); reports req/s ratios to the first",
    )
    add("--metrics", action="store_true", help="variants off (no HTTP metrics) and metrics")
    add("--tracing", action="store_true", help="variants metrics, trace-ids and export")
    args = parser.parse_args(argv)
    checkouts = [c.resolve() for c in args.checkout or [BENCH_DIR.parent]]
    urls = args.write_url or [f"http://127.0.0.1:{port}"]
    if len(urls) != len(checkouts):
        parser.error("give one --write-url per --checkout")
    if min(args.products, args.seed_threads, args.rounds, args.connections) < 1:
        parser.error("--products, --seed-threads, --rounds and --connections must be >= 1")
    if not 0 < args.duration <= 600:
        parser.error("--duration must be 1 to 600 s")
    chosen = args.scenarios.split(",")  # the two bases first: ratios use this round's
    args.scenarios = ["bare", "healthz", *(s for s in chosen if s not in ("bare", "healthz"))]
    if unknown := set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    try:
        args.variants = chosen_variants(args.variants, args.metrics, args.tracing)
    except ValueError as error:
        parser.error(str(error))
    args.targets = [
        Target(
            c,
            u,
            Path(tempfile.gettempdir(), f"shopstream-bench-read-{urlsplit(u).port}.json"),
            variant=variant,
        )
        for c, u in zip(checkouts, urls, strict=True)
        for variant in (args.variants or [""])
    ]
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    words, log_dir = vocabulary(), Path(tempfile.mkdtemp(prefix="bench-read-"))
    args.sink = OtlpSink() if "export" in args.variants else None
    try:
        for target in args.targets:
            if target.variant:
                target.env = variant_env(target.variant, args.sink)
            start_server(target, log_dir)
            if problem := preflight(target.write_url, target.read_url):
                print(f"bench/read.py: {problem}", file=sys.stderr)
                return 2
            prepare(args, target, words)
        return run_rounds(args, words)
    finally:
        for target in args.targets:
            stop_server(target)
        if args.sink is not None:
            args.sink.close()


def run_rounds(args: argparse.Namespace, words: list[str]) -> int:
    lists = {t.label: scenario_lists(t.state["ids"], words) for t in args.targets}
    for target in args.targets:  # warm up: caches, connection pools, imports
        session = requests.Session()
        for name in ("detail-hot", "search-hot", "filter-hot"):
            for path in lists[target.label][name]:
                session.get(target.read_url + path, timeout=30).raise_for_status()
    passes = [1, args.connections] if not args.no_latency else [args.connections]
    results: dict[tuple[str, str, int], list[dict]] = {}
    load_before, started = os.getloadavg(), datetime.now(UTC)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    for round_no in range(args.rounds):
        # Alternate which target goes first, so neither always meets the same neighbours.
        order = args.targets if round_no % 2 == 0 else args.targets[::-1]
        steps = list(itertools.product(order, args.scenarios, passes))
        if args.variants:  # the variants of a scenario back to back: the same minute's machine
            steps = [(t, n, c) for n, c, t in itertools.product(args.scenarios, passes, order)]
        for target, name, conns in steps:
            result = measure(args, target, name, lists[target.label][name], conns)
            runs = results.setdefault((target.label, name, conns), [])
            runs.append(result)
            base = "bare" if name in ("bare", "healthz") else "healthz"
            result["ratio"] = result["rps"] / results[(target.label, base, conns)][-1]["rps"]
            print(
                f"round {round_no + 1} {target.label:<24} {name:<12} c={conns:<2}"
                f" {result['rps']:7.0f} req/s  p50 {result['p50']:7.2f} ms"
                f"  p99 {result['p99']:7.2f} ms  x{result['ratio']:.2f}"
                f"  cpu {result['cpu_ms']:.2f} ms/req  balance {result['balance']:.2f}"
                f"  load {result['load']:.1f}  errors {result['errors']}"
                + ("  WRAPPED (cold list exhausted)" if result["wrapped"] else ""),
                flush=True,
            )
    report(args, results, load_before, started)
    return 0


def report(
    args: argparse.Namespace,
    results: dict[tuple[str, str, int], list[dict]],
    load_before: tuple[float, float, float],
    started: datetime,
) -> None:
    load_after = os.getloadavg()
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    print(f"\nshopstream read API  {started:%Y-%m-%d %H:%M} UTC  bench commit {git_revision()}")
    print(f"command: {command}\nclient: {args.client}, {args.duration:g} s per pass, medians of")
    print(f"{args.rounds} rounds; ratio = req/s / the same round's healthz req/s (healthz: / bare)")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    head = "| scenario | conns | p50 ms | p99 ms | req/s | ratio | CPU ms/req | balance | errors |"
    for target in args.targets:
        rows = [f"\n{target.label} ({target.checkout})\n", head, "|---" * 9 + "|"]
        for (label, name, conns), runs in results.items():
            if label != target.label:
                continue
            keys = ("p50", "p99", "rps", "ratio", "cpu_ms", "balance")
            med = {k: statistics.median(r[k] for r in runs) for k in keys}
            errors = sum(r["errors"] for r in runs) + sum(r["wrapped"] for r in runs)
            rows.append(
                f"| {name} | {conns} | {med['p50']:.2f} | {med['p99']:.2f} | {med['rps']:.0f}"
                f" | {med['ratio']:.2f} | {med['cpu_ms']:.2f} | {med['balance']:.2f} | {errors} |"
            )
        print("\n".join(rows if args.markdown else (r.replace("|", " ") for r in rows)))
    c = args.connections
    for target in args.targets:
        print(f"\n{target.label}, c={c}, every round:")
        for name, floor, against in TARGETS:
            if (target.label, name, c) not in results:
                continue
            ratios = [r["ratio"] for r in results[(target.label, name, c)]]
            met = "met" if min(ratios) >= floor else "NOT met"
            shown = " ".join(f"{x:.2f}" for x in ratios)
            print(f"  {name} / {against} >= {floor:.2f}: {shown} ({met} every round)")
        if (target.label, "search-cold", c) in results:
            cold = results[(target.label, "search-cold", c)]
            shown = " ".join(f"{r['rps']:.0f}" for r in cold)
            print(f"  search-cold req/s: {shown}")
    if len(args.variants) > 1:
        for checkout in dict.fromkeys(t.checkout for t in args.targets):
            labels = {t.variant: t.label for t in args.targets if t.checkout == checkout}
            print_overhead(results, labels, args.sink)


if __name__ == "__main__":
    sys.exit(main())
