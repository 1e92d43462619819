"""Shop traffic over HTTP while something breaks: every answer recorded, every accepted write kept.

Each stream is one customer buying from one seller, round after round: the previous
round's product is restocked, a new one is listed, restocked and repriced, bought (cart,
checkout, payment), reviewed, and read back. A round stops at the first answer that is
not 2xx, as a client would; the next round starts afresh. During the fault the test
itself changes a product whose page was served before it, may rename the traffic's
category, and shops a round of its own. Answers and accepted writes are what the tests then check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.support.rebuilt_read_models import ReadModels
from tests.support.shop_data import ADDRESS

# Between a stream's rounds: keeps the load (and the slow email backlog) modest.
ROUND_PAUSE_SECONDS = 1.5
# Longer than any server-side wait (2 s Redis and 10 s OpenSearch timeouts, a few in a row).
CLIENT_TIMEOUT = 30


@dataclass
class Parties:
    """Who takes part (logged-in sessions): a seller, the streams' customers, a customer
    for the rounds the test itself makes, and an admin."""

    write_url: str
    read_url: str
    seller: requests.Session
    customers: list[requests.Session]
    buyer: requests.Session
    admin: requests.Session


@dataclass(frozen=True)
class Answer:
    step: str
    status: int | None  # None: no answer within CLIENT_TIMEOUT
    body: Any


@dataclass
class Accepted:
    """Writes answered 2xx: what each one promised (aggregate id -> at least this version)."""

    products: dict[str, int] = field(default_factory=dict)
    orders: dict[str, str] = field(default_factory=dict)  # order id -> status promised
    reviews: set[str] = field(default_factory=set)
    carts: dict[str, int] = field(default_factory=dict)


class Traffic:
    """Streams of shopping rounds in threads, until stopped."""

    def __init__(self, parties: Parties, tag: str) -> None:
        self.parties = parties
        self.tag = tag
        self.answers: list[Answer] = []
        self.accepted = Accepted()
        self.category_id = ""
        self.watched = ""  # a product no stream changes: only the test does
        self._own_rounds = 0
        self.rounds_done: list[int] = [0] * len(parties.customers)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._stream, args=(i,), daemon=True)
            for i in range(len(parties.customers))
        ]

    # -- control -------------------------------------------------------------------
    def start(self) -> Traffic:
        """Create this traffic's own category (its renames touch only its products) and a
        product only the test changes, then go."""
        p = self.parties
        category = p.admin.post(
            f"{p.write_url}/api/v1/categories",
            json={"name": f"Shelf {self.tag}"},
            timeout=CLIENT_TIMEOUT,
        )
        category.raise_for_status()
        self.category_id = category.json()["id"]
        watched = p.seller.post(
            f"{p.write_url}/api/v1/products",
            json={"name": f"{self.tag} watched", "description": "", "price": "5.00", "stock": 1},
            timeout=CLIENT_TIMEOUT,
        )
        watched.raise_for_status()
        self.watched = watched.json()["id"]
        self._promise_product(self.watched, watched.json()["version"])
        for thread in self._threads:
            thread.start()
        return self

    def wait_for_rounds(self, rounds: int, timeout: float = 120) -> None:
        """Until every stream has finished `rounds` more rounds than now."""
        targets = [done + rounds for done in self.rounds_done]
        deadline = time.monotonic() + timeout
        while any(d < t for d, t in zip(self.rounds_done, targets, strict=True)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"traffic made {self.rounds_done} rounds, wanted {targets}")
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=4 * CLIENT_TIMEOUT)

    # -- checks ---------------------------------------------------------------------
    def unexpected_answers(self) -> list[Answer]:
        """Answers other than 2xx, or 503 in the error envelope (a backing server is away)."""
        return [a for a in self.answers if not answered_acceptably(a)]

    # -- one stream -------------------------------------------------------------------
    def _stream(self, index: int) -> None:
        customer = self.parties.customers[index]
        number, previous = 0, None
        while not self._stop.is_set():
            try:
                previous = self._round(index, customer, number, previous) or previous
            except Exception as error:  # noqa: BLE001 - an answer of a shape nobody expected
                self._record(Answer("round", None, repr(error)))
            number += 1
            self.rounds_done[index] += 1
            self._stop.wait(ROUND_PAUSE_SECONDS)

    def _round(
        self, index: int, customer: requests.Session, number: int, previous: str | None
    ) -> str | None:
        """One round; returns the id of the product it listed, if it got that far."""
        p = self.parties
        w, seller = f"{p.write_url}/api/v1", p.seller
        if previous is not None:
            # A product whose page readers have already seen changes again: its cached
            # page must follow.
            restocked = self._call(
                "restock earlier product",
                lambda: seller.post(
                    f"{w}/products/{previous}/stock", json={"delta": 1}, timeout=CLIENT_TIMEOUT
                ),
            )
            if restocked is None:
                return None
            self._promise_product(previous, restocked["version"])
        name = f"{self.tag} s{index} r{number}"
        product = self._call(
            "create product",
            lambda: seller.post(
                f"{w}/products",
                json={
                    "name": name,
                    "description": f"round {number}",
                    "price": f"{10 + number}.50",
                    "stock": 5,
                    "category_id": self.category_id,
                },
                timeout=CLIENT_TIMEOUT,
            ),
        )
        if product is None:
            return None
        product_id = product["id"]
        self._promise_product(product_id, product["version"])
        steps: list[tuple[str, Callable[[], requests.Response]]] = [
            (
                "restock",
                lambda: seller.post(
                    f"{w}/products/{product_id}/stock", json={"delta": 3}, timeout=CLIENT_TIMEOUT
                ),
            ),
            (
                "reprice",
                lambda: seller.patch(
                    f"{w}/products/{product_id}",
                    json={"price": f"{20 + number}.25"},
                    timeout=CLIENT_TIMEOUT,
                ),
            ),
        ]
        for step, call in steps:
            changed = self._call(step, call)
            if changed is None:
                return product_id
            self._promise_product(product_id, changed["version"])
        self._read_back(product_id)
        cart = self._call(
            "add to cart",
            lambda: customer.post(
                f"{w}/cart/items",
                json={"product_id": product_id, "quantity": 2},
                timeout=CLIENT_TIMEOUT,
            ),
        )
        if cart is None:
            return product_id
        with self._lock:
            self.accepted.carts[cart["id"]] = cart["version"]
        order = self._call(
            "checkout",
            lambda: customer.post(
                f"{w}/checkout", json={"shipping_address": ADDRESS}, timeout=CLIENT_TIMEOUT
            ),
        )
        if order is None:
            return product_id
        order_id = order["order_id"]
        self._promise_order(order_id, "pending_payment")
        # Every third order is paid asynchronously: the gateway settles it by webhook.
        token = "tok_async" if number % 3 == 2 else "tok_ok"
        paid = self._call(
            "pay",
            lambda: customer.post(
                f"{w}/orders/{order_id}/pay", json={"payment_token": token}, timeout=CLIENT_TIMEOUT
            ),
        )
        if paid is None or paid["status"] != "paid":
            return product_id
        self._promise_order(order_id, "paid")
        review = self._call(
            "review",
            lambda: customer.post(
                f"{w}/products/{product_id}/reviews",
                json={"rating": 1 + number % 5, "comment": f"round {number}"},
                timeout=CLIENT_TIMEOUT,
            ),
        )
        if review is not None:
            with self._lock:
                self.accepted.reviews.add(review["id"])
        self._read_back(product_id)
        return product_id

    # -- changes the test makes at a moment of its choosing ---------------------------
    def served_watched_product(self, timeout: float = 30) -> str:
        """The watched product, once a reader has been served (and the cache holds) its page."""
        url = f"{self.parties.read_url}/api/v1/products/{self.watched}"
        version = self.accepted.products[self.watched]
        deadline = time.monotonic() + timeout
        while requests.get(url, timeout=CLIENT_TIMEOUT).json().get("version") != version:
            if time.monotonic() > deadline:
                raise TimeoutError(f"product {self.watched} v{version} was never served")
            time.sleep(0.2)
        return self.watched

    def shop_once(self) -> None:
        """One whole round now, in the caller's thread, by the test's own customer."""
        index = len(self.parties.customers)
        self._round(index, self.parties.buyer, self._own_rounds, None)
        self._own_rounds += 1

    def restock(self, product_id: str) -> None:
        seller, w = self.parties.seller, f"{self.parties.write_url}/api/v1"
        restocked = self._call(
            "restock seen product",
            lambda: seller.post(
                f"{w}/products/{product_id}/stock", json={"delta": 1}, timeout=CLIENT_TIMEOUT
            ),
        )
        if restocked is not None:
            self._promise_product(product_id, restocked["version"])

    def rename_category(self) -> None:
        """A category change re-indexes every product in it (at the same version)."""
        p = self.parties
        self._call(
            "rename category",
            lambda: p.admin.patch(
                f"{p.write_url}/api/v1/categories/{self.category_id}",
                json={"name": f"Shelf {self.tag} {time.monotonic_ns() % 100_000}"},
                timeout=CLIENT_TIMEOUT,
            ),
        )

    def _read_back(self, product_id: str) -> None:
        """Readers during the fault: product page, search, category tree (may miss, never 500)."""
        r = f"{self.parties.read_url}/api/v1"
        for step, url, params in (
            ("read product", f"{r}/products/{product_id}", None),
            ("search", f"{r}/products", {"search": self.tag, "page_size": 100}),
            ("categories", f"{r}/categories", None),
        ):
            self._call(
                step,
                lambda url=url, params=params: requests.get(
                    url, params=params, timeout=CLIENT_TIMEOUT
                ),
            )

    def _call(self, step: str, call: Callable[[], requests.Response]) -> Any:
        """Make one request and record its answer; the body if 2xx, else None."""
        try:
            response = call()
        except requests.RequestException as error:
            self._record(Answer(step, None, repr(error)))
            return None
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text[:300]  # not JSON at all: an HTML error page
        self._record(Answer(step, response.status_code, body))
        return body if 200 <= response.status_code < 300 else None

    def _record(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def _promise_product(self, product_id: str, version: int) -> None:
        with self._lock:
            self.accepted.products[product_id] = max(
                version, self.accepted.products.get(product_id, 0)
            )

    def _promise_order(self, order_id: str, status: str) -> None:
        with self._lock:
            self.accepted.orders[order_id] = status


def answered_acceptably(answer: Answer) -> bool:
    if answer.status is not None and 200 <= answer.status < 300:
        return True
    body = answer.body if isinstance(answer.body, dict) else {}
    enveloped = set(body.get("error", {})) >= {"code", "message", "request_id"}
    # A product created a moment ago may not be projected yet: the read side says 404.
    not_projected_yet = answer.step == "read product" and answer.status == 404
    return enveloped and (answer.status == 503 or not_projected_yet)


def unreflected(accepted: Accepted, models: ReadModels) -> list[str]:
    """Accepted writes the read models do not show (at least at the version answered)."""
    missing = [
        f"product {i} v{v}: {models.products.get(i, {}).get('version')}"
        for i, v in accepted.products.items()
        if models.products.get(i, {}).get("version", 0) < v
    ]
    for order_id, status in accepted.orders.items():
        found = models.orders.get(order_id, {}).get("status")
        if found not in PROMISED_STATUSES[status]:
            missing.append(f"order {order_id} {status}: {found}")
    missing += [f"review {i}" for i in accepted.reviews if i not in models.reviews]
    versions = {c.get("cart_id"): c.get("version", 0) for c in models.carts.values()}
    missing += [
        f"cart {i} v{v}: {versions.get(i)}"
        for i, v in accepted.carts.items()
        if versions.get(i, 0) < v
    ]
    return sorted(missing)


# What an order answered with a status may show later (an async payment settles by webhook).
PROMISED_STATUSES = {"pending_payment": {"pending_payment", "paid"}, "paid": {"paid"}}


def served_differences(traffic: Traffic, want: ReadModels) -> dict[str, Any]:
    """What the read API serves (through its cache) that differs from the rebuild.

    Every product of this traffic's page and search result, and the category tree.
    """
    r, tag, category_id = f"{traffic.parties.read_url}/api/v1", traffic.tag, traffic.category_id
    ours = {i: row for i, row in want.products.items() if row["name"].startswith(tag)}
    found: dict[str, Any] = {}
    for product_id, row in sorted(ours.items()):
        page = requests.get(f"{r}/products/{product_id}", timeout=CLIENT_TIMEOUT)
        served = page.json() if page.status_code == 200 else {"status": page.status_code}
        expected = served_product(want, product_id, row)
        shown = {k: served.get(k) for k in expected}
        if shown != expected:
            found[f"product {product_id}"] = {"want": expected, "served": shown}
    results = requests.get(
        f"{r}/products", params={"search": tag, "page_size": 100}, timeout=CLIENT_TIMEOUT
    ).json()["results"]
    searched = {p["id"]: p["version"] for p in results}
    listed = {i: row["version"] for i, row in ours.items() if not row["discontinued"]}
    if searched != listed:
        found["search"] = {"want": listed, "served": searched}
    names = {
        c["id"]: c["name"] for c in flatten(requests.get(f"{r}/categories", timeout=30).json())
    }
    if names.get(category_id) != want.categories[category_id]["name"]:
        found["categories"] = {
            "want": want.categories[category_id]["name"],
            "served": names.get(category_id),
        }
    return found


def served_product(want: ReadModels, product_id: str, row: dict[str, Any]) -> dict[str, Any]:
    category = want.categories.get(row["category_id"] or "")
    return {
        "name": row["name"],
        "price": row["price"],
        "category": (
            {"id": row["category_id"], "name": category["name"], "path": category["path"]}
            if category
            else None
        ),
        "stock_available": row["stock"] - row["reserved"],
        "rating": {"average": row["rating_average"], "count": row["rating_count"]},
        "version": row["version"],
    }


def flatten(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [node for root in tree for node in [root, *flatten(root["children"])]]
