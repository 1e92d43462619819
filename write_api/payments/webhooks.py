"""Signed gateway webhooks: `Shopstream-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`.

The signature covers "<t>.<raw body>" with the shared secret; a timestamp outside
the tolerance window (stale or from the future) is refused, which bounds replays.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "Shopstream-Signature"


class BadSignature(Exception):
    """The webhook is forged, tampered with, or outside the time window."""


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(body, secret, timestamp)}"


def verify(body: bytes, header: str, secret: str, tolerance: int, now: float | None = None) -> None:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        offered = parts["v1"]
    except (KeyError, ValueError):
        raise BadSignature("malformed signature header") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise BadSignature("timestamp outside the tolerance window")
    if not hmac.compare_digest(offered, _digest(body, secret, timestamp)):
        raise BadSignature("signature does not match")


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
