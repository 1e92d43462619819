"""Headless Chromium (Debian's package, installed by `make test` when missing) for page checks.

Each call starts a fresh browser with an empty profile and no background traffic.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# Virtual time runs while the page loads: scripts, fetches and rendering, then the dump.
PAGE_BUDGET_MS = 20_000
TIMEOUT_SECONDS = 120


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs it as root"
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=True,
        )


def dump_dom(url: str) -> str:
    """The page's DOM after its scripts ran."""
    return _run(f"--virtual-time-budget={PAGE_BUDGET_MS}", "--dump-dom", url).stdout


def screenshot(url: str, path: Path, width: int = 1000, height: int = 700) -> Path:
    """A PNG of the rendered page."""
    _run(
        f"--virtual-time-budget={PAGE_BUDGET_MS}",
        f"--window-size={width},{height}",
        f"--screenshot={path}",
        url,
    )
    assert path.exists(), f"Chromium wrote no screenshot of {url}"
    return path
