"""Carnet's consent engine: pure decisions from (requester, patient state, resource acl).

DESIGN §4: ``access_attributes`` computes a resource's ``acl`` at write time; ``patient_state``
reads a record's Consents; ``decide`` and ``policy`` are the read rules (per resource, and as the
search filter), filtered by the access matrix (``load_matrix``); ``emergency_barrier`` says when an
emergency window may open; ``may_write`` and ``block_warnings`` are the write rules;
``consent.preview`` compares two states. No I/O here but reading the matrix file: the server
loads states (``fhir_server.consent_loader``).
"""

from __future__ import annotations

from consent.attributes import access_attributes
from consent.engine import Decision
from consent.engine import Matrix
from consent.engine import block_warnings
from consent.engine import decide
from consent.engine import emergency_barrier
from consent.engine import may_write
from consent.engine import open_matrix
from consent.engine import policy
from consent.labels import visible_flags_rule
from consent.matrix import AccessMatrix
from consent.matrix import MatrixError
from consent.matrix import load as load_matrix
from consent.predicate import Predicate
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState
from consent.state import patient_state

__all__ = [
    "AccessMatrix",
    "Decision",
    "Directive",
    "Matrix",
    "MatrixError",
    "PatientState",
    "Predicate",
    "Requester",
    "access_attributes",
    "block_warnings",
    "decide",
    "emergency_barrier",
    "evaluate",
    "load_matrix",
    "may_write",
    "open_matrix",
    "patient_state",
    "policy",
    "visible_flags_rule",
]
