"""The MongoDB adapter's indexes: what every compiled query starts with (docs/scaling.md).

Each type collection: ``ts`` (``_lastUpdated``, type history), the consent attributes
``acl.patient`` (every professional's policy narrows on it; ``$everything``, retention),
``acl.patients`` and ``acl.authors``, and one wildcard index over every search value
(``idx.$**``: each ``idx.<code>`` equality, range or prefix is an index lookup, whatever the
parameter). ``_id`` is MongoDB's own.
"""

from __future__ import annotations

Keys = list[tuple[str, int]]
CONSENT_KEYS: list[Keys] = [[("acl.patient", 1)], [("acl.patients", 1)], [("acl.authors", 1)]]
SEARCH_KEYS: Keys = [("idx.$**", 1)]
#: field paths an index covers: exact fields, and the prefix the wildcard index covers
COVERED = frozenset({"_id", "ts", "acl.patient", "acl.patients", "acl.authors"})
WILDCARD_PREFIX = "idx."


def index_keys(resource_type: str) -> list[Keys]:
    """Every index of ``resource_type``'s collection but ``_id``."""
    # a Binary follows its securityContext document's consent: found by ``acl.context`` when it changes
    extra: list[Keys] = [[("acl.context", 1)]] if resource_type == "Binary" else []
    return [[("ts", 1)], *CONSENT_KEYS, SEARCH_KEYS, *extra]


def covered(field: str) -> bool:
    """Whether a declared index serves conditions on ``field``."""
    return field in COVERED or field.startswith(WILDCARD_PREFIX)
