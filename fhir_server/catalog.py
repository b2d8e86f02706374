"""The resource types the server serves and the interactions each allows (read from catalog.json:
every R4 type when ``all_r4_types`` is set, with per-type overrides)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from . import validation
from .errors import MethodNotAllowed
from .errors import NotFound

CATALOG_FILE = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class TypeEntry:
    name: str
    interactions: tuple[str, ...]
    documentation: str | None = None


@dataclass(frozen=True)
class Catalog:
    types: dict[str, TypeEntry]

    def entry(self, type_: str) -> TypeEntry:
        """The served type, or 404 with an OperationOutcome saying it is not supported."""
        found = self.types.get(type_)
        if found is None:
            raise NotFound(f"Resource type '{type_}' is not supported by this server")
        return found

    def require(self, type_: str, interaction: str) -> TypeEntry:
        found = self.entry(type_)
        if interaction not in found.interactions:
            raise MethodNotAllowed(f"The '{interaction}' interaction is not allowed on {type_}")
        return found


@cache
def load(path: Path = CATALOG_FILE) -> Catalog:
    raw = json.loads(path.read_text())
    default = tuple(raw["default_interactions"])
    names = sorted(validation.supported_types()) if raw.get("all_r4_types") else []
    specs = {name: {} for name in names} | raw["types"]
    return Catalog(
        {
            name: TypeEntry(name, tuple(spec.get("interactions", default)), spec.get("documentation"))
            for name, spec in specs.items()
        }
    )
