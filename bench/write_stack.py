"""One checkout's `make up` stack for bench/write.py: start, observe (CPU, SQL), pause, stop.

The stack runs from its checkout with that checkout's `.venv`, in a fresh directory of its own
(`SHOPSTREAM_LOCAL_DIR`), on the given ports, with the rate limits lifted and unpaid orders
left alone for a day (so a long run is not disturbed by expiry). Its PostgreSQL data directory
is made beforehand exactly as the launcher makes it, plus `pg_stat_statements` preloaded, so
statements can be counted without touching the launcher.

CPU is read from /proc (utime + stime of every process of the launcher's tree, plus what
finished children left to their parent) and grouped by the launcher's child it runs under:
application processes by their `SHOPSTREAM_SERVICE`, servers by their binary.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import requests
from psycopg.sql import SQL, Composable, Identifier

HERE = Path(__file__).resolve().parent
SERVERS = {"postgres": "postgres", "redis-server": "redis", "tansu": "broker"}
SERVERS["osmem"] = "opensearch"
WRITE_SIDE = ("write-api", "postgres", "redis")  # issue 10's "write API + PostgreSQL + Redis"
UNLIMITED = {f"THROTTLE_{scope}": "1000000/min" for scope in ("CART", "CHECKOUT", "AUTH")}


def stack_env(path: Path) -> dict[str, str]:
    """The variables `infra.stack up` wrote for other shells (servers' URLs, secrets)."""
    env = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = " ".join(shlex.split(value))
    return env


@dataclass
class Stack:
    """A running `python -m infra.stack up` of `root`, owned by this benchmark."""

    root: Path
    write_port: int
    read_port: int
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-write-")))
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    paused: list[psutil.Process] = field(default_factory=list)

    @property
    def python(self) -> str:
        return str(self.root / ".venv" / "bin" / "python")

    @property
    def write_url(self) -> str:
        return f"http://127.0.0.1:{self.write_port}"

    @property
    def read_url(self) -> str:
        return f"http://127.0.0.1:{self.read_port}"

    def inprocess(self, *args: str, timeout: float = 3600) -> dict:
        """Run a bench/write_inprocess.py command with this checkout's code; its JSON answer."""
        env = {**os.environ, **self.env, **UNLIMITED, "PYTHONPATH": str(self.root)}
        env.setdefault("DJANGO_SETTINGS_MODULE", "infra.settings.write_api")
        command = [self.python, str(HERE / "write_inprocess.py"), *args]
        out = subprocess.run(
            command, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout
        )
        lines = [x for x in out.stdout.splitlines() if x.startswith("BENCHJSON ")]
        if out.returncode != 0 or not lines:
            raise RuntimeError(f"{args[0]} failed ({out.returncode}): {out.stderr[-1500:]}")
        answer = json.loads(lines[-1].removeprefix("BENCHJSON "))
        answer["output"] = "\n".join(x for x in out.stdout.splitlines() if x not in lines)
        return answer

    def start(self, timeout: float = 300) -> None:
        self.workdir.chmod(0o755)  # PostgreSQL's system user (when we are root) must get in
        self.inprocess("initdb", str(self.workdir))
        env = {**os.environ, "WRITE_API_PORT": str(self.write_port)}
        env.update(READ_API_PORT=str(self.read_port), SHOPSTREAM_LOCAL_DIR=str(self.workdir))
        env.update(UNLIMITED)
        env["ORDER_PAYMENT_TIMEOUT_SECONDS"] = "86400"
        for key in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "OPENSEARCH_URL"):
            env.pop(key, None)
        log = (self.workdir / "stack.log").open("wb")
        self.process = subprocess.Popen(
            [self.python, "-m", "infra.stack", "up"],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the stack exited; see {self.workdir / 'stack.log'}")
            with suppress(requests.RequestException):
                if all(
                    requests.get(f"{url}/healthz", timeout=1).ok
                    for url in (self.write_url, self.read_url)
                ):
                    self.env = stack_env(self.workdir / "stack.env")
                    self._enable_statement_counts()
                    time.sleep(8)  # let the consumer groups join
                    return
            time.sleep(1)
        raise RuntimeError(f"the stack did not come up in {timeout:g} s")

    def stop(self, keep: bool = False) -> None:
        self.resume()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not keep:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- what the stack's processes used ------------------------------------------
    def groups(self) -> dict[str, list[psutil.Process]]:
        """The launcher's children by role, each with its whole process subtree."""
        assert self.process is not None
        out: dict[str, list[psutil.Process]] = {}
        for child in psutil.Process(self.process.pid).children():
            with suppress(psutil.Error):
                out.setdefault(role(child), []).extend([child, *child.children(recursive=True)])
        return out

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each role (processes that ended count via their parent)."""
        used: dict[str, float] = {}
        for name, processes in self.groups().items():
            total = 0.0
            for process in processes:
                with suppress(psutil.Error):
                    t = process.cpu_times()
                    total += t.user + t.system + t.children_user + t.children_system
            used[name] = total
        return used

    def pause_relay(self) -> bool:
        """SIGSTOP the relay, so events appended meanwhile wait instead of costing CPU now."""
        for process in self.groups().get("relay", []):
            with suppress(psutil.Error):
                process.suspend()
                self.paused.append(process)
        return bool(self.paused)

    def resume(self) -> None:
        for process in self.paused:
            with suppress(psutil.Error):
                process.resume()
        self.paused.clear()

    # -- PostgreSQL ---------------------------------------------------------------
    def sql(self, query: str | Composable, *params: object) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"], autocommit=True) as connection:
            cursor = connection.execute(query, params or None)
            return cursor.fetchall() if cursor.description else []

    def render(self, query: Composable) -> str:
        """`query` as the text a client such as pgbench sends."""
        import psycopg

        with psycopg.connect(self.env["DATABASE_URL"]) as connection:
            return query.as_string(connection)

    def _enable_statement_counts(self) -> None:
        with suppress(Exception):
            self.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def statements(self) -> dict[str, float]:
        """Statements and transactions the stack's database ran so far (NaN if not counted)."""
        nan = float("nan")
        xact = self.sql(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()"
        )[0][0]
        try:
            calls, dealloc = self.sql(
                "SELECT (SELECT sum(calls) FROM pg_stat_statements s, pg_database d"
                "  WHERE s.dbid = d.oid AND d.datname = current_database()),"
                " (SELECT dealloc FROM pg_stat_statements_info)"
            )[0]
        except Exception:  # noqa: BLE001 - not preloaded: count transactions only
            calls, dealloc = nan, nan
        return {"statements": float(calls), "transactions": float(xact), "dealloc": float(dealloc)}

    def events_table(self) -> Identifier:
        """The event store's table: the one whose rows carry a notification id."""
        rows = self.sql(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
            " GROUP BY table_name HAVING bool_or(column_name = 'notification_id')"
            " AND bool_or(column_name = 'originator_id') ORDER BY table_name"
        )
        return Identifier(rows[0][0])

    def events_head(self, table: Identifier) -> int:
        query = SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(table)
        return int(self.sql(query)[0][0])

    def events_after(self, table: Identifier, head: int) -> int:
        query = SQL("SELECT count(*) FROM {} WHERE notification_id > %s").format(table)
        return int(self.sql(query, head)[0][0])

    def commonest_event(self, table: Identifier, head: int) -> tuple[str, int]:
        """The most frequent topic among the events after `head`, and its mean state size."""
        query = SQL(
            "SELECT topic, round(avg(octet_length(state)))::int FROM {} WHERE notification_id > %s"
            " GROUP BY topic ORDER BY count(*) DESC LIMIT 1"
        ).format(table)
        topic, size = self.sql(query, head)[0]
        return str(topic), int(size)

    def pg_bin(self) -> Path:
        """The directory of the embedded PostgreSQL the stack runs (pgbench is there)."""
        with suppress(psutil.Error):
            for process in self.groups().get("postgres", []):
                return Path(process.exe()).parent
        raise RuntimeError("no PostgreSQL process in the stack")


def role(process: psutil.Process) -> str:
    with suppress(psutil.Error):
        if service := process.environ().get("SHOPSTREAM_SERVICE"):
            return service
    name = process.name()
    return next((label for prefix, label in SERVERS.items() if name.startswith(prefix)), name)


def git_commit(root: Path) -> str:
    run = {"capture_output": True, "text": True, "timeout": 5, "check": False}
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"], **run)
    dirty = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD"], **run)
    return (head.stdout.strip() or "unknown") + ("-dirty" if dirty.returncode else "")


if __name__ == "__main__":
    sys.exit("bench/write_stack.py is used by bench/write.py")
