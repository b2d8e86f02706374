"""`carnet load`: post FHIR data to a server, or straight into a data directory.

Files: a batch or transaction Bundle is posted as it is; any other Bundle, or a single resource,
as a batch of its resources; NDJSON (one resource a line) as batches of ``--chunk`` lines. A
resource with an id is PUT (ids and the references between files are kept), one without is POSTed.
A directory loads its sub-directories first, then its files, by name (Synthea's ``first/`` holds
the organizations and practitioners its patient bundles point to).

Resumable: the state file records, for each target (the server's URL or the data directory) and
each file's content (its SHA-256), the Bundle entries and NDJSON lines loaded. A re-run skips them
and retries the rest: the failed entries of a batch, the failed lines of an NDJSON file, a failed
transaction whole (nothing of it was written). The same file loads again into another target.
Progress goes to stderr; the summary gives resources/s and every failure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterable
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
    """One post: the pending entries of a file, or a chunk of the pending lines of an NDJSON file."""

    key: str  # how failures of the whole post name it
    digest: str  # the SHA-256 of the file's content
    bundle: dict[str, Any]  # what is posted
    items: list[int]  # for each entry posted: its index in the file's Bundle, or its NDJSON line number
    labels: list[str]  # for each entry posted: how its failure names it
    transaction: bool = False


@dataclass
class Report:
    resources: int = 0
    seconds: float = 0.0
    skipped: int = 0  # entries and lines loaded by an earlier run
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


def digest(path: Path) -> str:
    """The SHA-256 of a file's content, in hex."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _bundle_unit(path: Path, sha: str, done: set[int], report: Report) -> Unit | None:
    """The file as one post of its entries not yet loaded (a transaction whole), None when all were."""
    data = orjson.loads(path.read_bytes())
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise ValueError("not a FHIR resource")
    if data["resourceType"] != "Bundle":
        batch = as_batch([data])
    elif data.get("type") in BUNDLE_KINDS:
        batch = data
    else:
        batch = as_batch([e["resource"] for e in data.get("entry") or [] if isinstance(e, dict) and "resource" in e])
    entries = batch.get("entry") or []
    pending = [i for i in range(len(entries)) if i not in done]
    report.skipped += len(entries) - len(pending)
    if not pending:
        return None
    transaction = batch.get("type") == "transaction"  # loaded whole or not at all: nothing of it is done
    posted = batch if transaction else {**batch, "entry": [entries[i] for i in pending]}
    return Unit(str(path), sha, posted, pending, [f"{path}: entry {i}" for i in pending], transaction)


def _ndjson_units(path: Path, sha: str, done: set[int], chunk: int, report: Report) -> Iterator[Unit]:
    """Batches of up to ``chunk`` lines not yet loaded; each unreadable line is a failure of its own."""
    resources: list[Any] = []
    numbers: list[int] = []

    def unit() -> Unit:
        labels = [f"{path}:{n}" for n in numbers]
        return Unit(f"{path}:{numbers[0]}-{numbers[-1]}", sha, as_batch(resources), numbers, labels)

    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if number in done:
                report.skipped += 1
                continue
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                report.failures.append(f"{path}:{number}: {exc}")
                continue
            if not isinstance(resource, dict):
                report.failures.append(f"{path}:{number}: not a FHIR resource")
                continue
            resources.append(resource)
            numbers.append(number)
            if len(resources) == chunk:
                yield unit()
                resources, numbers = [], []
    if resources:
        yield unit()


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


class State:
    """What was loaded into ``target``: ``{"targets": {target: {sha256: [entry or line, ...]}}}`` in a
    JSON file rewritten after each post (the other targets' records kept)."""

    def __init__(self, path: Path, target: str) -> None:
        self.path, self.target = path, target
        self.targets: dict[str, dict[str, list[int]]] = (
            json.loads(path.read_text()).get("targets", {}) if path.exists() else {}
        )

    def done(self, sha: str) -> set[int]:
        return set(self.targets.get(self.target, {}).get(sha, []))

    def mark(self, sha: str, items: Iterable[int]) -> None:
        files_ = self.targets.setdefault(self.target, {})
        files_[sha] = sorted(set(files_.get(sha, [])) | set(items))
        scratch = self.path.with_name(self.path.name + ".tmp")
        scratch.write_text(json.dumps({"targets": self.targets}))
        os.replace(scratch, self.path)


def _diagnostics(outcome: Any) -> str:
    issues = outcome.get("issue") if isinstance(outcome, dict) else None
    return (
        "; ".join(str(i.get("diagnostics") or i.get("code")) for i in issues or [] if isinstance(i, dict))
        or "no OperationOutcome"
    )


