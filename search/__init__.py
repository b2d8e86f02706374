"""Carnet's FHIR R4 search engine (https://hl7.org/fhir/R4/search.html), pure: stdlib and
``consent`` types only, no pymongo, no Flask.

- ``registry``: every R4 SearchParameter, pre-split into typed routes (generated table).
- ``extract`` / ``compartment``: write-time ``idx`` values and Patient compartment references.
- ``parse`` -> ``SearchRequest``; ``compile``: criteria -> a backend-neutral ``plan`` (storage adds the consent policy).
- ``include``, ``elements``, ``paging``: includes, ``_summary`` / ``_elements``, page links.

``fhir_server.searchset`` runs the plans through the storage port.
"""

from __future__ import annotations

from .compartment import patient_refs
from .compile import compile_criteria
from .compile import sort_keys
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
    "compile_criteria",
    "index_values",
    "load",
    "parse",
    "patient_refs",
    "sort_keys",
]
