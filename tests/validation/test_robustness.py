"""Random damage to valid resources never makes validation raise: it answers with issues."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

import profiles
from fhir_server.validation import validate
from tests.support import examples

DAMAGE: list[Any] = [
    None,
    "",
    0,
    -1,
    1.5,
    2**70,
    True,
    "yes",
    [],
    {},
    [None],
    [{}],
    {"a": 1},
    "2023-02-30",
    "x" * 100,
    ["x"],
    [1, 2],
    {"resourceType": "Patient"},
    {"resourceType": "Foo"},
    {"resourceType": ""},
    {"resourceType": None},
    {"resourceType": ["Patient"]},
    {"extension": [{}]},
    "<div>",
    {"url": "x"},
    {"div": 5},
]


def paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from paths(child, (*path, key))


@pytest.mark.parametrize("seed", range(4))
def test_damaged_examples_get_issues_not_exceptions(seed: int) -> None:
    rng = random.Random(seed)
    bases = [json.loads(path.read_text()) for path in examples()]
    for _ in range(500):
        resource = copy.deepcopy(rng.choice(bases))
        resource_type = resource["resourceType"]
        *parents, last = rng.choice(list(paths(resource))[1:])
        target = resource
        for key in parents:
            target = target[key]
        target[last] = copy.deepcopy(rng.choice(DAMAGE))
        issues = validate(resource, resource_type, profiles=profiles.urls_by_type().get(resource_type, []))
        assert all({"severity", "code", "diagnostics", "expression"} <= set(i) for i in issues)
