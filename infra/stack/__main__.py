"""The local stack launcher.

python -m infra.stack up          servers + prepare + every app process, until Ctrl-C/SIGTERM
python -m infra.stack run -- CMD  servers + prepare, run CMD against them, stop; CMD's exit code
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from infra.stack.processes import ROOT, app_processes, fresh_metrics_dir
from infra.stack.servers import LOCAL_SERVERS, start_missing_servers
from infra.stack.supervisor import Supervisor, die_with_parent, emit, prefixed

SERVER_VARIABLES = [server.env_var for server in LOCAL_SERVERS]
WORKDIR = Path(os.environ.get("SHOPSTREAM_LOCAL_DIR", ROOT / ".local"))


def development_env() -> dict[str, str]:
    """Settings every process of this stack shares; secrets are generated once per checkout."""
    return {
        "SHOPSTREAM_ENV": os.environ.get("SHOPSTREAM_ENV", "development"),
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or stack_secret("secret_key"),
        "PAYMENT_WEBHOOK_SECRET": os.environ.get("PAYMENT_WEBHOOK_SECRET")
        or "whsec_" + stack_secret("webhook_secret"),
        "PYTHONPATH": str(ROOT),
    }


def stack_secret(name: str) -> str:
    """A random secret kept in the stack's directory, readable by its owner only."""
    secret_file = WORKDIR / name
    if not secret_file.exists():
        WORKDIR.mkdir(parents=True, exist_ok=True)
        secret_file.touch(mode=0o600)
        secret_file.write_text(secrets.token_urlsafe(50))
    return secret_file.read_text()


def wait_for_signal() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def prepare(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "prepare_stack"], env=env, check=True, cwd=ROOT
    )


def write_stack_env(env: dict[str, str]) -> Path:
    """Let commands in another shell (`make rebuild`) find the servers of the running stack."""
    keys = [
        "SHOPSTREAM_ENV",
        "DJANGO_SECRET_KEY",
        "PAYMENT_WEBHOOK_SECRET",
        "SHOPSTREAM_NAMESPACE",
        *SERVER_VARIABLES,
    ]
    path = WORKDIR / "stack.env"
    path.write_text("".join(f"{k}={shlex.quote(env[k])}\n" for k in keys if env.get(k)))
    return path


def up(servers: Supervisor, stop: threading.Event) -> int:
    env = {**os.environ, **development_env()}
    env.update(start_missing_servers(servers, WORKDIR))
    prepare(env)
    stack_env = write_stack_env(env)
    metrics_dir = fresh_metrics_dir(WORKDIR / "prometheus")
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    apps = Supervisor(env)
    write_port = int(env.get("WRITE_API_PORT", "8000"))
    read_port = int(env.get("READ_API_PORT", "8001"))
    for spec in app_processes(write_port, read_port, WORKDIR):
        apps.start(spec)
    emit(
        "launcher",
        f"write API http://127.0.0.1:{write_port}  read API http://127.0.0.1:{read_port}",
    )
    while not stop.wait(0.5):
        apps.restart_crashed()
    emit("launcher", "stopping")
    stack_env.unlink(missing_ok=True)
    apps.stop_all(timeout=5)
    shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def run(command: list[str]) -> int:
    """Servers log to a file here, so the command's own output stays readable."""
    log = WORKDIR / "servers.log"
    WORKDIR.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    servers = Supervisor(sink=lambda name, lines, _: _append(log, prefixed(f"{name:<12}| ", lines)))
    try:
        return run_against(servers, command)
    finally:
        servers.stop_all(timeout=4)


def _append(path: Path, lines: str) -> None:
    with path.open("a") as log:
        log.write(lines)


def run_against(servers: Supervisor, command: list[str]) -> int:
    env = {**os.environ, **development_env(), "SHOPSTREAM_ENV": "test"}
    env.update(start_missing_servers(servers, WORKDIR))
    prepare(env)
    # The command dies with the launcher, like every other child of the stack.
    child = subprocess.Popen(command, env=env, cwd=ROOT, preexec_fn=die_with_parent())
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            child.send_signal(signal.SIGINT)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.stack")
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("up", help="run the whole system")
    run_parser = sub.add_parser("run", help="run a command against the backing servers")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    try:
        if args.mode == "run":
            return run(args.command[1:] if args.command[:1] == ["--"] else args.command)
        servers = Supervisor()
        try:
            return up(servers, wait_for_signal())
        finally:
            servers.stop_all(timeout=4)
    except subprocess.CalledProcessError as error:
        emit("launcher", f"{error.cmd} failed with exit code {error.returncode}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
