"""Fixtures for the search tests: the registry, and a store on each adapter (SQLite, and MongoDB on
its in-process stand-in) loaded the way the server stores resources (search values and access
attributes computed at write time, plus any extra ``acl`` given)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import orjson
import pytest

from consent.predicate import ALLOW
from consent.predicate import Predicate
from fhir_server.indexing import index_resource
from fhir_server.storage import Repository
from fhir_server.storage import Scoped
from fhir_server.storage import Stored
from fhir_server.storage import open_repository
from search import registry as registry_module
from search.registry import Registry

BASE = "http://example.org/fhir"
ADAPTERS = ["sqlite", "mongodb"]


def open_store(adapter: str, data_dir: Path) -> Repository:
    config = {"DATA_DIR": str(data_dir)} if adapter == "sqlite" else {"MONGODB_URI": "mongoeco://"}
    return open_repository(config, index_resource)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return registry_module.load()


def as_sent(bundle: dict[str, Any]) -> dict[str, Any]:
    """The Bundle as a client reads it (stored resources are embedded as their JSON bytes)."""
    return orjson.loads(orjson.dumps(bundle))


class Store:
    """A fresh store with helpers to load resources and run searches."""

    def __init__(self, reg: Registry, repo: Repository) -> None:
        self.registry = reg
        self.repo = repo

    def load(
        self,
        *resources: dict[str, Any],
        acl: dict[str, Any] | None = None,
        ts: str = "2024-01-01T00:00:00.000000Z",
        deleted: bool = False,
    ) -> None:
        self.repo.restore([Stored(r["resourceType"], r["id"], 1, ts, deleted, r, acl or {}) for r in resources])

    def bundle(
        self,
        type_: str | list[str],
        query: str | list[tuple[str, str]],
        policy_for: Callable[[str], Predicate] = lambda t: ALLOW,
        **kwargs: Any,
    ) -> dict[str, Any]:
        from fhir_server import searchset

        types = [type_] if isinstance(type_, str) else type_
        params = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else query
        path = types[0] if isinstance(type_, str) else ""
        bundle, _ = searchset.search(
            Scoped(self.repo, policy_for), self.registry, types, params, BASE, path=path, **kwargs
        )
        return as_sent(bundle)

    def ids(self, type_: str | list[str], query: str, mode: str = "match", **kwargs: Any) -> list[str]:
        b = self.bundle(type_, query, **kwargs)
        return [e["fullUrl"][len(BASE) + 1 :] for e in b["entry"] if e["search"]["mode"] == mode]

    def close(self) -> None:
        self.repo.close()


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, registry: Registry, tmp_path: Path) -> Any:
    s = Store(registry, open_store(request.param, tmp_path))
    yield s
    s.close()


@pytest.fixture(scope="module", params=ADAPTERS)
def loaded(request: pytest.FixtureRequest, registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The dataset of tests/search/dataset.py, loaded once per module and adapter (read-only tests)."""
    from . import dataset

    s = Store(registry, open_store(request.param, tmp_path_factory.mktemp("loaded")))
    for r in dataset.RESOURCES:
        s.load(r, ts=dataset.TS.get(r["id"], "2023-06-01T00:00:00.000000Z"))
    s.load(*dataset.DELETED, deleted=True)
    yield s
    s.close()
