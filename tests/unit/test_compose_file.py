"""docker-compose.yml runs the same processes as `make up`, against the official server images."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from infra.stack.processes import app_processes

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
WRITE_PORT, READ_PORT = 8000, 8001
LAUNCHER_WORKDIR = Path("/tmp")  # noqa: S108 - only names the beat schedule; nothing is written
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what a server in a container must bind

# The variable each app process reads to find a server, and the image that server must run.
BACKING_SERVER_IMAGES = {
    "DATABASE_URL": "postgres:16",
    "REDIS_URL": "redis:7*",
    "KAFKA_BOOTSTRAP_SERVERS": "apache/kafka*",
    "OPENSEARCH_URL": "opensearchproject/opensearch:2*",
}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", ALL_INTERFACES}
PYTHON_IDENTIFIER_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")


def load_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def app_services(services: dict[str, dict]) -> dict[str, dict]:
    return {name: service for name, service in services.items() if "build" in service}


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = {key: value for key, _, value in (item.partition("=") for item in env)}
    return {key: str(value) for key, value in env.items()}


def hosts(value: str) -> list[str]:
    """The host names of a URL or of a comma-separated `host:port` list (Kafka's form)."""
    value = re.sub(r"\$\{[^}]*\}", "x", value)  # compose interpolation, e.g. a password
    return [
        urlsplit(part if "://" in part else f"//{part}").hostname or "" for part in value.split(",")
    ]


def command(service: dict) -> list[str]:
    argv = service.get("command") or []
    return shlex.split(argv) if isinstance(argv, str) else [str(arg) for arg in argv]


def program(argv: Sequence[str]) -> tuple[str, ...]:
    """What a command runs, without the options that may differ between local and compose."""
    args = list(argv)
    if args and Path(args[0]).name.startswith("python"):
        args = args[2:] if args[1:2] == ["-m"] else args[1:]
    if not args:
        return ()
    name, rest = Path(args[0]).name, args[1:]
    if name == "gunicorn":
        return (name, *[arg for arg in rest if PYTHON_IDENTIFIER_PATH.fullmatch(arg)])
    if name == "manage.py":
        positional = []
        for arg in rest:
            if arg.startswith("-"):
                break
            positional.append(arg)
        return (name, *positional)
    if name == "celery":
        app, subcommand, remaining = None, None, iter(rest)
        for arg in remaining:
            if arg in {"-A", "--app"}:
                app = next(remaining, None)
            elif not arg.startswith("-") and subcommand is None:
                subcommand = arg
        return (name, str(app), str(subcommand))
    return (name, *rest)


def option(argv: Sequence[str], name: str) -> str | None:
    args = list(argv)
    return args[args.index(name) + 1] if name in args[:-1] else None


def published_container_ports(service: dict) -> set[str]:
    ports = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.add(str(port["target"]))
        else:
            ports.add(str(port).rsplit(":", 1)[-1].split("/")[0])
    return ports


def backing_server_hosts(apps: dict[str, dict]) -> dict[str, set[str]]:
    """For each backing-server variable, the hosts the app services' values name."""
    return {
        variable: {
            host
            for service in apps.values()
            for host in hosts(environment(service).get(variable, ""))
        }
        for variable in BACKING_SERVER_IMAGES
    }


def launcher_processes() -> dict[str, list[str]]:
    specs = app_processes(WRITE_PORT, READ_PORT, LAUNCHER_WORKDIR)
    return {spec.name: list(spec.argv) for spec in specs}


def test_every_app_service_finds_each_backing_server_by_a_compose_service_name():
    # given
    services = load_services()
    apps = app_services(services)
    # when
    servers = backing_server_hosts(apps)
    # then
    assert servers == {
        "DATABASE_URL": {"postgres"},
        "REDIS_URL": {"redis"},
        "KAFKA_BOOTSTRAP_SERVERS": {"kafka"},
        "OPENSEARCH_URL": {"opensearch"},
    }
    assert set().union(*servers.values()) - set(services) == set()


def test_each_backing_server_runs_its_official_image():
    # given
    services = load_services()
    servers = backing_server_hosts(app_services(services))
    # when
    images = {
        variable: {host: services.get(host, {}).get("image", "") for host in server_hosts}
        for variable, server_hosts in servers.items()
    }
    wrong = {
        variable: image
        for variable, by_host in images.items()
        for image in by_host.values()
        if not fnmatch(image, BACKING_SERVER_IMAGES[variable])
    }
    # then
    assert {variable: len(by_host) for variable, by_host in images.items()} == dict.fromkeys(
        BACKING_SERVER_IMAGES, 1
    )
    assert wrong == {}


def test_every_launcher_process_has_a_compose_service():
    # given
    apps = app_services(load_services())
    # when
    missing = [name for name in launcher_processes() if name not in apps]
    # then
    assert missing == []


def test_the_only_compose_app_service_the_launcher_lacks_is_the_one_shot_migrate():
    # given
    apps = app_services(load_services())
    # when
    extra = set(apps) - set(launcher_processes())
    # then
    assert extra == {"migrate"}
    assert program(command(apps["migrate"])) == ("manage.py", "prepare_stack")
    assert apps["migrate"]["restart"] == "no"


def test_each_compose_service_runs_the_same_program_as_the_launcher():
    # given
    services = load_services()
    launcher = launcher_processes()
    expected = {name: program(argv) for name, argv in launcher.items()}
    # when
    actual = {name: program(command(services.get(name, {}))) for name in launcher}
    # then
    assert actual == expected
    assert expected["write-api"] == ("gunicorn", "infra.wsgi.write_api:application")
    assert expected["projector"] == ("manage.py", "run_projector")
    assert expected["celery-beat"] == ("celery", "infra.celery_app", "beat")


def test_the_apis_listen_on_all_interfaces_at_the_launcher_port_and_publish_it():
    # given
    services = load_services()
    apis = {
        name: argv
        for name, argv in launcher_processes().items()
        if program(argv)[:1] == ("gunicorn",)
    }
    # when
    actual = {}
    for name in apis:
        host, _, port = (option(command(services[name]), "--bind") or "").rpartition(":")
        actual[name] = (host, port, port in published_container_ports(services[name]))
    # then
    assert actual == {
        name: (ALL_INTERFACES, (option(argv, "--bind") or "").rpartition(":")[2], True)
        for name, argv in apis.items()
    }
    assert sorted(actual) == ["read-api", "write-api"]


def test_no_app_service_points_a_backing_server_at_localhost():
    # given
    apps = app_services(load_services())
    # when
    local = {}
    for name, service in apps.items():
        env = environment(service)
        for variable in BACKING_SERVER_IMAGES:
            if variable not in env:
                local[f"{name} {variable}"] = "unset, so the settings default 127.0.0.1"
        for variable in [*BACKING_SERVER_IMAGES, "CELERY_BROKER_URL"]:
            if variable in env and LOOPBACK_HOSTS & set(hosts(env[variable])):
                local[f"{name} {variable}"] = env[variable]
    # then
    assert local == {}


def test_every_app_service_names_itself_in_shopstream_service():
    # given
    apps = app_services(load_services())
    # when
    names = {name: environment(service).get("SHOPSTREAM_SERVICE") for name, service in apps.items()}
    # then
    assert names == {name: name for name in apps}
