"""French profiles Carnet enforces: FR Core (https://hl7.fr/ig/fhir/core) and DMP rules.

Each profile is a JSON Schema document in this package keyed by its canonical URL;
`fhir_server.validation` applies them, `summary(url)` describes one as a StructureDefinition.
"""

from __future__ import annotations

from profiles.registry import ProfileDoc
from profiles.registry import Violation
from profiles.registry import get
from profiles.registry import load
from profiles.registry import urls
from profiles.registry import urls_by_type
from profiles.summary import summary

__all__ = ["ProfileDoc", "Violation", "get", "load", "summary", "urls", "urls_by_type"]
