"""The DMP record operations (https://hl7.org/fhir/R4/operations.html): ``Patient/[id]/$close``,
``Patient/[id]/$reopen`` and ``Consent/$preview``.

- ``$close`` (Parameters: ``reason`` string, required; ``erase`` boolean, the holder's request for
  early deletion) closes the record (``fhir_server.dmp.retention``) and answers the new Patient version;
- ``$reopen`` reopens a closed record that was not purged yet;
- ``$preview`` (the proposed Consent as body) answers a Parameters listing, per actor, the items
  gained and lost if it were saved (``change`` with ``actor`` or ``mode``, ``gains``, ``loses``),
  ``warning`` strings, and ``outcome`` (an OperationOutcome) with the warning and information
  issues the write would answer; nothing is saved. Actors: the professionals the record's Consents
  and the proposed one name (an organization as the practitioners its PractitionerRoles name), the
  attending physicians, and a physician in each emergency mode; items: the record's items the
  caller may see. Once the caller is known to hold the record, the body gets a Consent write's
  checks (``interactions.check`` and ``admit``): what a write refuses, the preview refuses alike.

Only the patient, their legal representative (RelatedPerson GUARD) or a system client may call
them for a record; anyone else gets 403 whether the record exists or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from consent.elements import reference
from consent.engine import block_warnings
from consent.engine import identities
from consent.engine import own_records
from consent.predicate import evaluate
from consent.preview import compare
from consent.preview import named_actors
from consent.requester import Mode
from consent.requester import Requester
from consent.state import TRE_R248
from consent.state import patient_state
from search.plan import Cmp
from search.plan import Value

from .. import audit
from .. import auth
from .. import consent_loader
from ..access import current_access
from ..errors import BadRequest
from ..errors import Conflict
from ..errors import Forbidden
from ..errors import NotFound
from ..errors import operation_outcome
from ..interactions import admit
from ..interactions import check
from ..operations.definition import Call
from ..operations.definition import Operation
from ..storage import Repository
from ..storage import Stored
from ..storage import get_store
from ..storage import no_policy
from . import retention

#: emergency modes a preview reports on, as a physician with a running window would meet them
EMERGENCY_MODES: tuple[Mode, ...] = ("bris_de_glace", "centre_15")


def close(call: Call) -> dict[str, Any]:
    assert call.id is not None
    current = _holder_record(call.id, "update")
    if current.resource.get("active") is False:
        raise Conflict(f"Patient/{call.id} is already closed")
    reason = _value(call, "reason", "valueString", str)
    if reason is None or not reason.strip():
        raise BadRequest("$close needs a reason (Parameters.parameter 'reason', valueString)")
    erase = _value(call, "erase", "valueBoolean", bool) is True
    return _store_patient(
        current, retention.closed(current.resource, reason.strip(), current_access().now, erase=erase)
    )


def reopen(call: Call) -> dict[str, Any]:
    assert call.id is not None
    current = _holder_record(call.id, "update")
    if current.resource.get("active") is not False:
        raise Conflict(f"Patient/{call.id} is not closed")
    return _store_patient(current, retention.reopened(current.resource))


def preview(call: Call) -> dict[str, Any]:
    issues = check(call.body, "Consent")
    ref = reference(call.body.get("patient"))
    if ref is None or not ref.startswith("Patient/"):
        raise BadRequest("The proposed Consent must name its patient (Consent.patient, Patient/id)")
    patient = _holder_record(ref.partition("/")[2], "create", "Consent")
    proposed, notes = admit("Consent", call.body)
    issues += notes
    store, now = get_store(), current_access().now
    record = consent_loader.consent_sources(store, [ref])[ref]
    proposed = {**proposed, "id": proposed.get("id") or "proposed"}
    kept = [c for c in record.consents if c.get("id") != proposed["id"]]
    before = patient_state(record.patient, record.consents, record.related, now)
    after = patient_state(record.patient, [*kept, proposed], record.related, now)
    actors = named_actors([*record.consents, proposed]) | before.general_practitioners
    requesters = _professionals(store, actors, now) | _emergencies(ref)
    items = {
        key: acl
        for key, acl in consent_loader.compartment(store, ref).items()
        if evaluate(current_access().policy_for(acl["type"]), acl)
    }
    changes = compare(requesters, before, after, items, matrix=current_access().matrix, now=now)
    audit.trace(current_access(), "operation", "Patient", stored=patient)
    parameter = [
        {
            "name": "change",
            "part": [_actor(change.actor)]
            + [{"name": "gains", "valueReference": {"reference": r}} for r in change.gains]
            + [{"name": "loses", "valueReference": {"reference": r}} for r in change.loses],
        }
        for change in changes
    ] + [{"name": "warning", "valueString": text} for text in block_warnings(after, proposed)]
    outcome = [{"name": "outcome", "resource": operation_outcome(issues)}] if issues else []
    return {"resourceType": "Parameters", "parameter": parameter + outcome}


def _holder_record(id_: str, interaction: str, resource_type: str = "Patient") -> Stored:
    """The current Patient ``id_``, if the caller holds that record (or is a system client)."""
    requester, ref = current_access().requester, f"Patient/{id_}"
    auth.require(requester, resource_type, interaction)
    if requester.kind != "system" and ref not in own_records(requester):
        state = current_access().states([ref]).get(ref)
        if state is None or not identities(requester) & state.guardians:
            raise Forbidden(f"Only the patient, their representative or a system client may do this for {ref}")
    current = get_store().current("Patient", id_)
    if current is None or current.deleted:
        raise NotFound(f"{ref} is not known")
    return current


def _store_patient(current: Stored, body: dict[str, Any]) -> dict[str, Any]:
    stored = get_store().write("Patient", current.id, body, method="PATCH", expected_vid=current.vid)
    audit.trace(current_access(), "operation", "Patient", stored=stored)
    return stored.resource


def _value(call: Call, name: str, element: str, kind: type) -> Any:
    """The value of the Parameters body's ``name`` (None when absent); 400 when it is not a ``kind``."""
    if not isinstance(call.body, dict) or call.body.get("resourceType") != "Parameters":
        raise BadRequest("The body must be a Parameters resource")
    found = [p for p in call.parameters() if p.get("name") == name]
    if len(found) > 1 or (found and not isinstance(found[0].get(element), kind)):
        raise BadRequest(f"Parameter '{name}' must appear once, with {element}")
    return found[0][element] if found else None


