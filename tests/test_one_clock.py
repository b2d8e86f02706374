"""One clock: the server reads wall time only through ``fhir_server.clock``, whose ``CLOCK`` setting
tests and replays override; these tests find any other reading in the code and show that a set
clock reaches the tokens the server issues and checks."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

from joserfc import jws

from fhir_server.auth import accounts
from fhir_server.auth.bearer import LEEWAY
from fhir_server.auth.server import SERVICE_TTL
from fhir_server.storage import Collections
from fhir_server.storage import get_store
from tests.support import Clock

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fhir_server", "search", "consent", "profiles")
CLOCK = ROOT / "fhir_server" / "clock.py"
#: readings of wall time, by qualified name
WALL_TIME = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
    }
)
PAST = datetime(2020, 2, 29, 12, 0, tzinfo=UTC)


def _dotted(node: ast.expr) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"], None for any other expression."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    return [node.id, *parts] if isinstance(node, ast.Name) else None


def wall_time_reads(source: str) -> Iterator[tuple[int, str]]:
    """(line, qualified name) of each wall-time function ``source`` names, imports resolved."""
    tree = ast.parse(source)
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update((alias.asname or alias.name, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.update((alias.asname or alias.name, f"{node.module}.{alias.name}") for alias in node.names)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)) and isinstance(node.ctx, ast.Load):
            parts = _dotted(node)
            if parts is None:
                continue
            qualified = ".".join([names.get(parts[0], parts[0]), *parts[1:]])
            if qualified in WALL_TIME:
                yield node.lineno, qualified


def test_the_scan_resolves_imports_and_skips_text():
    source = (
        "import time\nimport datetime as dt\nfrom time import time_ns as ns\nfrom datetime import date\n"
        '"""datetime.now() in a docstring"""\n'
        "# time.time() in a comment\n"
        "a = time.time()\nb = dt.datetime.now(dt.UTC)\nc = ns()\nd = date.today()\ne = dt.datetime.utcnow\n"
        "f = time.monotonic()\n"
    )
    assert sorted(wall_time_reads(source)) == [
        (7, "time.time"),
        (8, "datetime.datetime.now"),
        (9, "time.time_ns"),
        (10, "datetime.date.today"),
        (11, "datetime.datetime.utcnow"),
    ]


def test_only_the_clock_reads_wall_time():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != CLOCK
        for line, name in wall_time_reads(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "read the time through fhir_server.clock:\n" + "\n".join(found)


def test_a_set_clock_issues_and_checks_the_tokens(make_app):
    """Years ago by the wall, a token issued at the app's clock is valid at that clock, and expires
    by it: issuing (iat, exp), client records and the bearer check read one clock."""
    clock = Clock(PAST)
    app = make_app(CLOCK=clock)
    with app.app_context():
        client_id, secret = accounts.add_client(Collections(get_store()), name="service", scope="system/Patient.rs")
        registered = accounts.query_client(Collections(get_store()), client_id)
        assert registered is not None
        assert registered.doc["created"] == int(PAST.timestamp())
    client = app.test_client()
    issued = client.post("/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert issued.status_code == 200, issued.get_json()
    token = issued.get_json()["access_token"]
    claims = json.loads(jws.extract_compact(token.encode()).payload or b"")
    assert (claims["iat"], claims["exp"]) == (int(PAST.timestamp()), int(PAST.timestamp()) + SERVICE_TTL)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/fhir/Patient", headers=headers).status_code == 200
    clock.advance(seconds=SERVICE_TTL + LEEWAY)
    expired = client.get("/fhir/Patient", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.headers["WWW-Authenticate"]
