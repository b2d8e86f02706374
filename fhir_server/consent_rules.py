"""Consents that do what they say (issue 12, point 4), on every Consent write.

A Consent of scope patient-privacy that the engine would ignore — no category 59284-0, an unknown
policyRule, a provision it cannot interpret, an actor it cannot resolve to a Practitioner,
PractitionerRole or Organization reference (and, with REFERENCE_CHECK, of this server) — is a 422
saying what to add (``consent.checks``).
A Consent of another scope (research, treatment, adr) is stored as data, and the write answers an
``information`` issue saying so.
"""

from __future__ import annotations

from typing import Any

from consent import checks

from .errors import Unprocessable
from .errors import issue


def notes(resource_type: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Issues to answer with a Consent write (raises 422 for a privacy Consent with no effect)."""
    if resource_type != "Consent":
        return []
    if not checks.is_privacy(body):
        found = ", ".join(checks.scope(body)) or "none"
        return [
            issue(
                "information",
                "informational",
                f"Consent.scope: this consent (scope {found}) is stored as data; only patient-privacy "
                "consents (scope http://terminology.hl7.org/CodeSystem/consentscope|patient-privacy, "
                "category http://loinc.org|59284-0) govern access to the record",
                ["Consent.scope"],
            )
        ]
    problems = checks.problems(body) + _unresolved_actors(body)
    if problems:
        issues = [issue("error", "business-rule", f"{where}: {text}", [where]) for where, text in problems]
        raise Unprocessable("; ".join(i["diagnostics"] for i in issues), issues=issues)
    return []


def _unresolved_actors(body: dict[str, Any]) -> list[tuple[str, str]]:
    """Actors the engine cannot match a caller against (their existence is REFERENCE_CHECK's)."""
    out = []
    for where, ref in checks.actors(body):
        type_, _, id_ = (ref or "").partition("/")
        if ref is None or type_ not in checks.ACTOR_TYPES or not id_ or "/" in id_:
            out.append(
                (
                    where,
                    (
                        "name the actor by a reference to a Practitioner, PractitionerRole or Organization "
                        "of this server ('Practitioner/id')"
                    ),
                )
            )
    return out
