"""The access matrix (matrice d'habilitations, arrêté du 26 octobre 2023, R.1111-46): which
professions read which documents through a grant or an emergency access, as data.

The rows live in ``consent/matrix.json`` (research/dmp.md §1.3; the file marks what is
provisional). Each row names a TRE_G15 profession, optionally a TRE_R38 specialty, an effect
(``permit`` or ``deny``) and documents: ``"all": true``, a TRE_A03 ``docClass`` list or a
TRE_A05/LOINC ``docType`` list. A professional reads the documents a row of theirs permits and no
row of theirs denies (deny wins); a profession without rows, or an unknown one, reads none.
Structured resources count as the document class and type ``structured`` maps them to; the
``unfiltered`` types (the Patient resource: who the record is about) are outside the matrix;
every other type (Consent, Communication…) is never read through it. ``load`` checks the file and
raises ``MatrixError`` naming the faulty entry, so a bad file stops the server at start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from typing import Literal

from consent.predicate import DENY
from consent.predicate import AnyOf
from consent.predicate import Not
from consent.predicate import Predicate
from consent.predicate import and_
from consent.predicate import or_
from consent.requester import Requester

MATRIX_FILE = Path(__file__).with_name("matrix.json")
#: TRE_G15_ProfessionSante codes in force (research/dmp.md §2.4; 35-39 and 93 are deprecated)
TRE_G15 = frozenset(
    {
        "10",
        "21",
        "26",
        "28",
        "31",
        "32",
        "40",
        "50",
        "60",
        "69",
        "70",
        "80",
        "81",
        "82",
        "83",
        "84",
        "85",
        "86",
        "91",
        "92",
        "94",
        "95",
        "96",
        "98",
    }
)
DOCUMENT = "DocumentReference"
_TOP_KEYS = frozenset({"title", "status", "notice", "sources", "unfiltered", "structured", "rows"})
_ROW_KEYS = frozenset(
    {
        "profession",
        "specialty",
        "effect",
        "all",
        "docClass",
        "docType",
        "label",
        "provisional",
        "source",
    }
)
_TARGETS = ("all", "docClass", "docType")
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")
_CODE = re.compile(r"\S{1,64}")

Effect = Literal["permit", "deny"]


class MatrixError(ValueError):
    """An access matrix file that cannot be used (the message names the entry)."""


@dataclass(frozen=True)
class Row:
    """One row: a profession (and specialty) and the documents it permits or denies, as a filter."""

    profession: str
    specialty: str | None
    effect: Effect
    documents: Predicate

    def applies_to(self, requester: Requester) -> bool:
        return self.profession == requester.profession and self.specialty in (None, requester.specialty)


@dataclass(frozen=True)
class AccessMatrix:
    """The matrix in force: a ``consent.engine.Matrix`` (call it with a requester), and its file."""

    rows: tuple[Row, ...]
    unfiltered: tuple[str, ...]
    document: Mapping[str, Any]

    def __call__(self, requester: Requester) -> Predicate:
        """The filter on ``acl`` of what ``requester``'s profession may read through the matrix."""
        rows = [row for row in self.rows if row.applies_to(requester)]
        permitted = or_(*(row.documents for row in rows if row.effect == "permit"))
        denied = or_(*(row.documents for row in rows if row.effect == "deny"))
        documents = permitted if denied == DENY else and_(permitted, Not(denied))
        return or_(AnyOf("type", self.unfiltered), documents) if self.unfiltered else documents


