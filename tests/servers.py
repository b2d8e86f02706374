"""Real processes for the end-to-end suites: `carnet serve` under gunicorn, `carnet store` (wire)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def embedded_env() -> dict[str, str]:
    """This process's environment for a child on the embedded SQLite store (``MONGODB_URI`` dropped)."""
    return {k: v for k, v in os.environ.items() if k != "MONGODB_URI"}


def cli_token(data_dir: Path, *args: str) -> str:
    """A bearer token signed by the server key in ``data_dir`` (``carnet token --data-dir D *args``)."""
    minted = subprocess.run(
        [sys.executable, "-m", "fhir_server.cli", "token", "--data-dir", str(data_dir), *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return minted.stdout.strip()


def server_port(base: str) -> int:
    """The port of a FHIR base URL ``http://host:port/fhir``."""
    return int(base.split(":")[2].split("/")[0])


@contextmanager
def carnet_server(
    data_dir: Path, workers: int = 1, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """Run `carnet serve` (on ``port``, default a free one) and yield its FHIR base URL once
    /metadata answers."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "fhir_server.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
    ]
    # the server's log goes to a file: a pipe nobody reads fills up (64 KiB) and blocks the server
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below, after the server stops
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}/fhir"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"carnet serve exited: {log.read().decode()[-2000:]}")
            try:
                if requests.get(f"{base}/metadata", timeout=10).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("carnet serve did not start within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def wire_store(data_dir: Path) -> Iterator[str]:
    """Run `carnet store` (the embedded store over the MongoDB wire protocol); yield its URI."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "fhir_server.cli", "store", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        uri = proc.stdout.readline().strip()
        if not uri.startswith("mongodb://"):
            raise RuntimeError(f"carnet store did not start: {uri!r}")
        yield uri
    finally:
        proc.terminate()
        proc.wait(timeout=15)