def _professionals(store: Repository, actors: set[str], now: datetime) -> dict[str, Requester]:
    """The professionals behind the actors, enriched: practitioners and roles as themselves, an
    organization as the practitioners its PractitionerRoles name."""
    refs = {ref for ref in actors if ref.startswith(("Practitioner/", "PractitionerRole/"))}
    organizations = sorted(ref for ref in actors if ref.startswith("Organization/"))
    if organizations:
        where = Value("organization", "reference", Cmp("", "in", tuple(organizations)))
        members = store.find("PractitionerRole", where, no_policy)
        refs |= {ref for role in members if (ref := reference(role.resource.get("practitioner")))}
    return {ref: consent_loader.enrich(store, Requester("practitioner", ref, ref), now=now) for ref in sorted(refs)}


def _emergencies(ref: str) -> dict[str, Requester]:
    """A physician in each emergency mode with a running window on the record."""
    return {
        f"mode:{mode}": Requester(
            "practitioner",
            f"emergency {mode}",
            mode=mode,
            reason="preview",
            profession="10",
            emergency_records=frozenset({ref}),
        )
        for mode in EMERGENCY_MODES
    }


def _actor(name: str) -> dict[str, Any]:
    kind, _, value = name.partition(":")
    if kind == "mode":
        return {"name": "mode", "valueCoding": {"system": TRE_R248, "code": value}}
    return {"name": "actor", "valueReference": {"reference": name}}


CLOSE = Operation(
    code="close",
    definition="https://carnet.example.org/fhir/OperationDefinition/Patient-close",
    handler=close,
    documentation="Close the record (holder, legal representative or system): Patient.active=false and the "
    "dmp-fermeture extension; Parameters reason (string, required), erase (boolean: early deletion).",
    types=("Patient",),
    instance_level=True,
    affects_state=True,
)
REOPEN = Operation(
    code="reopen",
    definition="https://carnet.example.org/fhir/OperationDefinition/Patient-reopen",
    handler=reopen,
    documentation="Reopen a closed record not purged yet (holder, legal representative or system).",
    types=("Patient",),
    instance_level=True,
    affects_state=True,
)
PREVIEW = Operation(
    code="preview",
    definition="https://carnet.example.org/fhir/OperationDefinition/Consent-preview",
    handler=preview,
    documentation="Who would gain or lose access to which items if the Consent in the body were saved "
    "(holder, legal representative or system); nothing is saved.",
    types=("Consent",),
    type_level=True,
)
OPERATIONS = (CLOSE, REOPEN, PREVIEW)
