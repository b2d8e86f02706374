"""The README's "The DMP in a few requests" runs as written: its bash blocks, in order, in one bash
shell, against `carnet serve` on a fresh data directory.

The README's address (127.0.0.1:8080), data directory (./var) and CLI (.venv/bin/carnet) are
rewritten to this server's, this test's directory and this interpreter's `python -m
fhir_server.cli`. Every status a `curl` prints (`-w '%{http_code}\\n'`: a line of three digits)
must be, in order, the one its line's `# -> NNN` comment states (a loop's line may state several).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import carnet_server
from tests.servers import embedded_env

pytestmark = pytest.mark.gunicorn

ROOT = Path(__file__).resolve().parents[1]
HEADING = "## The DMP in a few requests"
README_BASE = "http://127.0.0.1:8080/fhir"
README_CLI = ".venv/bin/carnet"
README_DATA_DIR = "--data-dir ./var"
EXPECTED = re.compile(r"#\s*->\s*(\d{3}(?:\s+\d{3})*)\s*$")
STATUS = re.compile(r"\d{3}")
MARKER = "@@readme-block "


def section(readme: str) -> str:
    """The README text under ``HEADING``, up to the next second-level heading."""
    start = readme.index(HEADING) + len(HEADING)
    end = readme.find("\n## ", start)
    return readme[start : end if end >= 0 else len(readme)]


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M)


def expectations(block: str) -> list[str]:
    """The statuses a block's `# -> NNN` comments state, in order."""
    return [code for line in block.splitlines() if (m := EXPECTED.search(line)) for code in m[1].split()]


def script(blocks: list[str], base: str, data_dir: Path) -> str:
    """The blocks as one bash script for this server, each after a marker line."""
    cli = f"{shlex.quote(sys.executable)} -m fhir_server.cli"
    parts = ["set -euo pipefail"]
    for number, block in enumerate(blocks, 1):
        body = (
            block.replace(README_BASE, base)
            .replace(README_CLI, cli)
            .replace(README_DATA_DIR, f"--data-dir {shlex.quote(str(data_dir))}")
        )
        parts += [f"echo '{MARKER}{number}'", body]
    return "\n".join(parts) + "\n"


def printed_statuses(stdout: str) -> dict[int, list[str]]:
    """Per block number, the status lines it printed."""
    found: dict[int, list[str]] = {}
    current = 0
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            current = int(line.removeprefix(MARKER))
            found[current] = []
        elif STATUS.fullmatch(line.strip()) and current:
            found[current].append(line.strip())
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data_dir = tmp_path_factory.mktemp("readme")
    env = embedded_env()
    with carnet_server(data_dir, env=env) as base:
        yield base, data_dir


@pytest.fixture(scope="module")
def blocks() -> list[str]:
    text = section((ROOT / "README.md").read_text(encoding="utf-8"))
    found = bash_blocks(text)
    assert len(found) >= 8, "the section shows tokens, setup and the six DMP flows"
    joined = "\n".join(found)
    for needle in (README_BASE, README_CLI, README_DATA_DIR):  # what the rewriting relies on
        assert needle in joined, needle
    return found


def test_the_readme_dmp_walkthrough_runs_as_written(server, blocks, tmp_path):
    if shutil.which("curl") is None or shutil.which("python3") is None:
        pytest.skip("the README's commands need curl and python3")
    base, data_dir = server
    text = script(blocks, base, data_dir)
    assert "8080" not in text and "./var" not in text
    env = embedded_env()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    run = subprocess.run(["bash", "-c", text], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    got = printed_statuses(run.stdout)
    failed = max(got, default=0)  # the last block that started
    stopped = blocks[failed - 1] if failed else "(before the first block)"
    assert run.returncode == 0, f"README block {failed} failed:\n{stopped}\n{run.stdout}\n{run.stderr}"
    for number, block in enumerate(blocks, 1):
        assert got.get(number) == expectations(block), f"README block {number}:\n{block}\nprinted:\n{run.stdout}"
    # the patient reads who accessed her record, the break-glass with its reason, and its notice
    assert "Practitioner/dr-petit 110127 BTG Patiente inconsciente aux urgences" in run.stdout
    assert "Practitioner/dr-martin read DocumentReference/cr1" in run.stdout
    assert "Accès en urgence (bris de glace)" in run.stdout


def test_each_status_needs_its_expectation(blocks):
    """The check above compares lists: a wrong or missing `# -> NNN` fails it."""
    first = blocks[1]
    assert expectations(first)[:2] == ["201", "201"]
    wrong = first.replace("# -> 201", "# -> 200", 1)
    assert expectations(wrong)[0] == "200" != expectations(first)[0]
    assert expectations("curl … # -> 201 201") == ["201", "201"]
    assert printed_statuses(f'{MARKER}1\n201\n{{\n  "a": 1\n}}\n{MARKER}2\n404\n') == {1: ["201"], 2: ["404"]}
