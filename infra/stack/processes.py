"""The application processes of the stack; docker-compose.yml has one service for each."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from infra.stack.supervisor import ProcessSpec

ROOT = Path(__file__).resolve().parent.parent.parent
# One worker process per core; threads overlap the waits on PostgreSQL, Redis and OpenSearch.
WORKERS, THREADS = 2, 4


def fresh_metrics_dir(path: Path) -> Path:
    """PROMETHEUS_MULTIPROC_DIR of one stack run, emptied: old runs' counts must not add up.

    Every API worker, the relay and the projectors write their counters there, and either
    API's /metrics reports them all (infra.metrics).
    """
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def gunicorn(name: str, module: str, port: int, settings: str) -> ProcessSpec:
    return ProcessSpec(
        name,
        [
            sys.executable,
            "-m",
            "gunicorn",
            f"infra.wsgi.{module}:application",
            # Spreads kept-alive clients over the workers (see the module).
            "--config",
            "python:infra.gunicorn_hooks",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--worker-class",
            "gthread",
            "--graceful-timeout",
            "4",
            "--timeout",
            "30",
            "--log-level",
            "warning",
            # The longest URL the documented query parameters allow must fit (gunicorn's
            # default of 4094 bytes answers a longer one with an HTML 414).
            "--limit-request-line",
            "8190",
        ],
        env={
            "DJANGO_SETTINGS_MODULE": settings,
            "SHOPSTREAM_SERVICE": name,
            "SERVER_THREADS": str(THREADS),
        },
    )


def manage(name: str, *args: str) -> ProcessSpec:
    return ProcessSpec(
        name,
        [sys.executable, str(ROOT / "manage.py"), *args],
        env={"SHOPSTREAM_SERVICE": name},
    )


def celery(name: str, *args: str) -> ProcessSpec:
    return ProcessSpec(
        name,
        [sys.executable, "-m", "celery", "-A", "infra.celery_app", *args, "--loglevel", "INFO"],
        env={"SHOPSTREAM_SERVICE": name},
    )


def pipeline_processes() -> list[ProcessSpec]:
    """The relay and projectors: the path from event store to read models."""
    return [manage("relay", "run_relay"), manage("projector", "run_projector")]


def app_processes(write_port: int, read_port: int, workdir: Path) -> list[ProcessSpec]:
    return [
        gunicorn("write-api", "write_api", write_port, "infra.settings.write_api"),
        gunicorn("read-api", "read_api", read_port, "infra.settings.read_api"),
        *pipeline_processes(),
        celery("celery-worker", "worker", "--concurrency", "2", "--without-gossip"),
        celery("celery-beat", "beat", "--schedule", str(workdir / "celerybeat-schedule")),
    ]
