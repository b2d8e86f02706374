"""Fixtures for the search tests: the registry, an in-memory mongoeco database and a loader that
stores resources the way the server does (``idx`` from search.extract, ``acl.patients`` from
search.compartment, plus any extra ``acl`` given)."""
from __future__ import annotations

from typing import Any
from typing import Callable
from urllib.parse import parse_qsl

import pytest
from mongoeco import MongoClient
from mongoeco.engines.sqlite import SQLiteEngine

from consent.predicate import ALLOW
from consent.predicate import Predicate
from search import compartment
from search import extract
from search import registry as registry_module
from search.registry import Registry

BASE = "http://example.org/fhir"


@pytest.fixture(scope="session")
def registry() -> Registry:
    return registry_module.load()


def stored(reg: Registry, resource: dict[str, Any], acl: dict[str, Any] | None = None,
           ts: str = "2024-01-01T00:00:00.000000Z", deleted: bool = False) -> dict[str, Any]:
    t = resource["resourceType"]
    return {
        "_id": resource["id"], "resource": resource, "vid": 1, "ts": ts, "deleted": deleted,
        "idx": extract.index_values(reg, t, resource),
        "acl": {"patients": compartment.patient_refs(reg, t, resource), **(acl or {})},
    }


class Store:
    """A fresh in-memory database with helpers to load resources and run searches."""

    def __init__(self, reg: Registry) -> None:
        self.registry = reg
        self.client = MongoClient(SQLiteEngine(":memory:"))
        self.db = self.client["carnet_test"]

    def load(self, *resources: dict[str, Any], **kwargs: Any) -> None:
        by_type: dict[str, list[dict[str, Any]]] = {}
        for r in resources:
            by_type.setdefault(r["resourceType"], []).append(stored(self.registry, r, **kwargs))
        for t, docs in by_type.items():
            self.db[t].insert_many(docs)

    def bundle(self, type_: str | list[str], query: str | list[tuple[str, str]],
               policy_for: Callable[[str], Predicate] = lambda t: ALLOW, **kwargs: Any) -> dict[str, Any]:
        from fhir_server import searching

        types = [type_] if isinstance(type_, str) else type_
        params = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else query
        path = types[0] if isinstance(type_, str) else ""
        return searching.search(self.db, self.registry, types, params, policy_for, BASE, path=path, **kwargs)

    def ids(self, type_: str | list[str], query: str, mode: str = "match", **kwargs: Any) -> list[str]:
        b = self.bundle(type_, query, **kwargs)
        return [e["fullUrl"][len(BASE) + 1:] for e in b["entry"] if e["search"]["mode"] == mode]

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def store(registry: Registry) -> Any:
    s = Store(registry)
    yield s
    s.close()


@pytest.fixture(scope="module")
def loaded(registry: Registry) -> Any:
    """The dataset of tests/search/dataset.py, loaded once per module (read-only tests)."""
    from . import dataset

    s = Store(registry)
    for r in dataset.RESOURCES:
        s.load(r, ts=dataset.TS.get(r["id"], "2023-06-01T00:00:00.000000Z"))
    s.load(*dataset.DELETED, deleted=True)
    yield s
    s.close()
