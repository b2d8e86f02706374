"""A live Carnet (the real app under werkzeug's threaded server on 127.0.0.1) seeded with the
portal world, and headless Chromium driven by Playwright (Debian's ``chromium``; the tests skip,
saying why, where it is absent, and fail instead when ``CARNET_REQUIRE_BROWSER=1``, as in CI)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from fhir_server.app import create_app
from fhir_server.storage import get_store_of
from tests.portal.world import seed

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Live:
    """The running server: its root URL, FHIR base and app (for tokens and direct checks)."""

    url: str
    app: Flask

    @property
    def fhir(self) -> str:
        return f"{self.url}/fhir"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    from werkzeug.serving import WSGIRequestHandler
    from werkzeug.serving import make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """No access log: the test output stays readable."""

    config: dict[str, Any] = {
        "TESTING": True,
        "DATA_DIR": str(tmp_path),
        "DATABASE_FILE": str(tmp_path / "carnet.sqlite"),
    }
    if os.environ.get("MONGODB_URI"):
        config |= {"MONGODB_URI": os.environ["MONGODB_URI"], "MONGODB_DATABASE": f"portal_{tmp_path.name[-12:]}"}
    app = create_app(config)
    seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Live(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join()
        store = get_store_of(app)
        if app.config.get("MONGODB_URI"):
            store.drop()
        store.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        message = (
            f"{CHROMIUM} is absent: the portal's browser tests need Debian's chromium "
            "(make test installs it when run as root: apt-get install chromium)"
        )
        if os.environ.get("CARNET_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1000, "height": 900})
    context.set_default_timeout(15000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
