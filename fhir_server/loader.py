"""`carnet load`: post FHIR data to a server, or straight into a data directory.

Files: a batch or transaction Bundle is posted as it is; any other Bundle, or a single resource,
as a batch of its resources; NDJSON (one resource a line) as batches of ``--chunk`` lines. A
resource with an id is PUT (ids and the references between files are kept), one without is POSTed.
A directory loads its sub-directories first, then its files, by name (Synthea's ``first/`` holds
the organizations and practitioners its patient bundles point to).

Resumable: the state file lists the files and chunks completed; a re-run skips them. A failed
transaction is not completed (nothing was written: re-running retries it); a batch is, its failed
entries reported. Progress goes to stderr; the summary gives resources/s and every failure.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import TextIO

import orjson
from flask import Flask

Post = Callable[[dict[str, Any]], tuple[int, Any]]
BUNDLE_KINDS = ("batch", "transaction")
NDJSON = (".ndjson", ".jsonl")
#: seconds a post may take: a large transaction on the embedded store runs for minutes
TIMEOUT = 3600.0


@dataclass(frozen=True)
class Unit:
    """One post: a whole file, or one chunk of an NDJSON file."""

    key: str
    size: int  # bytes of the file it covers, for the progress bar
    read: Callable[[], tuple[dict[str, Any], list[str]]]  # the Bundle to post, the lines it could not read


@dataclass
class Report:
    resources: int = 0
    seconds: float = 0.0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.resources / self.seconds if self.seconds else 0.0


def as_batch(resources: list[Any]) -> dict[str, Any]:
    """A batch Bundle writing ``resources``: PUT when they have an id, POST otherwise."""
    entries = []
    for resource in resources:
        type_, id_ = resource.get("resourceType"), resource.get("id")
        request = {"method": "PUT", "url": f"{type_}/{id_}"} if id_ else {"method": "POST", "url": str(type_)}
        entries.append({"resource": resource, "request": request})
    return {"resourceType": "Bundle", "type": "batch", "entry": entries}


def _bundle(path: Path) -> tuple[dict[str, Any], list[str]]:
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise ValueError("not a FHIR resource")
    if data.get("resourceType") != "Bundle":
        return as_batch([data]), []
    if data.get("type") in BUNDLE_KINDS:
        return data, []
    return as_batch([e["resource"] for e in data.get("entry") or [] if isinstance(e, dict) and "resource" in e]), []


def _ndjson_units(path: Path, chunk: int) -> Iterator[Unit]:
    lines: list[tuple[int, bytes]] = []
    size, index = 0, 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            size += len(line)
            if line.strip():
                lines.append((number, line))
            if len(lines) == chunk:
                yield _chunk(path, index, size, lines)
                lines, size, index = [], 0, index + 1
    if lines:
        yield _chunk(path, index, size, lines)


def _chunk(path: Path, index: int, size: int, lines: list[tuple[int, bytes]]) -> Unit:
    return Unit(f"{path}#{index}", size, functools.partial(_read_lines, path, list(lines)))


def _read_lines(path: Path, lines: list[tuple[int, bytes]]) -> tuple[dict[str, Any], list[str]]:
    """A batch of the lines that hold a resource; each other line is reported (``file:line``)."""
    resources, unreadable = [], []
    for number, line in lines:
        try:
            resource = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            unreadable.append(f"{path}:{number}: {exc}")
            continue
        if isinstance(resource, dict):
            resources.append(resource)
        else:
            unreadable.append(f"{path}:{number}: not a FHIR resource")
    return as_batch(resources), unreadable


def files(paths: list[Path]) -> Iterator[Path]:
    """The files under ``paths`` in load order, each once."""
    seen: set[Path] = set()

    def walk(path: Path) -> Iterator[Path]:
        if path.is_dir():
            children = sorted(path.iterdir())
            for child in [c for c in children if c.is_dir()] + [c for c in children if c.is_file()]:
                yield from walk(child)
        elif path.suffix in (".json", *NDJSON) and path.resolve() not in seen:
            seen.add(path.resolve())
            yield path

    for path in paths:
        if not path.exists():
            raise FileNotFoundError(path)
        yield from walk(path)


def units(paths: list[Path], chunk: int) -> Iterator[Unit]:
    for path in files(paths):
        if path.suffix in NDJSON:
            yield from _ndjson_units(path, chunk)
        else:
            yield Unit(str(path.resolve()), path.stat().st_size, functools.partial(_bundle, path))


class State:
    """The completed units, kept in a JSON file rewritten after each one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: set[str] = set(json.loads(path.read_text())["done"]) if path.exists() else set()

    def mark(self, key: str) -> None:
        self.done.add(key)
        scratch = self.path.with_name(self.path.name + ".tmp")
        scratch.write_text(json.dumps({"done": sorted(self.done)}, indent=1))
        os.replace(scratch, self.path)


def _diagnostics(outcome: Any) -> str:
    issues = outcome.get("issue") if isinstance(outcome, dict) else None
    return "; ".join(str(i.get("diagnostics") or i.get("code")) for i in issues or [] if isinstance(i, dict)) or \
        "no OperationOutcome"


