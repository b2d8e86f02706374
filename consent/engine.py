"""The consent rules of DESIGN §4: reads per resource (``decide``) and as a search filter
(``policy``, exactly ``decide`` over every acl of the type), and writes (``may_write``).

First match wins, within the resource's primary compartment (``acl.patient``); [n] is DESIGN's rule:
- system clients, and directory resources (no compartment) -> allowed, but for access traces
  naming no record, which only the traced professional reads, and orphans (``acl.orphan``: a
  resource of a Patient-compartment type whose patient cannot be determined), which only their
  authors read (default deny: clinical data never becomes directory data);
- the patient [3] -> their record but ``INVISIBLE_PATIENT`` (never blocked from it: L.1111-19);
- a record whose state was not loaded -> nothing;
- closed record [1] -> nothing, but for the legal representative;
- blocked caller [2] (any of their identities) -> nothing;
- legal representative [4] -> as the patient, minus ``INVISIBLE_REPRESENTANTS_LEGAUX``;
- attending physician [5] -> everything; author of the item [6] -> that item;
- professional in an emergency mode, with a reason, no objection to that mode and an emergency
  window the server opened on this record (``Requester.emergency_records``) [7], or granted
  access (to them, one of their roles or organizations) [8] -> the access matrix, minus
  ``MASQUE_PS``, minus access traces (R.1111-43: only the holder, the attending physician and
  the professional concerned read them).

Flags hide at ``now``: ``INVISIBLE_PATIENT`` lapses 30 days after the deposit (``consent.labels``);
without ``now`` no flag lapses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Literal

from consent.attributes import NOT_GUARDIAN
from consent.attributes import ORPHAN
from consent.labels import TOGGLED_BY
from consent.labels import Role
from consent.labels import hiding
from consent.labels import visible_flags_rule
from consent.predicate import ALLOW
from consent.predicate import DENY
from consent.predicate import And
from consent.predicate import AnyOf
from consent.predicate import Empty
from consent.predicate import Not
from consent.predicate import Predicate
from consent.predicate import and_
from consent.predicate import evaluate
from consent.predicate import or_
from consent.requester import Requester
from consent.state import PatientState
from consent.state import consent_directives

Interaction = Literal["create", "update", "patch", "delete"]
#: types the record holder (the patient, a legal representative) may create: DESIGN §4 "Writes"
#: (and ``RELATIVES`` who are not legal representatives)
HOLDER_TYPES = frozenset({"DocumentReference", "Consent"})
#: compartment types only system clients write: the record itself and the access traces
SYSTEM_TYPES = frozenset({"Patient", "AuditEvent"})
#: the relatives: the holder writes those who are not legal representatives, system clients all
#: (a GUARD RelatedPerson carries the representative's rights)
RELATIVES = "RelatedPerson"
#: the acl attributes a visibility patch may change
_FLAG_KEYS = frozenset({"labels", "confidentiality", "deposited"})
#: the access matrix seam (profession × document type, ``consent.matrix``): the filter a
#: professional's granted or emergency access goes through
Matrix = Callable[[Requester], Predicate]
#: resource types holding access traces, read only by the holder, representatives, the attending
#: physician and the traced professional (R.1111-43): never through a grant or an emergency
TRACE_TYPES = frozenset({"AuditEvent"})
#: content stored outside any record (a Binary without a securityContext document): only its
#: uploader (among ``authors``) and system clients read or change it
PRIVATE_TYPES = frozenset({"Binary"})

Acl = Mapping[str, object]


@dataclass(frozen=True)
class Decision:
    """Allowed or not, and the rule that decided (with the Consent or actor behind it)."""

    allowed: bool
    rule: str


def open_matrix(requester: Requester) -> Predicate:
    """A matrix letting every profession read everything (tests; the server loads ``consent.matrix``)."""
    return ALLOW


def decide(
    requester: Requester,
    state: PatientState | None,
    acl: Acl,
    *,
    matrix: Matrix = open_matrix,
    now: datetime | None = None,
) -> Decision:
    """Whether ``requester`` may read the resource whose access attributes are ``acl`` at ``now``.

    ``state`` is the consent state of ``acl['patient']`` (None when it was not loaded, or for a
    resource outside any compartment).
    """
    if requester.kind == "system":
        return Decision(True, "system")
    patient = acl.get("patient")
    if _empty(acl.get("patients")) and _empty(patient):
        return _outside_records(requester, acl)
    if not isinstance(patient, str):
        return Decision(False, "no primary compartment")
    if patient in own_records(requester):
        return _through("patient", acl, "patient", now)
    if state is None or state.ref != patient:
        return Decision(False, f"no consent state for {patient}")
    return _in_record(requester, state, acl, matrix, now)


def _outside_records(requester: Requester, acl: Acl) -> Decision:
    """Directory data, for every caller; but an access trace naming no record (an empty search's)
    is never directory data: only the traced professional reads it (R.1111-43), nor is a Binary
    outside any record (its uploader reads it), nor an orphan
    (a Patient-compartment type without a patient): only its authors read it."""
    orphan = ORPHAN in _held(acl, "orphan")
    if not orphan and not _held(acl, "type") & (TRACE_TYPES | PRIVATE_TYPES):
        return Decision(True, "directory")
    author = _first(identities(requester) & _held(acl, "authors"))
    if author:
        return Decision(True, f"author {author}")
    return Decision(
        False, "no patient: system clients and authors only" if orphan else "access trace outside any record"
    )


def _in_record(requester: Requester, state: PatientState, acl: Acl, matrix: Matrix, now: datetime | None) -> Decision:
    """Rules 1, 2 and 4 to 8 for a caller who is not the patient."""
    ids = identities(requester)
    guardian = _first(ids & state.guardians)
    if not state.open and guardian is None:
        return Decision(False, f"closed {state.ref}")
    block = state.block_for(ids)
    if block is not None:
        return Decision(False, f"blocked {block.consent} ({block.subject})")
    if guardian is not None:
        return _through("representative", acl, f"representative {guardian}", now)
    attending = _first(ids & state.general_practitioners)
    if attending is not None:
        return Decision(True, f"attending {attending}")
    author = _first(ids & _held(acl, "authors"))
    if author is not None:
        return Decision(True, f"author {author}")
    if requester.kind != "practitioner":
        return Decision(False, "no grant")
    role, rule = _professional_access(requester, state)
    if role is None:
        return Decision(False, rule)
    if _held(acl, "type") & TRACE_TYPES:
        return Decision(False, f"{rule}; access traces")
    if not evaluate(matrix(requester), dict(acl)):
        return Decision(False, f"{rule}; access matrix")
    return _through(role, acl, rule, now)


def _professional_access(requester: Requester, state: PatientState) -> tuple[Role | None, str]:
    """Rules 7 and 8: emergency mode, else a grant; the role reached and the rule's name."""
    emergency = requester.mode != "normal"
    objection = state.objection_to(requester.mode) if emergency else None
    if emergency and _reasoned(requester) and objection is None and state.ref in requester.emergency_records:
        return "emergency", f"emergency {requester.mode}"
    grant = state.grant_for(identities(requester))
    if grant is not None:
        return "granted", f"grant {grant.consent} ({grant.subject})"
    if objection is not None:
        return None, f"objection {objection.consent} ({objection.subject})"
    if not emergency:
        return None, "no grant"
    if not _reasoned(requester):
        return None, "no grant; emergency access needs a reason"
    return None, f"no grant; no emergency window open on {state.ref}"


def emergency_barrier(requester: Requester, state: PatientState) -> str | None:
    """Why ``requester`` may not open an emergency window on ``state``'s record; None when they may.

    Rule 7's conditions but the window itself, in ``decide``'s order: a professional in an emergency
    mode, with a reason, on an open record, not blocked, not already its attending physician (who
    sees it all anyway), and no objection to that mode.
    """
    ids = identities(requester)
    if requester.kind != "practitioner" or requester.mode == "normal":
        return "not an emergency request"
    if not _reasoned(requester):
        return "emergency access needs a reason"
    if not state.open:
        return f"closed {state.ref}"
    block = state.block_for(ids)
    if block is not None:
        return f"blocked {block.consent} ({block.subject})"
    attending = _first(ids & state.general_practitioners)
    if attending is not None:
        return f"attending {attending}"
    objection = state.objection_to(requester.mode)
    return f"objection {objection.consent} ({objection.subject})" if objection else None


def _reasoned(requester: Requester) -> bool:
    return bool((requester.reason or "").strip())


def _through(role: Role, acl: Acl, rule: str, now: datetime | None) -> Decision:
    hidden = [flag for flag, term in hiding(role, now).items() if evaluate(term, dict(acl))]
    return Decision(False, f"{rule}; {', '.join(hidden)}") if hidden else Decision(True, rule)


def policy(
    requester: Requester,
    states: Mapping[str, PatientState],
    resource_type: str,
    *,
    matrix: Matrix = open_matrix,
    now: datetime | None = None,
) -> Predicate:
    """The filter on ``acl`` that keeps exactly the ``resource_type`` resources ``decide`` allows at ``now``.

    ``states`` holds the records loaded for this caller, keyed by ``Patient/id``; a record absent
    from it is closed to all but its patient.
    """
    if requester.kind == "system":
        return ALLOW
    outside: Predicate = And((Empty("patients"), Empty("patient")))
    ids = tuple(sorted(identities(requester)))
    authored = AnyOf("authors", ids) if ids else DENY
    orphan = AnyOf("orphan", (ORPHAN,))
    directory = and_(outside, Not(orphan))
    if resource_type in TRACE_TYPES or resource_type in PRIVATE_TYPES:
        directory = and_(directory, authored)
    # orphans: a Patient-compartment type without a patient, for its authors only
    terms = [directory, and_(outside, orphan, authored)]
    own = own_records(requester)
    if own:
        terms.append(and_(AnyOf("patient", tuple(sorted(own))), _without("patient", now)))
    rows = matrix(requester)  # the same for every record: computed once

    def matrix_rows(_: Requester) -> Predicate:
        return rows

    by_condition: dict[Predicate, list[str]] = {}
    for ref, state in states.items():
        if state.ref == ref and ref not in own:
            by_condition.setdefault(_record_filter(requester, state, resource_type, matrix_rows, now), []).append(ref)
    terms.extend(
        and_(AnyOf("patient", tuple(sorted(refs))), condition)
        for condition, refs in sorted(by_condition.items(), key=lambda item: min(item[1]))
        if condition != DENY
    )
    return or_(*terms)


def _record_filter(
    requester: Requester,
    state: PatientState,
    resource_type: str,
    matrix: Matrix,
    now: datetime | None,
) -> Predicate:
    """``_in_record`` as a filter on the acls of one record."""
    ids = identities(requester)
    guardian = _first(ids & state.guardians)
    if (not state.open and guardian is None) or state.block_for(ids) is not None:
        return DENY
    if guardian is not None:
        return _without("representative", now)
    if ids & state.general_practitioners:
        return ALLOW
    authored = AnyOf("authors", tuple(sorted(ids))) if ids else DENY
    if requester.kind != "practitioner" or resource_type in TRACE_TYPES:
        return authored
    role, _ = _professional_access(requester, state)
    if role is None:
        return authored
    return or_(authored, and_(matrix(requester), _without(role, now)))


def may_write(
    requester: Requester,
    state: PatientState | None,
    acl: Acl,
    interaction: Interaction,
    *,
    old_acl: Acl | None = None,
    patch_paths: Collection[str] | None = None,
    now: datetime | None = None,
) -> Decision:
    """Whether ``requester`` may create, update, patch or delete a resource (DESIGN §4 "Writes").

    ``acl``: the attributes of the version to store (for a delete, of the current version);
    ``old_acl``: those of the current version (update, patch); ``patch_paths``: what a patch
    touches (JSON Patch pointers or FHIRPath), None when unknown; ``state``: the consent state of
    ``acl['patient']``; ``now``: when flags lapse (``decide``). Professionals feed any open record
    without a grant; only an item's author
    updates or deletes it; the patient or their representative deposit documents, write Consents,
    write relatives who are not legal representatives (``_relative``) and set or clear visibility
    flags by a patch of ``securityLabel``/``meta.security`` only.
    """
    if requester.kind == "system":
        return Decision(True, "system")
    before = None if interaction == "create" else acl if old_acl is None else old_acl
    private = [
        a for a in (acl, before) if a is not None and _held(a, "type") & PRIVATE_TYPES and _empty(a.get("patient"))
    ]
    if private and len(private) == len([a for a in (acl, before) if a is not None]):
        authors = [_held(a, "authors") for a in private]
        uploader = _first(identities(requester) & authors[0].intersection(*authors[1:]))
        return (
            Decision(True, f"uploader {uploader}")
            if uploader
            else Decision(False, "private content: its uploader only")
        )
    if any(_empty(a.get("patients")) and _empty(a.get("patient")) for a in (acl, before) if a is not None):
        return Decision(False, "directory: system clients only")
    patient = acl.get("patient")
    if not isinstance(patient, str):
        return Decision(False, "no primary compartment")
    if before is not None and before.get("patient") != patient:
        return Decision(False, "moving a resource to another record: system clients only")
    role: Role | None = "patient"
    if patient not in own_records(requester):
        if state is None or state.ref != patient:
            return Decision(False, f"no consent state for {patient}")
        refused = _refused_writer(requester, state)
        if refused is not None:
            return refused
        role = "representative" if identities(requester) & state.guardians else None
    resource_type = acl.get("type")
    if resource_type in SYSTEM_TYPES:
        return Decision(False, f"{resource_type}: system clients only")
    if resource_type == "Consent":
        return Decision(True, f"{role} writes consents") if role else Decision(False, "consents: the holder only")
    if resource_type == RELATIVES:
        return _relative(requester, state, acl, before, role, now)
    if before is None:
        return _create(requester, state, acl, role)
    return _change(requester, state, acl, before, role, interaction, patch_paths, now)


def _refused_writer(requester: Requester, state: PatientState) -> Decision | None:
    """Rules 1 and 2 for writes: a closed record, or a blocked caller."""
    ids = identities(requester)
    if not state.open and not ids & state.guardians:
        return Decision(False, f"closed {state.ref}")
    block = state.block_for(ids)
    return Decision(False, f"blocked {block.consent} ({block.subject})") if block else None


def _create(requester: Requester, state: PatientState | None, acl: Acl, role: Role | None) -> Decision:
    authors = _held(acl, "authors")
    # a holder may deposit as the patient (PDSm: a patient's document has the patient as author)
    writers = identities(requester) | ({str(acl["patient"])} if role else set())
    if authors and not authors & writers:
        return Decision(False, "create: the caller must be among the authors")
    if role is not None:
        if acl.get("type") not in HOLDER_TYPES:
            return Decision(False, f"create: {role}s deposit documents and consents only")
        refused = _refused_flags(role, acl, None)
        return refused or Decision(True, f"{role} deposits")
    if requester.kind != "practitioner" or state is None:
        return Decision(False, "create: professionals and record holders only")
    # the break-glass objection covers feeding as well as reading (L.1111-17 I, §1)
    objection = state.objection_to("bris_de_glace") if requester.mode == "bris_de_glace" else None
    if objection is not None:
        return Decision(False, f"objection {objection.consent} ({objection.subject})")
    return Decision(True, "feed")


def _change(
    requester: Requester,
    state: PatientState | None,
    acl: Acl,
    before: Acl,
    role: Role | None,
    interaction: Interaction,
    patch_paths: Collection[str] | None,
    now: datetime | None,
) -> Decision:
    ids = identities(requester)
    author = _first(ids & _held(before, "authors"))
    if author is not None:
        if interaction != "delete" and not ids & _held(acl, "authors"):
            return Decision(False, f"author {author}; the new version must keep them among the authors")
        return Decision(True, f"author {author}")
    flags_only = patch_paths is not None and all(_flag_path(p, str(acl.get("type"))) for p in patch_paths)
    if interaction != "patch" or role is None or not flags_only:
        return Decision(False, f"{interaction}: the author only")
    seen = decide(requester, state, before, now=now)
    if not seen.allowed:
        return seen
    if _unflagged(acl) != _unflagged(before):
        return Decision(False, "a visibility patch changes flags only")
    refused = _refused_flags(role, acl, before)
    return refused or Decision(True, f"{role} flags")


def _relative(
    requester: Requester,
    state: PatientState | None,
    acl: Acl,
    before: Acl | None,
    role: Role | None,
    now: datetime | None,
) -> Decision:
    """The holder creates, changes and deletes the relatives they see who are not legal
    representatives, neither before nor after the write (``acl.guardian`` is ``NOT_GUARDIAN``; an
    acl without it, stored before it existed, counts as a guardian until ``carnet reindex``)."""
    if role is None:
        return Decision(False, f"{RELATIVES}: the record holder and system clients only")
    if any(_held(a, "guardian") != {NOT_GUARDIAN} for a in (acl, before) if a is not None):
        return Decision(False, f"{RELATIVES}: legal representatives (GUARD) are written by system clients only")
    seen = decide(requester, state, before, now=now) if before is not None else None
    if seen is not None and not seen.allowed:
        return seen
    refused = _refused_flags(role, acl, before)
    return refused or Decision(True, f"{role} writes relatives")


def _refused_flags(role: Role, acl: Acl, before: Acl | None) -> Decision | None:
    """A holder sets (``before`` None) or changes only the flags ``TOGGLED_BY`` their role."""
    changed = _held(acl, "labels") ^ (_held(before, "labels") if before is not None else set())
    refused = sorted(changed - TOGGLED_BY[role])
    verb = "set" if before is None else "change"
    return Decision(False, f"{role} may not {verb} {', '.join(refused)}") if refused else None


def _unflagged(acl: Acl) -> dict[str, object]:
    return {key: value for key, value in acl.items() if key not in _FLAG_KEYS}


def _flag_path(path: str, resource_type: str) -> bool:
    """Whether a patch path (``/securityLabel/0``, ``DocumentReference.meta.security``) is a label."""
    steps = [step for step in re.split(r"[./]", path) if step]
    steps = steps[1:] if steps[:1] == [resource_type] else steps
    document_label = resource_type == "DocumentReference" and steps[:1] == ["securityLabel"]
    return document_label or steps[:2] == ["meta", "security"]


def block_warnings(state: PatientState, consent: Mapping[str, Any]) -> list[str]:
    """Warnings for a Consent about to be written: blocking the attending physician (it wins)."""
    blocked = {d.subject for kind, d in consent_directives(consent, None) if kind == "block"}
    return [
        f"This consent blocks {ref}, the patient's attending physician: the block wins, "
        "they will no longer see the record."
        for ref in sorted(blocked & state.general_practitioners)
    ]


def _without(role: Role, now: datetime | None) -> Predicate:
    """True on the acls no flag hides from ``role`` at ``now`` (plain flags merged into one ``AnyOf``)."""
    terms = list(hiding(role, now).values())
    plain = tuple(value for term in terms if isinstance(term, AnyOf) for value in term.values)
    timed = [term for term in terms if not isinstance(term, AnyOf)]
    hidden = or_(*([AnyOf("labels", plain)] if plain else []), *timed)
    return ALLOW if hidden == DENY else Not(hidden)


def identities(requester: Requester) -> frozenset[str]:
    """Every reference the caller acts as (their own and those the server added)."""
    return requester.identities | {requester.ref} if requester.ref else requester.identities


def own_records(requester: Requester) -> frozenset[str]:
    """The records (``Patient/id``) a patient caller holds; empty for any other caller."""
    if requester.kind != "patient":
        return frozenset()
    return frozenset(ref for ref in identities(requester) if ref.startswith("Patient/"))


def _held(acl: Acl, path: str) -> set[str]:
    """The values of one acl attribute that a filter can match (``consent.predicate.evaluate``)."""
    value = acl.get(path)
    return {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}


def _empty(value: object) -> bool:
    return value is None or value == []


def _first(refs: Collection[str]) -> str | None:
    return min(refs, default=None)


__all__ = [
    "HOLDER_TYPES",
    "RELATIVES",
    "SYSTEM_TYPES",
    "TRACE_TYPES",
    "Acl",
    "Decision",
    "Interaction",
    "Matrix",
    "and_",
    "block_warnings",
    "decide",
    "emergency_barrier",
    "identities",
    "may_write",
    "open_matrix",
    "or_",
    "own_records",
    "policy",
    "visible_flags_rule",
]
