"""The profiles we enforce, published as StructureDefinition resources (read and searched like
any other directory resource: GET /fhir/StructureDefinition/fr-core-patient-ins, ?url=…)."""

from __future__ import annotations

import profiles

from .storage import Repository


def publish(store: Repository) -> None:
    """Write each profile's summary where it is missing or stale (idempotent at every start)."""
    for url in profiles.urls():
        summary = profiles.summary(url)
        current = store.current("StructureDefinition", summary["id"])
        if current is not None and not current.deleted:
            served = {k: v for k, v in current.resource.items() if k != "meta"}
            if served == {k: v for k, v in summary.items() if k != "meta"}:
                continue
        store.write("StructureDefinition", summary["id"], summary, method="PUT")
