"""bench/read.py --tracing: the read server under each tracing mode, and its cost against off.

off     the default (no endpoint): no provider, no instrumentation
on      SHOPSTREAM_TRACE_IDS=true: the SDK and the instrumentations, spans with ids but not
        recorded
export  OTEL_EXPORTER_OTLP_ENDPOINT set: every span recorded and sent, in batches, to a
        small OTLP/HTTP sink in this process that reads each request and answers 200
"""

from __future__ import annotations

import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("off", "on", "export")


class OtlpSink:
    """Accepts OTLP/HTTP exports on loopback and counts them (requests, bytes)."""

    def __init__(self) -> None:
        counts = self.counts = {"requests": 0, "bytes": 0}
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(size)
                with lock:
                    counts["requests"] += 1
                    counts["bytes"] += size
                self.send_response(200)  # an empty ExportTraceServiceResponse
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: one line per export would flood the bench's output."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def mode_env(mode: str, sink: OtlpSink) -> dict[str, str]:
    """What the read server's environment gets (every inherited OTEL_* is dropped first)."""
    if mode == "on":
        return {"SHOPSTREAM_TRACE_IDS": "true"}
    if mode == "export":
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.url}
    return {}


def overhead_rows(results: dict[tuple[str, str, int], list[dict]], labels: dict[str, str]) -> list:
    """(scenario, conns, mode, per-round ratios, median) of req/s against off in each round.

    `labels` maps each mode to its target's label; rounds pair up by index.
    """
    rows = []
    for (label, name, conns), off_runs in results.items():
        if label != labels["off"]:
            continue
        for mode in MODES[1:]:
            runs = results.get((labels[mode], name, conns), [])
            ratios = [r["rps"] / o["rps"] for r, o in zip(runs, off_runs, strict=False) if o["rps"]]
            if ratios:
                rows.append((name, conns, mode, ratios, statistics.median(ratios)))
    return rows


def print_overhead(
    results: dict[tuple[str, str, int], list[dict]], labels: dict[str, str], sink: OtlpSink
) -> None:
    print(f"\ntracing overhead, req/s as a ratio to off in the same round ({labels['off']}):")
    print("| scenario | conns | mode | median ratio | every round |\n|---|---|---|---|---|")
    for name, conns, mode, ratios, median in overhead_rows(results, labels):
        shown = " ".join(f"{x:.2f}" for x in ratios)
        print(f"| {name} | {conns} | {mode} | {median:.2f} | {shown} |")
    print(f"OTLP sink received {sink.counts['requests']} exports, {sink.counts['bytes']} bytes")
