"""References on every write: conditional references resolved, literal ones checked (docs/references.md).

``resolve`` runs on the body of every create, update and patch (REST, batch and transaction
entries alike), after validation and before the consent decision, so the access attributes see the
patient a reference names:

- ``Type?criteria`` (a conditional reference) becomes ``Type/id`` of the one resource it matches:
  412 when several match, 422 when none does, naming the element. Resolution sees every live
  record (``storage.no_policy``): a professional feeds a record they cannot read, as the DMP
  allows. The texts say "no match" or "several matches" and nothing else.
- with ``REFERENCE_CHECK`` (on by default), a literal reference to this server (``Type/id``,
  ``Type/id/_history/v`` or an absolute URL under our base, made relative) must name a live
  resource (422 naming the element otherwise); references to other servers, ``#contained`` and
  logical references (identifier only) are accepted; a ``urn:uuid:`` placeholder left unresolved
  (outside a transaction, or naming no entry) and any other text are 422.
- inside a transaction (``deferred``), the checks wait for every entry to have run, so an entry
  may name one created later in the processing order; they run before the commit.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask import g

from search import registry as search_registry

from . import catalog
from . import http
from . import searchset
from .errors import FHIRError
from .errors import PreconditionFailed
from .errors import Unprocessable
from .storage import Scoped
from .storage import get_store
from .storage import no_policy

CONDITIONAL = re.compile(r"^([A-Z][A-Za-z]+)\?(.+)$")
LITERAL = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/([A-Za-z0-9\-.]{1,64}))?$")
PLACEHOLDER = re.compile(r"^urn:(?:uuid|oid):")
#: an absolute URL (a scheme): a reference to another server when not under our base
ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_PENDING = "carnet_reference_checks"
_OWNER = "carnet_reference_owner"


@dataclass(frozen=True)
class Pending:
    """A literal reference to check at the end of a transaction, and the entry that wrote it."""

    where: str
    reference: str
    owner: Any


def walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(FHIRPath-like path of the Reference, the Reference) for every object with a string
    ``reference`` inside ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield path, node
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            if isinstance(value, (dict, list)):
                yield from walk(value, f"{path}[{index}]")


#: references whose target the consent code checks itself, answering an absent target and a hidden
#: one alike (404): a Binary's securityContext (fhir_server.binary)
CONSENT_CHECKED = frozenset({"Binary.securityContext"})


def checking() -> bool:
    return bool(current_app.config.get("REFERENCE_CHECK", True))


def resolve(resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (a copy when anything changes) with its conditional references resolved and its
    absolute references to this server made relative; raises 412/422 as the module says."""
    if resource_type == "Bundle":  # a stored Bundle's references are its entries' business
        return body
    body = copy.deepcopy(body)
    base = http.base_url()
    for where, ref in walk(body, resource_type):
        text = ref["reference"]
        conditional = CONDITIONAL.match(text)
        if conditional:
            ref["reference"] = text = conditional_target(conditional.group(1), conditional.group(2), where)
        elif base and text.startswith(base + "/"):
            ref["reference"] = text = text[len(base) + 1 :]
        if checking() and where not in CONSENT_CHECKED:
            pending: list[Pending] | None = g.get(_PENDING)
            if pending is not None:
                pending.append(Pending(where, text, g.get(_OWNER)))
            else:
                check(text, where)
    return body


def conditional_target(type_: str, criteria: str, where: str) -> str:
    """``Type/id`` of the one live resource ``Type?criteria`` matches, whoever may read it."""
    if type_ not in catalog.load().types:
        raise Unprocessable(
            f"{where}: the conditional reference '{type_}?{criteria}' names no served type", expression=[where]
        )
    found = searchset.find_matches(Scoped(get_store(), no_policy), search_registry.load(), type_, criteria, limit=2)
    if len(found) > 1:
        raise PreconditionFailed(
            f"{where}: the conditional reference '{type_}?{criteria}' has several matches", expression=[where]
        )
    if not found:
        raise Unprocessable(f"{where}: the conditional reference '{type_}?{criteria}' has no match", expression=[where])
    return f"{type_}/{found[0].id}"


def check(text: str, where: str) -> None:
    """422 unless ``text`` is a reference we accept: to a live resource of this server, to
    another server, or to a contained resource."""
    if text.startswith("#"):
        return
    literal = LITERAL.match(text)
    if literal:
        type_, id_, vid = literal.groups()
        if type_ not in catalog.load().types:
            raise Unprocessable(f"{where}: '{text}' names a type this server does not serve", expression=[where])
        store = get_store()
        found = (
            store.current(type_, id_)
            if vid is None
            else (store.version(type_, id_, int(vid)) if vid.isdigit() else None)
        )
        if found is None or found.deleted:
            raise Unprocessable(f"{where}: '{text}' does not exist on this server", expression=[where])
        return
    if PLACEHOLDER.match(text):
        raise Unprocessable(
            f"{where}: the placeholder '{text}' names no entry; placeholders resolve only "
            "inside a transaction, to an entry's fullUrl",
            expression=[where],
        )
    if ABSOLUTE.match(text) and "://" in text:
        return  # another server's resource
    raise Unprocessable(
        f"{where}: '{text}' is not a reference: use 'Type/id', an absolute URL, '#id' of a "
        "contained resource, a conditional 'Type?criteria', or an identifier alone",
        expression=[where],
    )


@contextmanager
def deferred() -> Iterator[list[Pending]]:
    """Collect the literal-reference checks of the writes inside (a transaction's entries)."""
    pending: list[Pending] = []
    setattr(g, _PENDING, pending)
    try:
        yield pending
    finally:
        g.pop(_PENDING, None)
        g.pop(_OWNER, None)


def owned_by(owner: Any) -> None:
    """The entry the next deferred checks belong to."""
    setattr(g, _OWNER, owner)


def check_pending(pending: list[Pending]) -> None:
    """Run the checks ``deferred`` collected, in order (raises for the first failure)."""
    seen: set[str] = set()
    for item in pending:
        if item.reference not in seen:
            try:
                check(item.reference, item.where)
            except FHIRError as exc:
                exc.owner = item.owner  # type: ignore[attr-defined]
                raise
            seen.add(item.reference)
