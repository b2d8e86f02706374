"""The consent engine bound to one request: who asks, and what they may see and write."""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any

from consent import engine
from consent.predicate import Predicate
from consent.predicate import evaluate
from consent.requester import Requester
from consent.state import PatientState

from . import consent_state
from .storage import Stored


@dataclass
class Access:
    """Consent decisions for one request; states are loaded once per request, never cached longer."""

    requester: Requester
    db: Any
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _states: dict[str, PatientState] | None = None

    def states(self, extra: list[str] | None = None) -> dict[str, PatientState]:
        if self._states is None:
            self._states = consent_state.load_states(self.db, self.requester, None, self.now)
        missing = [p for p in extra or () if p not in self._states]
        if missing:
            self._states.update(consent_state.load_states(self.db, self.requester, missing, self.now))
        return self._states

    def policy_for(self, resource_type: str) -> Predicate:
        return engine.policy(self.requester, self.states(), resource_type)

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
        states = self.states(patients)
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
        patients = list(acl.get("patients") or ()) + list((old_acl or {}).get("patients") or ())
        states = self.states(patients)
        state = next((states[p] for p in patients if p in states), None)
        return engine.may_write(
            self.requester, state, acl, interaction, old_acl=old_acl, patch_paths=patch_paths
        )
