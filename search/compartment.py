"""Patient compartment membership (https://hl7.org/fhir/R4/compartmentdefinition-patient.html).

The table (type -> parameters) ships in the generated registry, from the official
CompartmentDefinition-patient.json.
"""

from __future__ import annotations

from typing import Any

from .extract import reference_type
from .extract import walk
from .registry import Registry

__all__ = ["patient_refs"]


def patient_refs(registry: Registry, resource_type: str, resource: dict[str, Any]) -> list[str]:
    """The ``Patient/<id>`` references putting ``resource`` in Patient compartments.

    A Patient is in its own compartment; other types through the compartment parameters,
    counting only local references whose target is a Patient (absolute URLs, contained
    ``#x`` references and other targets do not count).
    """
    out: list[str] = []
    if resource_type == "Patient":
        if isinstance(resource.get("id"), str):
            out.append(f"Patient/{resource['id']}")
        return out
    for code in registry.patient_compartment.get(resource_type, ()):
        param = registry.param(resource_type, code)
        if param is None or param.type != "reference":
            continue
        for route in param.routes:
            for value, _ in walk(resource, route):
                ref = _local_patient(value)
                if ref is not None and ref not in out:
                    out.append(ref)
    return out


def _local_patient(value: Any) -> str | None:
    if not isinstance(value, dict) or reference_type(value) != "Patient":
        return None
    text = value.get("reference")
    if not isinstance(text, str):
        return None
    parts = text.split("/")
    if len(parts) >= 2 and parts[0] == "Patient" and parts[1] and (len(parts) == 2 or parts[2] == "_history"):
        return f"Patient/{parts[1]}"
    return None
