"""What a write stores beside the resource: search values (`idx`) and access attributes (`acl`)."""
from __future__ import annotations

from typing import Any

from consent.attributes import access_attributes
from search import compartment
from search import extract
from search import registry


def access_attributes_of(resource_type: str, resource: dict[str, Any]) -> dict[str, Any]:
    reg = registry.load()
    patients = compartment.patient_refs(reg, resource_type, resource)
    return access_attributes(resource_type, resource, patients, compartment_type=resource_type in reg.patient_compartment)


def index_resource(resource_type: str, resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    idx = extract.index_values(registry.load(), resource_type, resource)
    return idx, access_attributes_of(resource_type, resource)
