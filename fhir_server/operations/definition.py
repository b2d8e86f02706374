"""What an operation is (https://hl7.org/fhir/R4/operations.html): its definition, where it applies,
its handler, and the call a handler receives (query parameters and a Parameters or resource body)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest

#: Parameters.parameter value[x] read as search-style strings (R4 operations.html#request)
_SCALARS = (
    "valueString",
    "valueCode",
    "valueUri",
    "valueCanonical",
    "valueId",
    "valueInstant",
    "valueDateTime",
    "valueDate",
    "valueInteger",
    "valuePositiveInt",
    "valueUnsignedInt",
    "valueBoolean",
    "valueDecimal",
)


@dataclass(frozen=True)
class Call:
    """One invocation: the target, the query parameters and the POST body (None for GET)."""

    resource_type: str
    id: str | None
    query: list[tuple[str, str]]
    body: Any
    base_url: str

    def parameters(self) -> list[dict[str, Any]]:
        """The body's Parameters.parameter (empty when the body is not a Parameters)."""
        if isinstance(self.body, dict) and self.body.get("resourceType") == "Parameters":
            found = self.body.get("parameter") or []
            if not isinstance(found, list) or not all(isinstance(p, dict) for p in found):
                raise BadRequest("Parameters.parameter must be a list of parameters")
            return found
        return []

    def pairs(self) -> list[tuple[str, str]]:
        """Query parameters, then the body's scalar parameters, as (name, value) strings."""
        out = list(self.query)
        for param in self.parameters():
            key = next((k for k in _SCALARS if k in param), None)
            if key is not None:
                value = param[key]
                text = str(value).lower() if isinstance(value, bool) else str(value)
                out.append((str(param.get("name")), text))
        return out

    def first(self, name: str) -> str | None:
        return next((v for k, v in self.pairs() if k == name), None)


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Operation:
    """An operation served: ``$code`` on ``types`` (empty: every served type), at type and/or
    instance level, by ``methods``; the CapabilityStatement lists it from here."""

    code: str
    definition: str
    handler: Handler
    documentation: str
    types: tuple[str, ...] = ()
    type_level: bool = False
    instance_level: bool = False
    methods: tuple[str, ...] = ("POST",)
    affects_state: bool = False

    def applies_to(self, resource_type: str) -> bool:
        return not self.types or resource_type in self.types
