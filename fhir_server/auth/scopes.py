"""SMART on FHIR resource scopes, v2 syntax with v1 accepted
(https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html).

A scope reads ``<context>/<type or *>.<permissions>``: the context is ``patient``, ``user`` or
``system``; v2 permissions are a subset of ``cruds`` in that order; v1 ``read`` means ``rs``,
``write`` means ``cud`` and ``*`` means ``cruds``. Rules of this server:

- which contexts count depends on the caller's kind: patients and related persons use
  ``patient/`` and ``user/`` scopes, practitioners ``user/`` only (a ``patient/`` scope would
  need a launch patient to narrow to, which a Requester does not carry), system clients
  ``system/`` only;
- a scope with a query (v2 ``patient/Observation.rs?category=laboratory``) grants nothing: query
  restrictions are not supported, so they never widen access;
- scopes that are not resource scopes (``openid``, ``fhirUser``, ``launch/patient``,
  ``offline_access``…) are ignored here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from consent.requester import Kind
from consent.requester import Requester
from fhir_server.errors import Forbidden

#: R4 TypeRestfulInteraction code (plus ``search``) -> SMART v2 permission letter
PERMISSION_BY_INTERACTION: dict[str, str] = {
    "create": "c",
    "read": "r",
    "vread": "r",
    "history-instance": "r",
    "update": "u",
    "patch": "u",
    "delete": "d",
    "search": "s",
    "search-type": "s",
    "history-type": "s",
}
#: requester kind -> scope contexts that grant it anything
CONTEXTS_BY_KIND: dict[Kind, tuple[str, ...]] = {
    "patient": ("patient", "user"),
    "related": ("patient", "user"),
    "practitioner": ("user",),
    "system": ("system",),
}
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}

_SCOPE = re.compile(
    r"(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{0,63})"
    r"\.(?P<permissions>read|write|\*|c?r?u?d?s?)(?:\?(?P<query>.*))?"
)


@dataclass(frozen=True)
class ResourceScope:
    """One parsed resource scope."""

    context: str
    resource_type: str
    permissions: frozenset[str]
    query: str | None = None

    def grants(self, context: str, resource_type: str, permission: str) -> bool:
        return (
            self.query is None
            and self.context == context
            and self.resource_type in ("*", resource_type)
            and permission in self.permissions
        )


@lru_cache(maxsize=1024)
def parse(scope: str) -> ResourceScope | None:
    """The resource scope ``scope`` denotes, or None when it is not one (``openid``, ``.x``…)."""
    match = _SCOPE.fullmatch(scope)
    if match is None or not match["permissions"]:
        return None
    letters = V1_PERMISSIONS.get(match["permissions"], match["permissions"])
    return ResourceScope(match["context"], match["type"], frozenset(letters), match["query"])


def permission(interaction: str) -> str:
    """The SMART permission letter an interaction needs; ValueError for an unknown one."""
    try:
        return PERMISSION_BY_INTERACTION[interaction]
    except KeyError:
        raise ValueError(f"unknown interaction {interaction!r}") from None


def allows(scopes: frozenset[str], kind: Kind, resource_type: str, interaction: str) -> bool:
    """Whether ``scopes`` let a caller of ``kind`` perform ``interaction`` on ``resource_type``."""
    letter = permission(interaction)
    contexts = CONTEXTS_BY_KIND[kind]
    return any(
        parsed is not None and parsed.grants(context, resource_type, letter)
        for parsed in map(parse, scopes)
        for context in contexts
    )


def covers(granted: Iterable[str], requested: str) -> bool:
    """Whether ``requested`` stays within ``granted``: one of them, or a resource scope of the same
    context whose type and permissions a granted one includes (``user/*.rs`` covers
    ``user/Patient.r``). A query-restricted scope is covered by nothing."""
    want = parse(requested)
    if want is None:
        return requested in granted
    if want.query is not None:
        return False
    return any(
        have is not None
        and have.query is None
        and have.context == want.context
        and have.resource_type in ("*", want.resource_type)
        and want.permissions <= have.permissions
        for have in map(parse, granted)
    )


def for_kind(scopes: Iterable[str], kind: Kind) -> list[str]:
    """``scopes`` without the resource scopes a caller of ``kind`` could not use."""
    contexts = CONTEXTS_BY_KIND[kind]
    return [scope for scope in scopes if (parsed := parse(scope)) is None or parsed.context in contexts]


def require(requester: Requester, resource_type: str, interaction: str) -> None:
    """Raise Forbidden, naming the scope needed, unless the requester's scopes allow it."""
    if allows(requester.scopes, requester.kind, resource_type, interaction):
        return
    letter = permission(interaction)
    needed = " or ".join(f"{context}/{resource_type}.{letter}" for context in CONTEXTS_BY_KIND[requester.kind])
    raise Forbidden(f"{interaction} on {resource_type} needs the scope {needed} (or the same on type *)")
