"""The MongoDB adapter's indexes: what every compiled query starts with (docs/scaling.md).

Each type collection: ``ts`` (``_lastUpdated``, type history), the consent columns
``acl.patient`` (every professional's policy narrows on it, ``$everything``, retention) and
``acl.authors``, ``acl.patients``, and its common search keys: ``identifier`` and the references
that put it in the Patient compartment.
"""
from __future__ import annotations

from search import registry as search_registry

Keys = list[tuple[str, int]]
CONSENT_KEYS: list[Keys] = [[("acl.patient", 1)], [("acl.patients", 1)], [("acl.authors", 1)]]


def search_keys(resource_type: str) -> list[Keys]:
    registry = search_registry.load()
    params = registry.params(resource_type)
    codes = ["identifier"] + list(registry.patient_compartment.get(resource_type, ()))
    return [[(f"idx.{code}", 1)] for code in dict.fromkeys(codes) if code in params and params[code].field is None]


def index_keys(resource_type: str) -> list[Keys]:
    """Every index of ``resource_type``'s collection but ``_id``."""
    return [[("ts", 1)], *CONSENT_KEYS, *search_keys(resource_type)]
