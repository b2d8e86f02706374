"""Shared by the profile tests: run one profile on a mutated copy of a valid instance."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fhir_server.validation import validate

Mutation = Callable[[dict[str, Any]], Any]


def errors(resource: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [i for i in validate(resource, resource["resourceType"], profiles=[url]) if i["severity"] == "error"]


def assert_rejected(base: dict[str, Any], url: str, mutate: Mutation, expression: str, words: str) -> None:
    """The mutated copy of `base` fails `url` at `expression` with `words` in the sentence."""
    resource = copy.deepcopy(base)
    mutate(resource)
    found = errors(resource, url)
    matching = [i for i in found if i["expression"] == [expression]]
    assert matching, found
    assert any(words in i["diagnostics"] for i in matching), matching