def outcome(unit: Unit, status: int, body: Any) -> tuple[list[int], list[str]]:
    """The items a response loaded, and its failures: the whole post, or each failed batch entry."""
    if status >= 400 or not isinstance(body, dict):
        return [], [f"{unit.key}: HTTP {status}: {_diagnostics(body)}"]
    if unit.transaction:
        return unit.items, []
    loaded, failed = [], []
    answers = body.get("entry") or []
    for item, label, request, answer in zip(unit.items, unit.labels, unit.bundle["entry"], answers, strict=False):
        response = answer.get("response") or {}
        if str(response.get("status", "")).startswith(("2", "3")):
            loaded.append(item)
            continue
        name = request.get("fullUrl") or (request.get("request") or {}).get("url")
        failed.append(f"{label} ({name}): {response.get('status')}: {_diagnostics(response.get('outcome'))}")
    return loaded, failed


class Progress:
    """A one-line progress bar on ``stream``: bytes done of the total, resources and resources/s."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = max(total, 1), stream
        self.done = 0

    def draw(self, report: Report) -> None:
        filled = int(30 * self.done / self.total)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * self.done // self.total:3d}%  "
            f"{report.resources} resources  {report.rate:.0f}/s  {len(report.failures)} failed "
        )
        self.stream.flush()


def _units(path: Path, state: State, chunk: int, report: Report) -> Iterator[Unit]:
    sha = digest(path)
    if path.suffix in NDJSON:
        yield from _ndjson_units(path, sha, state.done(sha), chunk, report)
        return
    try:
        unit = _bundle_unit(path, sha, state.done(sha), report)
    except ValueError as exc:  # not JSON, or not FHIR
        report.failures.append(f"{path}: {exc}")
        return
    if unit is not None:
        yield unit


def load(paths: list[Path], post: Post, state: State, *, chunk: int = 500, stream: TextIO = sys.stderr) -> Report:
    """Post every entry and line under ``paths`` not yet loaded into ``state``'s target."""
    progress = Progress(sum(p.stat().st_size for p in files(paths)), stream)
    report = Report()
    started = time.perf_counter()
    for path in files(paths):
        for unit in _units(path, state, chunk, report):
            status, body = post(unit.bundle)
            loaded, failed = outcome(unit, status, body)
            report.failures += failed
            report.resources += len(loaded)
            if loaded:
                state.mark(unit.digest, loaded)
            report.seconds = time.perf_counter() - started
            progress.draw(report)
        progress.done += path.stat().st_size
        progress.draw(report)
    stream.write("\n")
    return report


# posting -------------------------------------------------------------------------------------
def http_poster(base_url: str, token: str | None) -> Post:
    """Posts to a server's FHIR base (Prefer: return=minimal)."""
    headers = {
        "Content-Type": "application/fhir+json",
        "Accept": "application/fhir+json",
        "Prefer": "return=minimal",
        **({"Authorization": f"Bearer {token}"} if token else {}),
    }

    def post(bundle: dict[str, Any]) -> tuple[int, Any]:
        request = urllib.request.Request(
            base_url.rstrip("/"), data=orjson.dumps(bundle), headers=headers, method="POST"
        )
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
        token = mint_token(
            config.data_dir,
            fhir_user=None,
            scope="system/*.cruds",
            purpose=None,
            reason=None,
            ttl=3600,
            sub="carnet-load",
            issuer=config.issuer,
            audience=config.audience,
        )
        answer = client.post(
            "/fhir", json=bundle, headers={"Authorization": f"Bearer {token}", "Prefer": "return=minimal"}
        )
        return answer.status_code, answer.get_json()

    return post


# command line --------------------------------------------------------------------------------
def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("load", help="load FHIR bundles and NDJSON files (resumable)")
    parser.add_argument("paths", nargs="+", type=Path, metavar="FILE|DIR")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="the server's FHIR base, e.g. http://127.0.0.1:8080/fhir")
    target.add_argument("--data-dir", help="load straight into this data directory (no server)")
    parser.add_argument(
        "--token", default=os.environ.get("CARNET_TOKEN"), help="bearer token for --url (default $CARNET_TOKEN)"
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=Path("carnet-load.state.json"),
        help="the resume file (default ./carnet-load.state.json)",
    )
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
            target = args.url.rstrip("/") if args.url else str(Path(args.data_dir).resolve())
            report = load(args.paths, post, State(args.state, target), chunk=args.chunk)
    except urllib.error.URLError as error:  # the server went away: what was loaded is in the state file
        print(f"cannot reach {args.url}: {error.reason}; re-run to resume", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"{error.args[0]}: no such file or directory", file=sys.stderr)
        return 2
    print(
        f"{report.resources} resources in {report.seconds:.1f} s ({report.rate:.0f} resources/s), "
        f"{report.skipped} already loaded, {len(report.failures)} failure(s)"
    )
    for line in report.failures:
        print(f"  {line}")
    return 1 if report.failures else 0
