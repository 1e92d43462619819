"""How bench/write.py measures one load window against a running Stack.

The stack's CPU by role and its database's statement and transaction counters are read
before the window, then after it *and* after the stack has gone back to idle (the relay and
projectors finish the window's events after the last answer); what the idle stack uses in
that span is subtracted. What is left is what the requests cost.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass

from write_load import (
    LoadResult,
    percentile,
)
from write_stack import WRITE_SIDE, Stack

DRAIN_MARGIN = 0.10  # cores above idle at which the stack counts as idle again
DRAIN_LIMIT = 90.0  # seconds to wait for that at most


@dataclass
class Idle:
    seconds: float
    cores: dict[str, float]  # CPU seconds per second, by role
    statements: float  # per second
    transactions: float

    @property
    def total(self) -> float:
        return sum(self.cores.values())


@dataclass
class Window:
    """What one load window cost: requests, latency, and CPU/SQL beyond the idle stack."""

    kind: str
    n: int
    wall: float
    p50: float
    p99: float
    cpu: dict[str, float]  # seconds beyond idle, by role
    idle_share: float  # seconds the idle stack would have used during the window itself
    statements: float
    transactions: float
    client_cpu: float
    drain: float
    failed: int = 0

    @property
    def rps(self) -> float:
        return self.n / self.wall if self.wall else math.nan

    def cpu_ms(self, roles: tuple[str, ...] | None = None) -> float:
        """CPU per request in ms, of `roles` (the whole stack when None)."""
        used = sum(v for k, v in self.cpu.items() if roles is None or k in roles)
        return used / self.n * 1000 if self.n else math.nan

    def per_request(self, value: float) -> float:
        return value / self.n if self.n else math.nan


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def wait_idle(stack: Stack, idle: dict[str, float]) -> float:
    """Seconds until the stack's CPU rate over one second is back near idle; a long wait
    names the processes still busy (the window's figures then carry more idle noise)."""
    started, previous = time.monotonic(), stack.cpu()
    calm, limit, busy = 0, sum(idle.values()) + DRAIN_MARGIN, {}
    while time.monotonic() - started < DRAIN_LIMIT:
        time.sleep(0.5)
        now = stack.cpu()
        busy = {k: (v - previous.get(k, 0)) / 0.5 for k, v in now.items()}
        calm = calm + 1 if sum(busy.values()) <= limit else 0
        previous = now
        if calm >= 2:
            break
    waited = time.monotonic() - started
    if waited > 15:
        above = {k: v - idle.get(k, 0) for k, v in busy.items() if v - idle.get(k, 0) > 0.02}
        print(
            f"  note: {waited:.0f} s until idle again; busiest last: "
            + ", ".join(f"{k} +{v:.2f}" for k, v in sorted(above.items(), key=lambda x: -x[1]))
        )
    return waited


def measure_idle(stack: Stack, seconds: float) -> Idle:
    wait_idle(stack, {"stack": 0.5})
    cpu0, st0, t0 = stack.cpu(), stack.statements(), time.monotonic()
    time.sleep(seconds)
    cpu1, st1, t1 = stack.cpu(), stack.statements(), time.monotonic()
    span = t1 - t0
    cores = {k: max(0.0, (cpu1.get(k, 0) - cpu0.get(k, 0)) / span) for k in cpu1}
    return Idle(
        span,
        cores,
        (st1["statements"] - st0["statements"]) / span,
        (st1["transactions"] - st0["transactions"]) / span,
    )


def measured(stack: Stack, idle: Idle, kind: str, load: Callable[[], LoadResult]) -> Window:
    cpu0, st0, client0, t0 = stack.cpu(), stack.statements(), client_cpu(), time.monotonic()
    result = load()
    client = client_cpu() - client0
    drain = wait_idle(stack, idle.cores)
    cpu2, st2, t2 = stack.cpu(), stack.statements(), time.monotonic()
    span = t2 - t0
    cpu = {k: cpu2.get(k, 0) - cpu0.get(k, 0) - idle.cores.get(k, 0) * span for k in cpu2}
    if st2["dealloc"] != st0["dealloc"]:
        print("  warning: pg_stat_statements evicted entries; statement counts are low")
    answers = result.of(kind)
    seconds = [a.seconds for a in answers]
    return Window(
        kind=kind,
        n=len(answers),
        wall=result.wall,
        p50=percentile(seconds, 0.50) * 1000,
        p99=percentile(seconds, 0.99) * 1000,
        cpu=cpu,
        idle_share=idle.total * result.wall,
        statements=st2["statements"] - st0["statements"] - idle.statements * span,
        transactions=st2["transactions"] - st0["transactions"] - idle.transactions * span,
        client_cpu=client,
        drain=drain,
        failed=len(result.failed),
    )


def show(window: Window, label: str = "") -> None:
    print(
        f"  {label or window.kind:<22} n={window.n:<5} {window.rps:6.1f} req/s"
        f"  p50 {window.p50:7.1f} ms  p99 {window.p99:7.1f} ms"
        f"  CPU/req write side {window.cpu_ms(WRITE_SIDE):6.2f} ms, stack {window.cpu_ms():6.2f} ms"
        f"  SQL/req {window.per_request(window.statements):5.1f}"
        f"  drain {window.drain:4.1f} s" + (f"  FAILED {window.failed}" if window.failed else ""),
        flush=True,
    )
