"""The search parameter registry: every R4 SearchParameter, pre-split into typed routes.

Built once from ``search/data/registry.json``, which ``tools/generate_registry.py``
generates from the official R4 definitions (https://hl7.org/fhir/R4/searchparameter-registry.html).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import fulltext

__all__ = ["Component", "ParamDef", "Registry", "Route", "RouteStep", "load"]

DATA = Path(__file__).with_name("data") / "registry.json"


@dataclass(frozen=True)
class RouteStep:
    """One JSON key to follow, with the filters R4 expressions put on it."""

    key: str
    is_type: tuple[str, ...] = ()  # .where(resolve() is T)
    eq: tuple[str, str] | None = None  # .where(field='value')
    has_ext: str | None = None  # .where(hasExtension('url'))
    ext: str | None = None  # .extension('url')
    index: int | None = None  # [n]


@dataclass(frozen=True)
class Route:
    """A path from the resource (or a composite's root element) to values of one element type."""

    steps: tuple[RouteStep, ...]
    type: str


@dataclass(frozen=True)
class Component:
    code: str
    type: str
    routes: tuple[tuple[Route, ...], ...]  # per root route of the composite


@dataclass(frozen=True)
class ParamDef:
    """A search parameter as it applies to one resource type."""

    code: str
    type: str
    url: str
    routes: tuple[Route, ...] = ()
    multi: bool = True
    targets: tuple[str, ...] = ()
    components: tuple[Component, ...] = ()
    field: str | None = None  # compiled on a top-level stored field (_id, ts) instead of idx


@dataclass(frozen=True)
class Registry:
    by_type: dict[str, dict[str, ParamDef]]
    patient_compartment: dict[str, tuple[str, ...]] = field(default_factory=dict)
    summary: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mandatory: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def types(self) -> list[str]:
        """Every R4 resource type the registry knows."""
        return list(self.by_type)

    def params(self, resource_type: str) -> dict[str, ParamDef]:
        """The parameters of ``resource_type`` by code (empty for an unknown type)."""
        return self.by_type.get(resource_type, {})

    def param(self, resource_type: str, code: str) -> ParamDef | None:
        return self.by_type.get(resource_type, {}).get(code)


def _step(raw: str | dict[str, Any]) -> RouteStep:
    if isinstance(raw, str):
        return RouteStep(raw)
    eq = raw.get("eq")
    return RouteStep(
        key=raw["k"],
        is_type=tuple(raw.get("is", ())),
        eq=(eq[0], eq[1]) if eq else None,
        has_ext=raw.get("hx"),
        ext=raw.get("ext"),
        index=raw.get("i"),
    )


def _route(raw: dict[str, Any]) -> Route:
    return Route(tuple(_step(s) for s in raw["s"]), raw["t"])


def _param(code: str, raw: dict[str, Any]) -> ParamDef:
    return ParamDef(
        code=code,
        type=raw["type"],
        url=raw["url"],
        routes=tuple(_route(r) for r in raw.get("routes", ())),
        multi=bool(raw.get("multi", True)),
        targets=tuple(raw.get("targets", ())),
        components=tuple(
            Component(c["code"], c["type"], tuple(tuple(_route(r) for r in rs) for rs in c["routes"]))
            for c in raw.get("components", ())
        ),
        field=raw.get("field"),
    )


def from_data(data: dict[str, Any]) -> Registry:
    """A registry from the generated table's JSON."""
    return Registry(
        by_type={
            t: {code: _param(code, raw) for code, raw in sorted(params.items())}
            for t, params in sorted(data["types"].items())
        },
        patient_compartment={t: tuple(p) for t, p in data["compartments"]["Patient"].items()},
        summary={t: tuple(v) for t, v in data.get("summary", {}).items()},
        mandatory={t: tuple(v) for t, v in data.get("mandatory", {}).items()},
    )


@lru_cache(maxsize=1)
def load() -> Registry:
    """The registry shipped with the package (built once, then cached)."""
    registry = from_data(json.loads(DATA.read_text(encoding="utf-8")))
    for type_ in fulltext.TYPES:  # full text: values computed by the server, not by routes
        registry.by_type[type_].update({code: ParamDef(code, "string", url) for code, url in fulltext.URLS.items()})
    return registry
