"""Read API throughput and latency: search and product detail vs /healthz (see bench/README.md).

Run on demand against a running stack (`make up`):  .venv/bin/python bench/read.py

1. Seeds `--products` products through the write API (one throwaway seller, `--seed-threads`
   senders; names and descriptions drawn from a fixed pseudo-word vocabulary with a fixed
   seed) and waits until the read side lists them all. `--skip-seed` reuses an earlier seed.
2. In each of `--rounds` rounds, runs every scenario for `--duration` s, once with one
   connection (latency) and once with `--connections` (throughput):
     healthz        GET /healthz, the trivial DRF view on the same gunicorn: the ceiling
     detail-hot     GET /api/v1/products/{id} over 50 ids already cached
     detail-cold    the same, each id requested for the first time since the seed
     search-hot     ?search=<word>&page_size=20 over 5 words, cached
     filter-hot     the same + &min_price=10&max_price=50&ordering=price
     search-cold    ?search=<word> <word>&page_size=20, every query new (never cached)
     filter-cold    the same + the price filter and ordering
   and prints the medians over the rounds, each ratio taken against healthz in the same round.

"Cold" ids and queries are consumed: the state file (`--state`) remembers the seeded ids and
how far each cold list got, so a later run with `--skip-seed` only sends never-seen requests.
The load comes from `wrk` (one thread, C: it leaves the CPUs to the server) if installed,
else Python threads (`--client python`), which cost CPU the server then lacks and so narrow
the ratios. Loopback URLs only; every loop is bounded by a count or a deadline.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lag import git_revision, loopback_url, percentile, preflight

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


def seed(args: argparse.Namespace, words: list[str]) -> list[str]:
    """Create the products through the write API; their ids, in creation order."""
    auth = f"{args.write_url}/api/v1/auth"
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
                    f"{args.write_url}{PRODUCTS}", json=body, headers=headers, timeout=30
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


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ports = os.environ.get("WRITE_API_PORT") or "8000", os.environ.get("READ_API_PORT") or "8001"
    parser = argparse.ArgumentParser(prog="bench/read.py", description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--write-url", type=loopback_url, default=f"http://127.0.0.1:{ports[0]}")
    add("--read-url", type=loopback_url, default=f"http://127.0.0.1:{ports[1]}")
    add("--products", type=int, default=10_000, help="products to seed (10000)")
    add("--seed-threads", type=int, default=8, help="seeding senders (8)")
    add("--skip-seed", action="store_true", help="reuse the products of the state file")
    add("--state", type=Path, help="state file (/tmp/shopstream-bench-read-<read port>.json)")
    add("--rounds", type=int, default=3, help="rounds of all scenarios (3)")
    add("--duration", type=int, default=5, help="whole seconds per scenario and concurrency (5)")
    add("--connections", type=int, default=8, help="concurrency of the throughput pass (8)")
    add("--client", choices=("auto", "wrk", "python"), default="auto", help="load generator")
    add("--markdown", action="store_true", help="also print a BENCHMARKS.md table")
    args = parser.parse_args(argv)
    if min(args.products, args.seed_threads, args.rounds, args.connections) < 1:
        parser.error("--products, --seed-threads, --rounds and --connections must be >= 1")
    if not 0 < args.duration <= 600:
        parser.error("--duration must be 1 to 600 s")
    port = args.read_url.rsplit(":", 1)[-1].strip("/")
    args.state = args.state or Path(tempfile.gettempdir(), f"shopstream-bench-read-{port}.json")
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if problem := preflight(args.write_url, args.read_url):
        print(f"bench/read.py: {problem}", file=sys.stderr)
        return 2
    words = vocabulary()
    if args.skip_seed:
        if not args.state.exists():
            print(f"bench/read.py: no {args.state}: run once without --skip-seed", file=sys.stderr)
            return 2
        state = json.loads(args.state.read_text())
    else:
        before = requests.get(f"{args.read_url}{PRODUCTS}?page_size=1", timeout=10).json()
        state = {"ids": seed(args, words), "next": {"detail-cold": HOT_IDS}}
        state["listed"] = before["count"] + len(state["ids"])  # when the projection caught up
        args.state.write_text(json.dumps(state))
    wait_listed(args.read_url, state["listed"])
    ids, pairs = state["ids"], cold_queries(words)
    search = f"{PRODUCTS}?page_size=20&search="
    lists = {
        "healthz": ["/healthz"],
        "detail-hot": [f"{PRODUCTS}/{i}" for i in ids[:HOT_IDS]],
        "detail-cold": [f"{PRODUCTS}/{i}" for i in ids],
        "search-hot": [search + w for w in words[::40]],
        "filter-hot": [search + w + FILTER for w in words[::40]],
        "search-cold": [search + p for p in pairs],
        "filter-cold": [search + p + FILTER for p in pairs],
    }
    session = requests.Session()
    for path in lists["detail-hot"] + lists["search-hot"] + lists["filter-hot"]:  # warm up
        session.get(args.read_url + path, timeout=30).raise_for_status()
    run = run_wrk if args.client == "wrk" else run_python
    load_before, started = os.getloadavg(), datetime.now(UTC)
    results: dict[tuple[str, int], list[dict]] = {}
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}", flush=True)
    for round_no, (name, paths) in itertools.product(range(args.rounds), lists.items()):
        for connections in (1, args.connections):
            start = state["next"].get(name, 0)
            todo = paths[start:] if name.endswith("-cold") else paths
            if not todo:
                print(f"{name}: no unseen requests left; seed again", file=sys.stderr)
                return 1
            result = run(args.read_url, todo, connections, args.duration)
            result["wrapped"] &= name.endswith("-cold")  # hot lists are meant to repeat
            if name.endswith("-cold"):
                state["next"][name] = start + result["consumed"]
                args.state.write_text(json.dumps(state))
            results.setdefault((name, connections), []).append(result)
            base = results[("healthz", connections)][-1]["rps"]
            result["ratio"] = result["rps"] / base
            print(
                f"round {round_no + 1} {name:<12} c={connections:<3} {result['rps']:8.0f} req/s"
                f"  p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms"
                f"  x{result['ratio']:.2f}  errors {result['errors']}"
                + ("  WRAPPED (cold list exhausted)" if result["wrapped"] else ""),
                flush=True,
            )
    load_after = os.getloadavg()
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    print(f"\nshopstream read API  {started:%Y-%m-%d %H:%M} UTC  commit {git_revision()}")
    print(f"command: {command}\nclient: {args.client}, {args.duration:g} s per pass, medians of")
    print(f"{args.rounds} rounds; ratio = req/s / healthz req/s at the same concurrency and round")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)\n")
    rows = ["| scenario | conns | p50 ms | p99 ms | req/s | vs healthz | errors |", "|---" * 7]
    rows[1] += "|"
    for (name, connections), runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("p50", "p99", "rps", "ratio")}
        errors = sum(r["errors"] for r in runs) + sum(r["wrapped"] for r in runs)
        rows.append(
            f"| {name} | {connections} | {med['p50']:.2f} | {med['p99']:.2f} | {med['rps']:.0f}"
            f" | {med['ratio']:.2f} | {errors} |"
        )
        results[(name, connections)] = [med]
    print("\n".join(rows if args.markdown else (r.replace("|", " ") for r in rows)))
    ratio = results[("detail-hot", args.connections)][0]["ratio"]
    met = "met" if ratio >= 0.8 else "NOT met"
    print(f"\ntarget cached detail >= 0.80 x healthz, c={args.connections}: {ratio:.2f} ({met})")
    for name in ("search-hot", "filter-hot", "search-cold", "filter-cold"):
        p99 = [(c, results[(name, c)][0]["p99"]) for c in (1, args.connections)]
        shown = ", ".join(f"c={c} {v:.1f} ms ({'met' if v <= 30 else 'NOT met'})" for c, v in p99)
        print(f"target p99 <= 30 ms, {name}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
