"""Carnet's consent engine: pure decisions from (requester, patient state, resource acl).

DESIGN §4: ``access_attributes`` computes a resource's ``acl`` at write time; ``patient_state``
reads a record's Consents; ``decide`` and ``policy`` are the read rules (per resource, and as the
search filter); ``may_write`` and ``block_warnings`` the write rules. No I/O here: the server
loads states (``fhir_server.consent_state``).
"""
from __future__ import annotations

from consent.attributes import access_attributes
from consent.engine import Decision
from consent.engine import Matrix
from consent.engine import block_warnings
from consent.engine import decide
from consent.engine import may_write
from consent.engine import open_matrix
from consent.engine import policy
from consent.labels import visible_flags_rule
from consent.predicate import Predicate
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import Directive
from consent.state import PatientState
from consent.state import patient_state

__all__ = [
    "Decision", "Directive", "Matrix", "PatientState", "Predicate", "Requester", "access_attributes",
    "block_warnings", "decide", "evaluate", "may_write", "open_matrix", "patient_state", "policy",
    "visible_flags_rule",
]
