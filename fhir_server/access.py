"""The consent engine bound to one request: who asks, and what they may see and write.

Bound once per request at the server's clock (``fhir_server.clock``), with the access matrix the
app loaded (``fhir_server.dmp.init_app``) and the caller's emergency windows
(``fhir_server.dmp.emergency``, opened on the first call that needs them, on the records ``asked``
names).
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from typing import Any
from typing import cast

from flask import current_app
from flask import g
from flask import has_app_context

from consent import engine
from consent import matrix as access_matrix
from consent.engine import Matrix
from consent.predicate import Predicate
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import PatientState

from . import clock
from . import consent_loader
from .dmp import emergency
from .storage import Repository
from .storage import Scoped
from .storage import Stored

MATRIX_EXTENSION = "carnet.matrix"


def current_matrix() -> Matrix:
    """The access matrix the app loaded at start, else the packaged one."""
    loaded = current_app.extensions.get(MATRIX_EXTENSION) if has_app_context() else None
    return cast(Matrix, loaded) if loaded is not None else access_matrix.load()


@dataclass
class Access:
    """Consent decisions for one request; states are loaded once per request, never cached longer."""

    requester: Requester
    repo: Repository
    now: datetime = field(default_factory=clock.now)
    matrix: Matrix = field(default_factory=current_matrix)
    asked: emergency.Asked = field(default_factory=emergency.Asked)
    _states: dict[str, PatientState] | None = None
    _caller: Requester | None = None
    _confined: frozenset[str] | None = None
    _policies: dict[str, Predicate] = field(default_factory=dict)

    def confine(self, records: frozenset[str]) -> None:
        """This request can only ever match items of ``records`` (its criteria say so): load only
        their states. Items of any other record then stay hidden (no state: deny), never shown."""
        if self._states is None:
            self._confined = records

    def caller(self) -> Requester:
        """``requester`` with the records on which an emergency window runs for them (opening the
        windows this request may open, once)."""
        if self._caller is None:
            emergency_mode = self.requester.kind == "practitioner" and self.requester.mode != "normal"
            records = (
                emergency.open_records(self.repo, self.requester, self.now, self.asked)
                if emergency_mode
                else frozenset()
            )
            self._caller = replace(self.requester, emergency_records=records)
        return self._caller

    def states(self, extra: list[str] | None = None, *, even_for_system: bool = False) -> dict[str, PatientState]:
        """The consent states this request needs (none for a system client: it sees everything)."""
        if self.requester.kind == "system" and not even_for_system:
            return {}
        if self._states is None:
            caller = self.caller()
            if self._confined is not None:
                wanted = sorted(self._confined | caller.emergency_records)
                self._states = consent_loader.load_states(self.repo, caller, wanted, self.now, discover=False)
            else:
                self._states = consent_loader.load_states(self.repo, caller, sorted(caller.emergency_records), self.now)
        missing = [p for p in extra or () if p not in self._states]
        if missing:
            self._policies.clear()
            self._states.update(
                consent_loader.load_states(self.repo, self.requester, missing, self.now, discover=False)
            )
        return self._states

    @property
    def store(self) -> Scoped:
        """The store as this caller may read it: their policy inside every query."""
        return Scoped(self.repo, self.policy_for)

    def policy_for(self, resource_type: str) -> Predicate:
        """The type's policy for this request (computed once per type while the states stay the same)."""
        states = self.states()
        if resource_type not in self._policies:
            self._policies[resource_type] = engine.policy(
                self.caller(), states, resource_type, matrix=self.matrix, now=self.now
            )
        return self._policies[resource_type]

    def can_see(self, stored: Stored) -> bool:
        """Whether this version may be seen; hidden answers exactly as absent."""
        acls = [stored.acl] if stored.cacl is None else [stored.acl, stored.cacl]
        self.states([p for acl in acls for p in acl.get("patients") or ()])
        policy = self.policy_for(stored.type)
        return all(evaluate(policy, acl) for acl in acls)

    def warnings(self, stored: Stored) -> list[str]:
        """Non-blocking consent issues of a write (a Consent that blocks the attending physician)."""
        if stored.type != "Consent" or stored.deleted:
            return []
        patients = list(stored.acl.get("patients") or ())
        states = self.states(patients, even_for_system=True)
        return [w for p in patients if p in states for w in engine.block_warnings(states[p], stored.resource)]

    def write_decision(
        self,
        resource_type: str,
        interaction: str,
        acl: dict[str, Any],
        *,
        old_acl: dict[str, Any] | None = None,
        patch_paths: set[str] | None = None,
    ) -> engine.Decision:
        primary = acl.get("patient") or (old_acl or {}).get("patient")
        state = self.states([primary]).get(primary) if isinstance(primary, str) else None
        return engine.may_write(
            self.caller(),
            state,
            acl,
            cast(engine.Interaction, interaction),
            old_acl=old_acl,
            patch_paths=patch_paths,
            now=self.now,
        )


def current_access() -> Access:
    """The caller's ``Access``, bound to this request by ``rest.bind_access``."""
    return cast(Access, g.carnet_access)
