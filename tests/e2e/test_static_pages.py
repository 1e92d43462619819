"""Pages that need static files, as a browser shows them: Swagger UI and the admin log-in.

Both run against gunicorn in the two ways static files are served: from the apps
(development and tests, as `make up` runs) and from `collectstatic`'s output in
production (as the Dockerfile builds it).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from infra.stack.processes import ROOT, gunicorn
from infra.stack.servers import free_port, wait_for
from infra.stack.supervisor import Supervisor
from tests.support.browser import dump_dom, screenshot
from tests.support.live_stack import LiveStack, file_sink

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PRODUCTION_ENV = {
    "SHOPSTREAM_ENV": "production",
    "DJANGO_SECRET_KEY": "static-pages-test-" + "k" * 40,
    "PAYMENT_WEBHOOK_SECRET": "whsec_static_pages_test",
    # This server is reached over plain HTTP on loopback, with no TLS proxy in front.
    "DJANGO_SECURE_SSL_REDIRECT": "0",
}
# Pixels of strong colour (the admin's header band and button); an unstyled page has none.
STYLED_MIN_COLOURED_PIXELS = 10_000


@pytest.fixture(scope="module")
def production_write_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The write API under production settings, serving what collectstatic collected."""
    static_root = tmp_path_factory.mktemp("static")
    env = {**os.environ, **PRODUCTION_ENV, "DJANGO_STATIC_ROOT": str(static_root)}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env={**env, "DJANGO_SETTINGS_MODULE": "infra.settings.write_api"},
        check=True,
        cwd=ROOT,
    )
    port = free_port()
    supervisor = Supervisor(env, sink=file_sink(static_root.parent / "production-api.log"))
    supervisor.start(gunicorn("write-api", "write_api", port, "infra.settings.write_api"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/healthz", timeout=1).raise_for_status(), url)
        yield url
    finally:
        supervisor.stop_all(timeout=5)


def schema_paths(base_url: str) -> set[str]:
    schema = requests.get(f"{base_url}/api/schema/", params={"format": "json"}, timeout=30)
    assert schema.status_code == 200, schema.text
    return set(schema.json()["paths"])


def swagger_paths(base_url: str) -> set[str]:
    """The operation paths Swagger UI rendered (each operation's summary carries its path)."""
    return set(re.findall(r'data-path="([^"]+)"', dump_dom(f"{base_url}/api/docs/")))


def coloured_pixels(png: Path) -> int:
    rgb = Image.open(png).convert("RGB").tobytes()
    return sum(
        1
        for pixel in zip(rgb[0::3], rgb[1::3], rgb[2::3], strict=True)
        if max(pixel) - min(pixel) > 50
    )


@pytest.mark.parametrize("api", ["write", "read"])
def test_swagger_ui_lists_every_operation_of_the_schema(live_stack: LiveStack, api: str) -> None:
    # given
    base_url = live_stack.write_url if api == "write" else live_stack.read_url
    expected = schema_paths(base_url)
    # when
    rendered = swagger_paths(base_url)
    # then
    assert "/api/v1/products/{product_id}/reviews" in expected
    assert rendered == expected


def test_the_admin_log_in_page_renders_styled(live_stack: LiveStack, tmp_path: Path) -> None:
    # when
    png = screenshot(f"{live_stack.write_url}/admin/login/", tmp_path / "admin-login.png")
    # then
    assert coloured_pixels(png) >= STYLED_MIN_COLOURED_PIXELS


def test_production_serves_the_collected_static_files(
    production_write_api: str, tmp_path: Path
) -> None:
    # when
    css = requests.get(
        f"{production_write_api}/static/admin/css/base.css",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )
    rendered = swagger_paths(production_write_api)
    png = screenshot(f"{production_write_api}/admin/login/", tmp_path / "admin-login.png")
    # then
    assert (css.status_code, css.headers["Content-Type"]) == (200, 'text/css; charset="utf-8"')
    assert css.headers["Content-Encoding"] == "gzip"
    assert rendered == schema_paths(production_write_api)
    assert coloured_pixels(png) >= STYLED_MIN_COLOURED_PIXELS
