"""Consents that do what they say (issue 12): what a patient-privacy Consent lacks for the engine
to apply it (``consent.state.consent_directives``), said as what to add or change.

``problems`` lists (FHIRPath-like path, sentence) for a Consent of scope patient-privacy; the
server refuses such a Consent with 422 rather than store it with no effect. ``actors`` lists the
actor references to resolve (the server checks that they name a Practitioner, PractitionerRole or
Organization it holds).
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from consent.elements import codes
from consent.elements import codings
from consent.state import _NARROWING
from consent.state import _OBJECTED_MODE
from consent.state import ACT_REASON
from consent.state import CONSENT_ACTION
from consent.state import CONSENT_SCOPE
from consent.state import LOINC
from consent.state import PATIENT_CONSENT

V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: the policy rules of R4's consent-policy value set that a patient-privacy Consent may state
POLICY_RULES = frozenset({"OPTIN", "OPTINR", "OPTOUT", "OPTOUTE"})
#: who a provision's actor may be: the identities the engine matches a caller against
ACTOR_TYPES = ("Practitioner", "PractitionerRole", "Organization")


def scope(consent: Mapping[str, Any]) -> list[str]:
    """The consentscope codes of a Consent (``patient-privacy``, ``research``, ``treatment``, ``adr``)."""
    return codes(consent.get("scope"), frozenset({CONSENT_SCOPE}))


def is_privacy(consent: Mapping[str, Any]) -> bool:
    return "patient-privacy" in scope(consent)


def problems(consent: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What keeps the engine from applying a patient-privacy Consent: (path, what to do)."""
    out: list[tuple[str, str]] = []
    if PATIENT_CONSENT not in codes(consent.get("category") or [], frozenset({LOINC})):
        out.append(
            (
                "Consent.category",
                (
                    f"add the category {LOINC}|{PATIENT_CONSENT} (patient consent): without it "
                    "the consent has no effect on access"
                ),
            )
        )
    if not isinstance(consent.get("patient"), Mapping) or not isinstance(consent["patient"].get("reference"), str):
        out.append(("Consent.patient", "add the patient (a reference to the Patient whose record this governs)"))
    rules = [c for c in codings(consent.get("policyRule")) if c.get("system") == V3_ACT_CODE]
    if consent.get("policyRule") is not None and not any(c.get("code") in POLICY_RULES for c in rules):
        out.append(
            (
                "Consent.policyRule",
                (
                    f"use a policyRule from {V3_ACT_CODE}: "
                    f"{', '.join(sorted(POLICY_RULES))} (OPTIN for a grant, OPTOUT for a "
                    "block or an objection)"
                ),
            )
        )
    elif consent.get("policyRule") is None and not consent.get("policy"):
        out.append(("Consent.policyRule", f"add a policyRule ({V3_ACT_CODE} OPTIN or OPTOUT) (R4 ppc-1)"))
    provision = consent.get("provision")
    if not isinstance(provision, Mapping):
        out.append(
            (
                "Consent.provision",
                (
                    "add a provision: permit + actor (a grant), deny + actor (a block), or "
                    f"deny + purpose {ACT_REASON} BTG or ETREAT (an objection to emergency "
                    "access)"
                ),
            )
        )
    else:
        out.extend(_provision_problems(provision, "Consent.provision", []))
    return out


def _provision_problems(provision: Mapping[str, Any], where: str, inherited: list[str]) -> list[tuple[str, str]]:
    """A provision, and those nested in it, must each set a rule, or hold nested ones that do."""
    out: list[tuple[str, str]] = []
    kind = provision.get("type")
    actors = [ref for _, ref in _actor_refs(provision, where)] or inherited
    nested = [p for p in provision.get("provision") or [] if isinstance(p, Mapping)]
    for index, child in enumerate(nested):
        out.extend(_provision_problems(child, f"{where}.provision[{index}]", actors))
    if kind not in ("permit", "deny"):
        return [(f"{where}.type", "set the provision's type: permit or deny"), *out]
    if nested and not actors and not provision.get("purpose"):
        return out  # a base rule whose nested provisions set the rules
    if kind == "permit":
        if not actors:
            out.append(
                (
                    f"{where}.actor",
                    (
                        "a permit grants access to its actors: add an actor (a Practitioner, "
                        "PractitionerRole or Organization)"
                    ),
                )
            )
        narrowed = [e for e in _NARROWING if provision.get(e)]
        if narrowed:
            out.append(
                (
                    f"{where}.{narrowed[0]}",
                    (
                        f"a grant covers the whole record: remove {', '.join(narrowed)} "
                        "(hide single documents with securityLabel MASQUE_PS instead)"
                    ),
                )
            )
        purposes = codes(provision.get("purpose") or [], frozenset({ACT_REASON}))
        if provision.get("purpose") and "TREAT" not in purposes:
            out.append((f"{where}.purpose", f"a grant is for care: use purpose {ACT_REASON}|TREAT, or none"))
        actions = codes(provision.get("action") or [], frozenset({CONSENT_ACTION}))
        if provision.get("action") and "access" not in actions:
            out.append((f"{where}.action", f"a grant is for reading: use action {CONSENT_ACTION}|access, or none"))
    elif not actors:
        modes = {(c.get("system"), c.get("code")) for c in codings(provision.get("purpose") or [])}
        if not any(key in modes for key in _OBJECTED_MODE):
            out.append(
                (
                    f"{where}",
                    (
                        "a deny blocks its actors, or objects to emergency access: add an actor, or "
                        f"purpose {ACT_REASON} BTG (break-glass) or ETREAT (centre 15)"
                    ),
                )
            )
    return out


def _actor_refs(provision: Mapping[str, Any], where: str) -> Iterator[tuple[str, str]]:
    for index, actor in enumerate(provision.get("actor") or []):
        ref = actor.get("reference") if isinstance(actor, Mapping) else None
        text = ref.get("reference") if isinstance(ref, Mapping) else None
        if isinstance(text, str):
            yield f"{where}.actor[{index}].reference", text


def actors(consent: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """(path, reference text or None) of every provision actor, nested ones included."""
    out: list[tuple[str, str | None]] = []
    pending: list[tuple[Any, str]] = [(consent.get("provision"), "Consent.provision")]
    while pending:
        provision, where = pending.pop(0)
        if not isinstance(provision, Mapping):
            continue
        for index, actor in enumerate(provision.get("actor") or []):
            ref = actor.get("reference") if isinstance(actor, Mapping) else None
            text = ref.get("reference") if isinstance(ref, Mapping) else None
            out.append((f"{where}.actor[{index}].reference", text if isinstance(text, str) else None))
        pending.extend((child, f"{where}.provision[{i}]") for i, child in enumerate(provision.get("provision") or []))
    return out