@cache
def load(path: Path = MATRIX_FILE) -> AccessMatrix:
    """The matrix of a JSON file, checked (``MatrixError`` if it cannot be read or is malformed)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MatrixError(f"{path}: {exc}") from None
    return parse(raw, str(path))


def parse(raw: object, source: str = "access matrix") -> AccessMatrix:
    """Check a matrix document (the JSON of ``load``) and compile its rows."""
    top = _mapping(raw, source)
    _known_keys(top, _TOP_KEYS, source)
    for key in ("rows", "structured", "unfiltered"):
        if key not in top:
            raise MatrixError(f"{source}: missing '{key}'")
    structured = _structured(top["structured"], f"{source}: structured")
    unfiltered = _types(top["unfiltered"], f"{source}: unfiltered")
    clash = sorted(set(unfiltered) & (set(structured) | {DOCUMENT}))
    if clash:
        raise MatrixError(f"{source}: unfiltered: {', '.join(clash)} cannot be both unfiltered and a document")
    rows = top["rows"]
    if not isinstance(rows, list):
        raise MatrixError(f"{source}: rows must be a list")
    compiled = tuple(_row(row, structured, f"{source}: rows[{n}]") for n, row in enumerate(rows))
    return AccessMatrix(compiled, tuple(unfiltered), top)


def _row(raw: object, structured: Mapping[str, tuple[str, str]], where: str) -> Row:
    row = _mapping(raw, where)
    _known_keys(row, _ROW_KEYS, where)
    profession = row.get("profession")
    if profession not in TRE_G15:
        raise MatrixError(f"{where}: profession {profession!r} is not a TRE_G15 code in force")
    specialty = row.get("specialty")
    if specialty is not None and not (isinstance(specialty, str) and _CODE.fullmatch(specialty)):
        raise MatrixError(f"{where}: specialty must be a TRE_R38 code")
    effect = row.get("effect")
    if effect not in ("permit", "deny"):
        raise MatrixError(f"{where}: effect must be 'permit' or 'deny', not {effect!r}")
    targets = [key for key in _TARGETS if key in row]
    if len(targets) != 1:
        raise MatrixError(f"{where}: give exactly one of {', '.join(_TARGETS)}")
    for key, kind in (("provisional", bool), ("label", str), ("source", str)):
        if key in row and not isinstance(row[key], kind):
            raise MatrixError(f"{where}: {key} must be a {kind.__name__}")
    return Row(str(profession), specialty, effect, _documents(targets[0], row[targets[0]], structured, where))


def _documents(target: str, value: object, structured: Mapping[str, tuple[str, str]], where: str) -> Predicate:
    """The filter on ``acl`` matching a row's documents, structured resources included."""
    if target == "all":
        if value is not True:
            raise MatrixError(f"{where}: all must be true")
        return AnyOf("type", (DOCUMENT, *sorted(structured)))
    codes = value if isinstance(value, list) else None
    if not codes or not all(isinstance(c, str) and _CODE.fullmatch(c) for c in codes):
        raise MatrixError(f"{where}: {target} must be a non-empty list of codes")
    position = 0 if target == "docClass" else 1
    mapped = tuple(sorted(type_ for type_, pair in structured.items() if pair[position] in codes))
    return or_(AnyOf(target, tuple(codes)), *([AnyOf("type", mapped)] if mapped else []))


def _structured(raw: object, where: str) -> dict[str, tuple[str, str]]:
    """Resource type -> (document class, document type)."""
    found: dict[str, tuple[str, str]] = {}
    for type_, pair in _mapping(raw, where).items():
        entry = _mapping(pair, f"{where}.{type_}")
        doc_class, doc_type = entry.get("docClass"), entry.get("docType")
        if (
            type_ == DOCUMENT
            or not _TYPE_NAME.fullmatch(type_)
            or set(entry) != {"docClass", "docType"}
            or not isinstance(doc_class, str)
            or not isinstance(doc_type, str)
        ):
            raise MatrixError(f"{where}.{type_}: a resource type mapped to one docClass and one docType code")
        found[type_] = (doc_class, doc_type)
    return found


def _types(raw: object, where: str) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(t, str) and _TYPE_NAME.fullmatch(t) for t in raw):
        raise MatrixError(f"{where}: must be a list of resource type names")
    return [str(t) for t in raw]


def _mapping(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise MatrixError(f"{where}: must be a JSON object")
    return raw


def _known_keys(entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise MatrixError(f"{where}: unknown key(s) {', '.join(unknown)}")
