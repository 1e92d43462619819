"""Both APIs answer every operation as their OpenAPI document says, for every role: schemathesis
generates requests (valid and invalid) from /api/schema/ and checks each answer.

Checks: no 5xx, a documented status code, a documented content type, a body that matches
the documented schema. Bounded for CI: a few examples per operation, a fixed seed
(SHOPSTREAM_FUZZ_SEED overrides it), and a hard time limit per run. The coverage phase
(boundary and type-confusion values for every parameter, the slow part) runs on one
document of each API: the write API's v2 has v1's operations under another prefix, and
the read API's v2 has all of v1's and more. The other two documents are fuzzed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
import yaml

from tests.e2e.conftest import PASSWORD, LiveStack

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ROLES = ["anonymous", "customer", "seller", "admin", "analyst"]
FULL = "examples,coverage,fuzzing"
DOCUMENTS = [("write", "v1", FULL), ("read", "v2", FULL), ("write", "v2", "examples,fuzzing")]
DOCUMENTS += [("read", "v1", "examples,fuzzing")]
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
MAX_EXAMPLES = 4
SECONDS_PER_RUN = 240
SEED = os.environ.get("SHOPSTREAM_FUZZ_SEED", "20261201")


def access_token(stack: LiveStack, role: str) -> str:
    """A new account's access token; analysts are customers promoted by the admin."""
    email = f"fuzz-{role}-{uuid.uuid4().hex[:8]}@e2e.example.com"
    w = f"{stack.write_url}/api/v1"
    if role == "admin":
        email = "admin@e2e.example.com"
    else:
        body = {"email": email, "password": PASSWORD}
        if role == "seller":
            body["role"] = role
        signed_up = requests.post(f"{w}/auth/signup", json=body, timeout=30)
        assert signed_up.status_code == 201, signed_up.text
        if role == "analyst":
            admin = stack.session("admin")
            promoted = admin.post(
                f"{w}/users/{signed_up.json()['id']}/role", json={"role": role}, timeout=30
            )
            assert promoted.status_code == 200, promoted.text
    tokens = requests.post(
        f"{w}/auth/token", json={"email": email, "password": PASSWORD}, timeout=30
    )
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access"])


@pytest.fixture(scope="module")
def tokens(live_stack: LiveStack) -> dict[str, str]:
    return {role: access_token(live_stack, role) for role in ROLES if role != "anonymous"}


def fuzz(
    schema_url: str, phases: str, token: str | None, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """One schemathesis run; its state (.schemathesis/, the JUnit report) stays in `workdir`,
    so no run replays another's cases and each is reproducible from its seed alone."""
    command = [
        str(SCHEMATHESIS),
        "run",
        schema_url,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        phases,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--generation-with-security-parameters",
        "false",
        "--request-timeout",
        "10",
        "--workers",
        "2",
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(workdir / "junit.xml"),
    ]
    if token is not None:
        command += ["--header", f"Authorization: Bearer {token}"]
    return subprocess.run(
        command,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_RUN,
        check=False,
    )


def documented_operations(schema_url: str) -> set[str]:
    schema = yaml.safe_load(requests.get(schema_url, timeout=30).text)
    return {f"{m.upper()} {path}" for path, ops in schema["paths"].items() for m in ops}


def tested_operations(report: Path) -> tuple[set[str], dict[str, int]]:
    """The operations a run's JUnit report covers, and its counts of failures, errors, skips."""
    if not report.exists():
        return set(), {}
    suite = ElementTree.parse(report).getroot()  # noqa: S314 - our own run's report
    counts = {key: int(suite.get(key, "-1")) for key in ("failures", "errors", "skipped")}
    return {case.get("name", "") for case in suite.iter("testcase")}, counts


def readable(output: str, width: int = 300, limit: int = 20_000) -> str:
    """The run's report with each line cut short: generated URLs and bodies can be huge."""
    lines = [line if len(line) <= width else f"{line[:width]}…" for line in output.splitlines()]
    return "\n".join(lines)[-limit:]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("api", "version", "phases"), DOCUMENTS)
def test_every_operation_answers_as_documented_and_never_with_a_server_error(
    live_stack: LiveStack,
    tokens: dict[str, str],
    api: str,
    version: str,
    phases: str,
    role: str,
    tmp_path: Path,
) -> None:
    # given
    base = live_stack.write_url if api == "write" else live_stack.read_url
    schema_url = f"{base}/api/schema/?version={version}"
    # when
    run = fuzz(schema_url, phases, tokens.get(role), tmp_path)
    # then
    assert (run.returncode, *tested_operations(tmp_path / "junit.xml")) == (
        0,
        documented_operations(schema_url),
        {"failures": 0, "errors": 0, "skipped": 0},
    ), readable(run.stdout + run.stderr)


def test_the_longest_search_url_the_schema_allows_is_answered_in_the_envelope(
    live_stack: LiveStack,
) -> None:
    # given: q and search at their longest in 4-byte characters, and the longest cursor
    text = "\N{MUSICAL SYMBOL G CLEF}" * 200
    params = {"q": text, "search": text, "cursor": "A" * 2000}
    # when
    response = requests.get(
        f"{live_stack.read_url}/api/v2/products/search", params=params, timeout=10
    )
    # then: past gunicorn's default request line (4094 bytes), answered by the API itself
    assert len(response.request.url or "") > 4094
    assert (
        response.status_code,
        response.headers["Content-Type"],
        list(response.json()["error"]["details"]),
    ) == (400, "application/json", ["cursor"])
