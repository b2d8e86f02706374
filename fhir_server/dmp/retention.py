"""Closing, reopening and purging a record (L.1111-18, R.1111-36; research/dmp.md §1.13).

A closed record is a Patient with ``active`` false (consent rule 1: professionals see nothing)
carrying the PDSm4DMP draft closure extension ``dmp-fermeture`` (``dateFermeture``,
``motifFermeture``, ``raisonFermeture``) and, when the holder asked for early deletion, Carnet's
``erasure-requested`` extension (the request's date). Reopening sets ``active`` back and drops
both. The data stay ``RETENTION_YEARS`` (10) from the closure date (a closed Patient without the
extension counts from its last update), then ``purge`` removes them: every current document whose
primary compartment is the record (``acl.patient``: the Patient, its items, their traces and
notifications), the history of those resources, and the record's emergency sessions. A record
whose holder asked for erasure is purged at the next run, whatever the term (R.1111-36: within 3
months); ``early`` purges one closed record now on the operator's say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

from consent.elements import as_instant
from consent.elements import instant
from search.plan import Cmp
from search.plan import Column
from search.plan import Value
from search.plan import Where
from search.plan import and_

from ..storage import Repository
from ..storage import no_policy
from .emergency import SESSIONS

CLOSURE = "https://interop.esante.gouv.fr/ig/fhir/dmp/StructureDefinition/dmp-fermeture"
CLOSURE_MOTIVES = "https://interop.esante.gouv.fr/ig/fhir/dmp/CodeSystem/dmp-motif-fermeture"
ERASURE = "https://carnet.example.org/fhir/StructureDefinition/erasure-requested"
RETENTION_YEARS = 10
#: closure motive when the holder asks (draft code system)
HOLDER_MOTIVE = "patient-demande"


@dataclass(frozen=True)
class Purge:
    """One record due for purging: why, since when, and how many documents it holds per collection."""

    patient: str
    closed: str
    why: str
    documents: dict[str, int]


def closed(patient: Mapping[str, Any], reason: str, now: datetime, *, erase: bool = False) -> dict[str, Any]:
    """The next version of a Patient closing the record at ``now`` for ``reason``."""
    extension = [e for e in patient.get("extension") or [] if e.get("url") not in (CLOSURE, ERASURE)]
    extension.append(
        {
            "url": CLOSURE,
            "extension": [
                {"url": "dateFermeture", "valueDateTime": instant(now)},
                {"url": "motifFermeture", "valueCoding": {"system": CLOSURE_MOTIVES, "code": HOLDER_MOTIVE}},
                {"url": "raisonFermeture", "valueString": reason},
            ],
        }
    )
    if erase:
        extension.append({"url": ERASURE, "valueDateTime": instant(now)})
    return {**patient, "active": False, "extension": extension}


def reopened(patient: Mapping[str, Any]) -> dict[str, Any]:
    """The next version of a closed Patient, reopened: active, without closure nor erasure request."""
    reopened_ = {**patient, "active": True}
    extension = [e for e in patient.get("extension") or [] if e.get("url") not in (CLOSURE, ERASURE)]
    if extension:
        reopened_["extension"] = extension
    else:
        reopened_.pop("extension", None)
    return reopened_


def due(
    store: Repository,
    now: datetime,
    *,
    years: int = RETENTION_YEARS,
    patient: str | None = None,
    early: bool = False,
) -> list[Purge]:
    """The closed records to purge at ``now`` (only ``patient`` when given; ``early``: it, if closed)."""
    where: Where = Value("active", "token", Cmp("", "eq", "false"))
    if patient is not None:
        where = and_(where, Column("id", Cmp("", "eq", patient.partition("/")[2])))
    found = []
    for stored in store.find("Patient", where, no_policy):
        resource, ref = stored.resource, f"Patient/{stored.id}"
        since = closure_date(resource) or as_instant(resource.get("meta", {}).get("lastUpdated")) or instant(now)
        if early and patient is not None:
            why = "early deletion"
        elif _extension(resource, ERASURE) is not None:
            why = "erasure requested"
        elif _years_after(since, years) <= now:
            why = f"retention over ({years} years)"
        else:
            continue
        found.append(Purge(ref, since, why, _documents(store, ref)))
    return found


def purge(store: Repository, record: Purge) -> None:
    """Remove a record's documents, their history and its emergency sessions."""
    with store.atomic():
        for name, ids in store.held(record.patient).items():
            store.purge(name, ids)
    store.documents(SESSIONS).delete_many({"patient": record.patient})


def closure_date(patient: Mapping[str, Any]) -> str | None:
    """The closure instant the closure extension records, if any."""
    closure = _extension(patient, CLOSURE)
    parts = closure.get("extension") or [] if closure else []
    return next((as_instant(p.get("valueDateTime")) for p in parts if p.get("url") == "dateFermeture"), None)


def _documents(store: Repository, ref: str) -> dict[str, int]:
    held = store.held(ref)
    history = sum(store.count_versions(name, ids) for name, ids in held.items())
    return {**{name: len(ids) for name, ids in held.items()}, "history": history}


def _extension(resource: Mapping[str, Any], url: str) -> Mapping[str, Any] | None:
    return next((e for e in resource.get("extension") or [] if e.get("url") == url), None)


def _years_after(moment: str, years: int) -> datetime:
    start = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, month=3, day=1)
