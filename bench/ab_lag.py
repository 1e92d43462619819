"""A/B of two checkouts: bench/lag.py against each one's own `make up` stack, alternating.

    .venv/bin/python bench/ab_lag.py OLD_CHECKOUT NEW_CHECKOUT [lag.py options]

Each checkout needs its `.venv` (`make install` there). Runs old, new, old, new on ports
$WRITE_API_PORT/$READ_API_PORT (8100/8101 when unset) and prints each lag report with the
CPU the whole stack used meanwhile. With AB_IDLE_SECONDS=60 it first measures each idle
stack that long: the CPU of every process, and the total in cores.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

HERE = Path(__file__).resolve().parent
OLD, NEW = sys.argv[1], sys.argv[2]
RUNS = [("old", OLD), ("new", NEW), ("old", OLD), ("new", NEW)]
ARGS = sys.argv[3:] or ["--rate", "20", "--count", "300"]
WRITE_PORT = os.environ.get("WRITE_API_PORT") or "8100"
READ_PORT = os.environ.get("READ_API_PORT") or "8101"
IDLE_SECONDS = float(os.environ.get("AB_IDLE_SECONDS") or 0)


def up(root):
    env = {**os.environ, "WRITE_API_PORT": WRITE_PORT, "READ_API_PORT": READ_PORT}
    for k in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "OPENSEARCH_URL"):
        env.pop(k, None)
    p = subprocess.Popen(
        [f"{root}/.venv/bin/python", "-m", "infra.stack", "up"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,  # the stack's own logs are in its .local/
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            if (
                requests.get(f"http://127.0.0.1:{WRITE_PORT}/healthz", timeout=1).ok
                and requests.get(f"http://127.0.0.1:{READ_PORT}/healthz", timeout=1).ok
            ):
                time.sleep(8)  # let consumer groups join
                return p
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit("stack did not come up")


def process_times(p):
    """CPU seconds so far of every process of the stack, by pid, with a short name."""
    used = {}
    for c in [psutil.Process(p.pid), *psutil.Process(p.pid).children(recursive=True)]:
        try:
            t = c.cpu_times()
            used[c.pid] = (t.user + t.system, " ".join(c.cmdline()[:3])[-60:])
        except psutil.NoSuchProcess:
            pass
    return used


def report_cpu(before, after, label, per=None):
    """Each process's CPU between two snapshots (the top ones) and the whole stack's."""
    rows = sorted((after[i][0] - before[i][0], after[i][1]) for i in after if i in before)
    unit = "cores" if per else "s"
    for used, command in reversed(rows[-6:]):
        print(f"   {label} {used / (per or 1):.4f} {unit}  {command}")
    total = sum(used for used, _ in rows)
    print(f"   {label} total {total / (per or 1):.4f} {unit}", flush=True)
    return total


for name, root in RUNS:
    p = up(root)
    if IDLE_SECONDS:
        print(f"== {name} ({root}) idle {IDLE_SECONDS:g} s, load {os.getloadavg()[0]:.2f}")
        before = process_times(p)
        time.sleep(IDLE_SECONDS)
        report_cpu(before, process_times(p), "idle", per=IDLE_SECONDS)
    load = os.getloadavg()[0]
    before, started = process_times(p), time.time()
    out = subprocess.run(
        [
            sys.executable,
            str(HERE / "lag.py"),
            "--write-url",
            f"http://127.0.0.1:{WRITE_PORT}",
            "--read-url",
            f"http://127.0.0.1:{READ_PORT}",
            *ARGS,
        ],
        capture_output=True,
        text=True,
    )
    wall = time.time() - started
    print(f"== {name} ({root}) load {load:.2f}→{os.getloadavg()[0]:.2f}, {wall:.0f} s")
    report_cpu(before, process_times(p), "run CPU")
    print(out.stdout[-1200:], out.stderr[-400:], flush=True)
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    time.sleep(3)
