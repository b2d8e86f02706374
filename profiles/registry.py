"""The profile documents shipped in this package: one JSON Schema (2020-12) per profile.

A document is a JSON Schema whose `$id` is the profile's canonical URL. Besides the standard
keywords it carries:

- `x-profile`: {name, type, baseDefinition, status, differential}, the StructureDefinition facts
  (`profiles.summary` renders them);
- `errorMessage` on any subschema: the sentence shown when a keyword inside it fails (the
  nearest one to the failing keyword wins);
- `$defs`: the value sets (code lists) the rules use.
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

# jsonschema keyword -> OperationOutcome issue type.
_CODES = {"required": "required", "enum": "code-invalid", "const": "value", "pattern": "value"}


@dataclass(frozen=True)
class Violation:
    """One failed rule: the element path under the resource, a sentence, an issue code."""

    path: tuple[str | int, ...]
    message: str
    code: str = "invariant"


@dataclass(frozen=True)
class ProfileDoc:
    url: str
    name: str
    title: str
    type: str
    base: str
    status: str
    description: str
    differential: list[dict[str, Any]]
    schema: dict[str, Any] = field(repr=False)
    validator: Draft202012Validator = field(repr=False, compare=False)

    def check(self, resource: dict[str, Any]) -> list[Violation]:
        """Every violation of this profile by `resource` (already a valid R4 `type`)."""
        seen: dict[tuple[tuple[str | int, ...], str], Violation] = {}
        for error in self.validator.iter_errors(resource):
            for violation in _violations(error, self.schema):
                seen.setdefault((violation.path, violation.message), violation)
        return list(seen.values())


def _violations(error: ValidationError, root: dict[str, Any]) -> Iterator[Violation]:
    path = tuple(error.absolute_path)
    message = _message(error, root)
    code = _CODES.get(str(error.validator), "invariant")
    required: Any = error.validator_value
    if error.validator == "required":
        for key in required:
            if isinstance(error.instance, dict) and key not in error.instance:
                yield Violation((*path, key), message or f"'{key}' is required by the profile", code)
    else:
        yield Violation(path, message or error.message, code)


def _message(error: ValidationError, root: dict[str, Any]) -> str | None:
    """The `errorMessage` nearest to the failing keyword along its schema path."""
    found = root.get("errorMessage")
    node: Any = root
    for key in list(error.schema_path)[:-1]:
        while isinstance(node, dict) and key not in node and "$ref" in node:
            node = _resolve(root, node["$ref"])  # jsonschema leaves $ref out of the path
            found = node.get("errorMessage", found)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break  # a path through a $ref with siblings: keep the message found so far
        if isinstance(node, dict):
            found = node.get("errorMessage", found)
    if isinstance(error.schema, dict):
        found = error.schema.get("errorMessage", found)
    return found


def _resolve(root: dict[str, Any], ref: str) -> Any:
    """A local reference such as "#/$defs/nir"."""
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


@functools.cache
def load() -> dict[str, ProfileDoc]:
    """Every shipped profile by canonical URL (read once)."""
    found: dict[str, ProfileDoc] = {}
    for entry in sorted(importlib.resources.files(__package__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            doc = _doc(orjson.loads(entry.read_bytes()))
            found[doc.url] = doc
    return found


def _doc(schema: dict[str, Any]) -> ProfileDoc:
    Draft202012Validator.check_schema(schema)
    facts = schema["x-profile"]
    return ProfileDoc(
        url=schema["$id"],
        name=facts["name"],
        title=schema["title"],
        type=facts["type"],
        base=facts["baseDefinition"],
        status=facts["status"],
        description=schema["description"],
        differential=facts["differential"],
        schema=schema,
        validator=Draft202012Validator(schema),
    )


def get(url: str) -> ProfileDoc | None:
    """The profile with this canonical URL (a `|version` suffix is ignored), or None."""
    return load().get(url.split("|", 1)[0])


def urls() -> list[str]:
    """Canonical URLs of every shipped profile, for CapabilityStatement.rest.resource.supportedProfile."""
    return list(load())


def urls_by_type() -> dict[str, list[str]]:
    """Canonical URLs per resource type."""
    out: dict[str, list[str]] = {}
    for doc in load().values():
        out.setdefault(doc.type, []).append(doc.url)
    return out
