"""Launcher CPU per child log line (see bench/README.md).

Run from a checkout:  .venv/bin/python bench/launcher_logs.py [RATE] [SECONDS] > /dev/null

The launcher's Supervisor runs a child that writes RATE JSON lines a second (200 bytes each,
flushed one by one, as logging does) for SECONDS; the launcher's CPU time over the run is
divided by the lines it passed through.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.getcwd())

CHILD = """
import sys, time
line = '{"event": "request", "method": "GET", "path": "/api/v1/products/%s", "status": 200, '
line = (line % ("3f2a9c1e-0000-4000-8000-000000000000",)) + '"duration_ms": 1.23}\\n'
count, rate = int(sys.argv[1]), float(sys.argv[2])
start = time.monotonic()
for i in range(count):
    sys.stdout.write(line)
    sys.stdout.flush()
    time.sleep(max(0.0, start + (i + 1) / rate - time.monotonic()))
"""


def main() -> int:
    from infra.stack.supervisor import ProcessSpec, Supervisor

    rate = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    count = int(rate * seconds)
    supervisor = Supervisor(dict(os.environ))
    started = time.process_time()
    child = supervisor.start(
        ProcessSpec("child", [sys.executable, "-c", CHILD, str(count), str(rate)], restart=False)
    )
    child.process.wait()
    time.sleep(0.3)  # the last batch
    used = time.process_time() - started
    print(
        f"launcher: {used / count * 1e6:.1f} us CPU per line at {rate} lines/s"
        f" ({used / seconds:.3f} cores; checkout {os.getcwd()}, load {os.getloadavg()[0]:.2f})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