def failures(key: str, sent: dict[str, Any], status: int, body: Any) -> list[str]:
    """The failures a response reports: the whole post, or each failed batch entry."""
    if status >= 400 or not isinstance(body, dict):
        return [f"{key}: HTTP {status}: {_diagnostics(body)}"]
    out = []
    for index, (request, answer) in enumerate(zip(sent.get("entry") or [], body.get("entry") or [], strict=False)):
        response = answer.get("response") or {}
        if not str(response.get("status", "")).startswith(("2", "3")):
            name = request.get("fullUrl") or (request.get("request") or {}).get("url")
            out.append(f"{key}: entry {index} ({name}): {response.get('status')}: "
                       f"{_diagnostics(response.get('outcome'))}")
    return out


class Progress:
    """A one-line progress bar on ``stream``: bytes done of the total, resources and resources/s."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = max(total, 1), stream
        self.done = 0

    def draw(self, report: Report) -> None:
        filled = int(30 * self.done / self.total)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * self.done // self.total:3d}%  "
                          f"{report.resources} resources  {report.rate:.0f}/s  {len(report.failures)} failed ")
        self.stream.flush()


def load(paths: list[Path], post: Post, state: State, *, chunk: int = 500, stream: TextIO = sys.stderr) -> Report:
    """Post every unit under ``paths`` not yet in ``state``; returns the counts and failures."""
    progress = Progress(sum(p.stat().st_size for p in files(paths)), stream)
    report = Report()
    started = time.perf_counter()
    for unit in units(paths, chunk):
        progress.done += unit.size
        if unit.key in state.done:
            report.skipped += 1
            continue
        try:
            bundle, unreadable = unit.read()
        except ValueError as exc:  # not JSON, or not FHIR
            report.failures.append(f"{unit.key}: {exc}")
            continue
        report.failures += unreadable
        status, body = post(bundle)
        problems = failures(unit.key, bundle, status, body)
        report.failures += problems
        if status < 400:
            report.resources += len(bundle.get("entry") or []) - len(problems)
            state.mark(unit.key)
        report.seconds = time.perf_counter() - started
        progress.draw(report)
    stream.write("\n")
    return report


# posting -------------------------------------------------------------------------------------
def http_poster(base_url: str, token: str | None) -> Post:
    """Posts to a server's FHIR base (Prefer: return=minimal)."""
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json",
               "Prefer": "return=minimal", **({"Authorization": f"Bearer {token}"} if token else {})}

    def post(bundle: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(base_url.rstrip("/"), data=orjson.dumps(bundle), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                return answer.status, orjson.loads(answer.read())
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, orjson.loads(raw)
            except orjson.JSONDecodeError:
                return error.code, {"issue": [{"diagnostics": raw.decode(errors="replace")[:200]}]}

    return post


def app_poster(app: Flask) -> Post:
    """Posts through ``app`` itself (no server, no socket), as a system client."""
    from .auth import mint_token
    from .auth.issuers import AuthConfig

    config = AuthConfig.from_mapping(app.config)
    client = app.test_client()

    def post(bundle: dict[str, Any]) -> tuple[int, Any]:
        token = mint_token(config.data_dir, fhir_user=None, scope="system/*.cruds", purpose=None, reason=None,
                           ttl=3600, sub="carnet-load", issuer=config.issuer, audience=config.audience)
        answer = client.post("/fhir", json=bundle, headers={"Authorization": f"Bearer {token}",
                                                            "Prefer": "return=minimal"})
        return answer.status_code, answer.get_json()

    return post


# command line --------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("load", help="load FHIR bundles and NDJSON files (resumable)")
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="the server's FHIR base, e.g. http://127.0.0.1:8080/fhir")
    target.add_argument("--data-dir", help="load straight into this data directory (no server)")
    parser.add_argument("--token", default=os.environ.get("CARNET_TOKEN"),
                        help="bearer token for --url (default $CARNET_TOKEN)")
    parser.add_argument("--state", type=Path, default=Path("carnet-load.state.json"),
                        help="the resume file (default ./carnet-load.state.json)")
    parser.add_argument("--chunk", type=int, default=500, help="NDJSON lines per batch (default 500)")
    parser.set_defaults(func=command)


def command(args: argparse.Namespace) -> int:
    try:
        with ExitStack() as stack:
            if args.url:
                post = http_poster(args.url, args.token)
            else:
                from .app import command_app

                post = app_poster(stack.enter_context(command_app(args.data_dir)))
            report = load(args.paths, post, State(args.state), chunk=args.chunk)
    except urllib.error.URLError as error:  # the server went away: what was loaded is in the state file
        print(f"cannot reach {args.url}: {error.reason}; re-run to resume", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"{error.args[0]}: no such file or directory", file=sys.stderr)
        return 2
    print(f"{report.resources} resources in {report.seconds:.1f} s ({report.rate:.0f} resources/s), "
          f"{report.skipped} unit(s) already loaded, {len(report.failures)} failure(s)")
    for line in report.failures:
        print(f"  {line}")
    return 1 if report.failures else 0
