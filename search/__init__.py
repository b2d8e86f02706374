"""Carnet's FHIR R4 search engine (https://hl7.org/fhir/R4/search.html), pure: stdlib and
``consent`` types only, no pymongo, no Flask.

- ``registry``: every R4 SearchParameter, pre-split into typed routes (generated table).
- ``extract`` / ``compartment``: write-time ``idx`` values and Patient compartment references.
- ``parse`` -> ``SearchRequest``; ``compile``: criteria + consent Policy -> MongoDB filters.
- ``include``, ``elements``, ``paging``: includes, ``_summary`` / ``_elements``, page links.

``fhir_server.searching`` is the I/O edge that runs the compiled queries.
"""
from __future__ import annotations

from .compartment import patient_refs
from .compile import criteria_filter
from .compile import policy_filter
from .compile import sort_spec
from .errors import SearchError
from .extract import index_values
from .parse import SearchRequest
from .parse import parse
from .registry import ParamDef
from .registry import Registry
from .registry import load

__all__ = [
    "ParamDef",
    "Registry",
    "SearchError",
    "SearchRequest",
    "criteria_filter",
    "index_values",
    "load",
    "parse",
    "patient_refs",
    "policy_filter",
    "sort_spec",
]
