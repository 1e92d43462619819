"""HTTP load for bench/write.py: accounts, and requests sent from N keep-alive connections.

The client is the standard library's http.client (one persistent connection per thread), so
its own CPU per request stays small next to the server's; bench/write.py reports it anyway.
"""

from __future__ import annotations

import http.client
import json
import math
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

API = "/api/v1"
ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Bench St",
    "city": "Testville",
    "postcode": "12345",
    "country": "GB",
}
TOKEN_REUSE = 600.0  # the write API's access tokens live 15 minutes


class Connection:
    """One keep-alive connection; a request on a connection the server closed is sent again."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn: http.client.HTTPConnection | None = None
        self.resent = 0

    def connect(self) -> None:
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.conn.connect()

    def request(
        self, method: str, path: str, body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            try:
                self.conn.request(method, path, body=data, headers=sent)
                reply = self.conn.getresponse()
                return reply.status, reply.read()
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                self.resent += 1
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass
class Account:
    """A user signed up through the API, with its tokens and (for customers) its cart lines."""

    id: str
    email: str
    access: str
    refresh: str
    issued: float
    lines: set[str] = field(default_factory=set)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}", **extra}


def sign_up(conn: Connection, role: str, prefix: str = "write-bench") -> Account:
    email = f"{prefix}-{role}-{secrets.token_hex(6)}@example.com"
    login = {"email": email, "password": secrets.token_urlsafe(18)}
    status, body = conn.request("POST", f"{API}/auth/signup", {**login, "role": role})
    if status != 201:
        raise RuntimeError(f"sign-up answered {status}: {body[:300]!r}")
    user = json.loads(body)
    status, body = conn.request("POST", f"{API}/auth/token", login)
    if status != 200:
        raise RuntimeError(f"log-in answered {status}: {body[:300]!r}")
    tokens = json.loads(body)
    return Account(str(user["id"]), email, tokens["access"], tokens["refresh"], time.monotonic())


def refresh(conn: Connection, account: Account) -> None:
    """A new access token when the one held is getting old (a long run outlives it)."""
    if time.monotonic() - account.issued < TOKEN_REUSE:
        return
    status, body = conn.request("POST", f"{API}/auth/token/refresh", {"refresh": account.refresh})
    if status != 200:
        raise RuntimeError(f"token refresh answered {status}: {body[:300]!r}")
    tokens = json.loads(body)
    account.access, account.issued = tokens["access"], time.monotonic()
    account.refresh = tokens.get("refresh", account.refresh)


@dataclass
class Call:
    """One request to send; `expect` is the status that counts as success."""

    kind: str
    method: str
    path: str
    body: object
    headers: dict[str, str]
    expect: int = 200
    after: Callable[[int, bytes], None] | None = None  # bookkeeping on the answer


@dataclass
class Answer:
    kind: str
    status: int
    seconds: float
    ok: bool
    body: bytes = b""


@dataclass
class LoadResult:
    answers: list[Answer]
    wall: float
    resent: int

    def of(self, kind: str) -> list[Answer]:
        return [a for a in self.answers if a.kind == kind]

    @property
    def failed(self) -> list[Answer]:
        return [a for a in self.answers if not a.ok]


def timed(conn: Connection, call: Call, keep_body: bool = False) -> Answer:
    """Send `call` on `conn`: its answer and how long it took."""
    start = time.perf_counter()
    try:
        status, body = conn.request(call.method, call.path, call.body, call.headers)
    except (OSError, http.client.HTTPException) as error:  # e.g. a worker killed at its timeout
        status, body = 0, repr(error).encode()
    seconds = time.perf_counter() - start
    if call.after is not None:
        call.after(status, body)
    kept = body if keep_body or status != call.expect else b""
    return Answer(call.kind, status, seconds, status == call.expect, kept)


def drive(
    connections: list[Connection],
    work: Callable[[int, Connection], None],
    gate: threading.Barrier | None = None,
) -> LoadResult:
    """Run `work` once per connection, each in a thread; the wall time from the start (or
    from the release of `gate`, which the threads wait at too) until the last one is done."""
    threads = [
        threading.Thread(target=work, args=pair, daemon=True) for pair in enumerate(connections)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if gate is not None:
        gate.wait()
        started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    for conn in connections:
        conn.close()
    return LoadResult([], wall, sum(c.resent for c in connections))


def send_all(
    url: str, calls: Sequence[Call], concurrency: int, keep_body: bool = False
) -> LoadResult:
    """Send `calls` in order from `concurrency` connections, each taking the next one free."""
    lock, position, answers = threading.Lock(), [0], []

    def work(_: int, conn: Connection) -> None:
        while True:
            with lock:
                if position[0] >= len(calls):
                    return
                call = calls[position[0]]
                position[0] += 1
            answer = timed(conn, call, keep_body)
            with lock:
                answers.append(answer)

    result = drive([Connection(url) for _ in range(concurrency)], work)
    result.answers = answers
    return result


def at_once(url: str, calls: Sequence[Call]) -> LoadResult:
    """Every call from its own connection, released together; latency from the release."""
    connections = [Connection(url) for _ in calls]
    for conn in connections:  # connected beforehand: the handshake is not the server's work
        conn.connect()
    gate, answers, lock = threading.Barrier(len(calls) + 1), [], threading.Lock()

    def work(index: int, conn: Connection) -> None:
        gate.wait()
        answer = timed(conn, calls[index], keep_body=True)
        with lock:
            answers.append(answer)

    result = drive(connections, work, gate)
    result.answers = answers
    return result


def add_to_cart(customer: Account, product_id: str, kind: str = "add-to-cart") -> Call:
    def remember(status: int, _: bytes) -> None:
        if status == 200:
            customer.lines.add(product_id)

    body = {"product_id": product_id, "quantity": 1}
    return Call(kind, "POST", f"{API}/cart/items", body, customer.headers(), 200, remember)


def remove_from_cart(customer: Account, product_id: str) -> Call:
    def forget(status: int, _: bytes) -> None:
        if status == 200:
            customer.lines.discard(product_id)

    path = f"{API}/cart/items/{product_id}"
    return Call("remove", "DELETE", path, None, customer.headers(), 200, forget)


def check_out(customer: Account, kind: str = "checkout") -> Call:
    def emptied(status: int, _: bytes) -> None:
        if status == 201:
            customer.lines.clear()

    headers = customer.headers(**{"Idempotency-Key": uuid.uuid4().hex})
    body = {"shipping_address": ADDRESS}
    return Call(kind, "POST", f"{API}/checkout", body, headers, 201, emptied)


def pay(customer: Account, order_id: str) -> Call:
    headers = customer.headers(**{"Idempotency-Key": uuid.uuid4().hex})
    path = f"{API}/orders/{order_id}/pay"
    return Call("pay", "POST", path, {"payment_token": "tok_ok"}, headers, 200)


def create_products(url: str, seller: Account, count: int, label: str, stock: int) -> list[str]:
    ids: list[str] = []

    def keep(status: int, body: bytes) -> None:
        if status == 201:
            ids.append(str(json.loads(body)["id"]))

    calls = [
        Call(
            "product",
            "POST",
            f"{API}/products",
            {
                "name": f"Write bench {label} {i} {secrets.token_hex(3)}",
                "description": f"Product {i} of the write benchmark ({label}).",
                "price": f"{5 + i % 50}.99",
                "stock": stock,
            },
            seller.headers(),
            201,
            keep,
        )
        for i in range(count)
    ]
    result = send_all(url, calls, 4)
    if result.failed:
        raise RuntimeError(f"product create failed: {result.failed[0].body[:300]!r}")
    return ids


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN when there is nothing to rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]
