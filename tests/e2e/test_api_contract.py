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

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
import yaml

from tests.support.live_stack import ADMIN_EMAIL, PASSWORD, LiveStack, eventually
from tests.support.shop_data import ADDRESS

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
        email = ADMIN_EMAIL
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


@dataclass
class FuzzWorld:
    """Users of every role, and real ids for schemathesis to use in half of its cases."""

    tokens: dict[str, str]
    ids: dict[str, list[str]]

    def config(self, path: Path, api: str) -> Path:
        """A schemathesis.toml that draws path, query and body ids from `ids` half the time.

        The reviewed product is left out of write runs: a seller or admin run may
        discontinue what it is given, and the read runs must still find its reviews."""
        ids = dict(self.ids)
        if api == "write":
            ids["products"] = ids["products"][1:]
        lines = []
        for name, values in ids.items():
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
        lines.append("[parameters]")
        for parameter, name in ID_PARAMETERS.items():
            lines.append(f'"{parameter}" = {{ dictionary = "{name}", probability = 0.5 }}')
        path.write_text("\n".join(lines) + "\n")
        return path


ID_PARAMETERS = {
    "path.product_id": "products",
    "path.order_id": "orders",
    "path.category_id": "categories",
    "path.user_id": "bystanders",
    "path.escalation_id": "escalations",
    "query.category": "categories",
    "query.seller": "sellers",
    "query.aggregate_id": "orders",
    "body.product_id": "products",
    "body.category_id": "categories",
}


@pytest.fixture(scope="module")
def world(live_stack: LiveStack) -> FuzzWorld:
    """A category, products of the fuzzing seller, a paid order of the fuzzing customer with
    a review of its first product and an escalation, and a bystander account that admins may
    change (never a fuzzing account)."""
    tokens = {role: access_token(live_stack, role) for role in ROLES if role != "anonymous"}
    w, r = f"{live_stack.write_url}/api/v1", f"{live_stack.read_url}/api/v1"

    def call(role: str | None, method: str, url: str, body: object = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        return requests.request(method, url, json=body, headers=headers, timeout=30)

    category = call("admin", "POST", f"{w}/categories", {"name": f"Fuzz {uuid.uuid4().hex[:6]}"})
    item = {"description": "", "price": "5.00", "stock": 100, "category_id": category.json()["id"]}
    products = [
        call("seller", "POST", f"{w}/products", {"name": f"fuzz item {i}", **item}).json()["id"]
        for i in range(3)
    ]
    call("customer", "POST", f"{w}/cart/items", {"product_id": products[0], "quantity": 1})
    order = call("customer", "POST", f"{w}/checkout", {"shipping_address": ADDRESS}).json()
    paid = call(
        "customer", "POST", f"{w}/orders/{order['order_id']}/pay", {"payment_token": "tok_ok"}
    )
    review = call("customer", "POST", f"{w}/products/{products[0]}/reviews", {"rating": 4})
    escalation = call(
        "customer",
        "POST",
        f"{w}/orders/{order['order_id']}/escalations",
        {"reason": "damaged", "message": "Fuzzed."},
    )
    bystander = call(
        None,
        "POST",
        f"{w}/auth/signup",
        {"email": f"bystander-{uuid.uuid4().hex[:8]}@e2e.example.com", "password": PASSWORD},
    )
    assert (category.status_code, paid.status_code, review.status_code) == (201, 200, 201)
    assert escalation.status_code == 201, escalation.text
    timeline = f"{r}/orders/{order['order_id']}/timeline"
    eventually(lambda: call("customer", "GET", timeline).json().get("events"))
    eventually(lambda: call(None, "GET", f"{r}/products/{products[0]}/reviews").json().get("count"))
    return FuzzWorld(
        tokens,
        {
            "products": products,
            "orders": [order["order_id"]],
            "categories": [category.json()["id"]],
            "bystanders": [bystander.json()["id"]],
            "escalations": [escalation.json()["id"]],
            "sellers": [call("seller", "GET", f"{w}/auth/me").json()["id"]],
        },
    )


def fuzz(
    schema_url: str, phases: str, token: str | None, config: Path, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """One schemathesis run; its state (.schemathesis/, the JUnit report) stays in `workdir`,
    so no run replays another's cases and each is reproducible from its seed alone."""
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
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
        "1",  # Hypothesis parses lambda sources with ast; CPython 3.11 races on that across threads
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


def operations_in_report(report: Path) -> tuple[set[str], dict[str, int]]:
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
    world: FuzzWorld,
    api: str,
    version: str,
    phases: str,
    role: str,
    tmp_path: Path,
) -> None:
    # given
    base = live_stack.write_url if api == "write" else live_stack.read_url
    schema_url = f"{base}/api/schema/?version={version}"
    config = world.config(tmp_path / "schemathesis.toml", api)
    # when
    run = fuzz(schema_url, phases, world.tokens.get(role), config, tmp_path)
    # then
    assert (run.returncode, *operations_in_report(tmp_path / "junit.xml")) == (
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
