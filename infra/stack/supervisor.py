"""Run child processes with one prefixed log stream each, restart crashes, stop them all.

Every child runs in its own session (Ctrl-C reaches only the launcher, which stops
children in order) and gets a parent-death signal, so even a SIGKILLed launcher
leaves no orphan behind.

Log streams pass through in batches, not line by line: a child's output is read in
blocks at most BATCHES_PER_SECOND times a second, and every whole line of a block gets
its prefix in one string operation, so a busy child costs the launcher a few
wake-ups a second rather than Python work for every line.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

PR_SET_PDEATHSIG = 1
COLORS = ["36", "33", "32", "35", "34", "31", "96", "93", "92", "95"]
BATCHES_PER_SECOND = 20
# Room for what a child writes between two batches; past it the child waits for the launcher.
PIPE_BYTES = 1 << 20
_print_lock = threading.Lock()


def prefixed(prefix: str, lines: str) -> str:
    """`lines` (one or more, the last newline optional) with `prefix` before each."""
    body = lines[:-1] if lines.endswith("\n") else lines
    return prefix + body.replace("\n", "\n" + prefix) + "\n"


def emit(name: str, lines: str, color: str = "0") -> None:
    prefix = f"\033[{color}m{name:<14}|\033[0m " if sys.stdout.isatty() else f"{name:<14}| "
    with _print_lock:
        sys.stdout.write(prefixed(prefix, lines))
        sys.stdout.flush()


def die_with_parent(sig: int = signal.SIGTERM) -> Callable[[], None]:
    """preexec_fn: the kernel sends `sig` to the child when the launcher dies."""

    def set_signal() -> None:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)

    return set_signal


@dataclass
class ProcessSpec:
    """How to start one long-running process of the stack."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    restart: bool = True


@dataclass
class Managed:
    spec: ProcessSpec
    process: subprocess.Popen[bytes]
    color: str
    started_at: float = field(default_factory=time.monotonic)


class Supervisor:
    """Starts, watches and stops the processes of the local stack."""

    def __init__(
        self,
        base_env: dict[str, str] | None = None,
        sink: Callable[[str, str, str], None] = emit,
    ) -> None:
        self.base_env = base_env if base_env is not None else dict(os.environ)
        self.sink = sink
        self._lock = threading.RLock()  # children change from a watcher thread too
        self.children: list[Managed] = []
        self.stopping = False

    def start(self, spec: ProcessSpec) -> Managed:
        env = {**self.base_env, **spec.env, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            list(spec.argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=spec.user,
            preexec_fn=die_with_parent(spec.stop_signal),
        )
        managed = Managed(spec, process, COLORS[len(self.children) % len(COLORS)])
        threading.Thread(target=self._pump, args=(managed,), daemon=True).start()
        with self._lock:
            self.children.append(managed)
        return managed

    def _pump(self, managed: Managed) -> None:
        """Pass the child's whole lines to the sink, a batch at a time, until it closes."""
        assert managed.process.stdout is not None
        fd = managed.process.stdout.fileno()
        with contextlib.suppress(OSError):  # a smaller pipe only batches less
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        partial = b""
        while block := os.read(fd, PIPE_BYTES):  # blocks while the child is quiet
            block = partial + block
            end = block.rfind(b"\n") + 1 if len(block) < PIPE_BYTES else len(block)
            partial = block[end:]
            if end:
                self.sink(managed.spec.name, block[:end].decode(errors="replace"), managed.color)
            time.sleep(1 / BATCHES_PER_SECOND)  # let the next lines gather
        if partial:
            self.sink(managed.spec.name, partial.decode(errors="replace"), managed.color)

    def find(self, name: str) -> Managed:
        with self._lock:
            return next(m for m in reversed(self.children) if m.spec.name == name)

    def restart_crashed(self) -> None:
        """Restart a child that died on its own (at most once a second per child)."""
        with self._lock:
            self._restart_crashed()

    def _restart_crashed(self) -> None:
        for managed in list(self.children):
            code = managed.process.poll()
            if code is None or self.stopping or not managed.spec.restart:
                continue
            if time.monotonic() - managed.started_at < 1:
                continue
            emit("launcher", f"{managed.spec.name} exited with {code}; restarting")
            self.children.remove(managed)
            self.start(managed.spec)

    def ensure_running(self, name: str) -> None:
        """Start `name` again unless a copy of it is already running."""
        with self._lock:
            managed = self.find(name)
            if managed.process.poll() is not None:
                self.children.remove(managed)
                self.start(managed.spec)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        managed = self.find(name)
        os.killpg(managed.process.pid, sig)
        managed.process.wait(timeout=10)

    def stop(self, managed: Managed, deadline: float) -> None:
        if managed.process.poll() is None:
            _signal_group(managed.process.pid, managed.spec.stop_signal)
        try:
            managed.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            emit("launcher", f"{managed.spec.name} did not stop in time; killing it")
            _signal_group(managed.process.pid, signal.SIGKILL)
            managed.process.wait(timeout=5)
        _signal_group(managed.process.pid, signal.SIGKILL)  # stragglers left in its group

    def stop_all(self, timeout: float = 6.0) -> None:
        """Signal every child at once, newest first; kill what is still running at the deadline."""
        self.stopping = True
        deadline = time.monotonic() + timeout
        for managed in reversed(self.children):
            if managed.process.poll() is None:
                _signal_group(managed.process.pid, managed.spec.stop_signal)
        for managed in reversed(self.children):
            self.stop(managed, deadline)
        self.children.clear()


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
