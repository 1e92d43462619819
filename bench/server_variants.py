"""bench/read.py --metrics / --tracing / --variants: a checkout's read server run as several
variants, each scenario under every variant back to back, req/s as a ratio to the first.

off        no HTTP metrics (bench/no_metrics_settings.py drops infra.metrics.HttpMetricsMiddleware)
           and tracing off: the floor, nothing issue 12 added
metrics    as shipped by default: the metrics middleware, tracing off (no endpoint)
trace-ids  metrics + SHOPSTREAM_TRACE_IDS=true: the SDK and the instrumentations, spans with
           ids but not recorded
export     metrics + OTEL_EXPORTER_OTLP_ENDPOINT: every span recorded and sent, in batches, to
           a small OTLP/HTTP sink in this process that reads each request and answers 200

Every variant's server gets a PROMETHEUS_MULTIPROC_DIR of its own, as under `make up`, and
none inherits an OTEL_* or SHOPSTREAM_TRACE_IDS variable.
"""

from __future__ import annotations

import statistics
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VARIANTS = ("off", "metrics", "trace-ids", "export")  # in this order; the first chosen is the base
PRESETS = {"metrics": ("off", "metrics"), "tracing": ("metrics", "trace-ids", "export")}
SETTINGS = "bare_view_settings"  # bench/bare_view_settings.py: the read API + /bench/bare
NO_METRICS_SETTINGS = "no_metrics_settings"


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


def chosen_variants(variants: str, metrics: bool, tracing: bool) -> list[str]:
    """The variants of `--variants a,b` plus those of `--metrics` and `--tracing`, in
    VARIANTS order; an unknown name raises ValueError."""
    names = {v for v in variants.split(",") if v}
    if unknown := names - set(VARIANTS):
        raise ValueError(f"unknown variants: {', '.join(sorted(unknown))}")
    names |= set(PRESETS["metrics"]) if metrics else set()
    names |= set(PRESETS["tracing"]) if tracing else set()
    return [v for v in VARIANTS if v in names]


def settings_module(variant: str) -> str:
    return NO_METRICS_SETTINGS if variant == "off" else SETTINGS


def variant_env(variant: str, sink: OtlpSink | None) -> dict[str, str]:
    """What the read server's environment gets (every inherited OTEL_* is dropped first)."""
    if variant == "trace-ids":
        return {"SHOPSTREAM_TRACE_IDS": "true"}
    if variant == "export":
        assert sink is not None
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.url}
    return {}


def overhead_rows(results: dict[tuple[str, str, int], list[dict]], labels: dict[str, str]) -> list:
    """(scenario, conns, variant, median req/s, per-round ratios to the base, median ratio,
    median CPU ms/req) of every variant, the base (the first of `labels`) included.

    `labels` maps each variant to its target's label; rounds pair up by index.
    """
    base, rows = next(iter(labels)), []
    for (label, name, conns), base_runs in results.items():
        if label != labels[base]:
            continue
        for variant, variant_label in labels.items():
            runs = results.get((variant_label, name, conns), [])
            pairs = zip(runs, base_runs, strict=False)
            ratios = [r["rps"] / b["rps"] for r, b in pairs if b["rps"]]
            if ratios:
                rps = statistics.median(r["rps"] for r in runs)
                cpu = statistics.median(r["cpu_ms"] for r in runs)
                rows.append((name, conns, variant, rps, ratios, statistics.median(ratios), cpu))
    return rows


def print_overhead(
    results: dict[tuple[str, str, int], list[dict]],
    labels: dict[str, str],
    sink: OtlpSink | None,
) -> None:
    base = next(iter(labels))
    print(f"\nreq/s as a ratio to {base} in the same round, CPU ms per request ({labels[base]}):")
    print(f"| scenario | conns | variant | req/s | ratio to {base} | every round | CPU ms/req |")
    print("|---|---|---|---|---|---|---|")
    for name, conns, variant, rps, ratios, median, cpu in overhead_rows(results, labels):
        shown = " ".join(f"{x:.2f}" for x in ratios)
        print(f"| {name} | {conns} | {variant} | {rps:.0f} | {median:.2f} | {shown} | {cpu:.2f} |")
    if sink is not None:
        print(f"OTLP sink received {sink.counts['requests']} exports, {sink.counts['bytes']} bytes")
