"""The registry of the operations served (https://hl7.org/fhir/R4/operations.html).

``REGISTRY`` is the single list: ``operations.routes`` serves each entry at its URLs, bundle entries
invoke them through ``invoke``, and the CapabilityStatement lists them.
"""

from __future__ import annotations

from typing import Any

from ..dmp import record_operations
from ..errors import MethodNotAllowed
from ..errors import NotFound
from . import everything
from . import summary
from . import validate
from .definition import Call
from .definition import Operation

REGISTRY: tuple[Operation, ...] = (
    everything.OPERATION,
    summary.OPERATION,
    validate.OPERATION,
    *record_operations.OPERATIONS,
)


def find(code: str, resource_type: str, instance: bool) -> Operation:
    """The operation ``$code`` on ``resource_type`` at that level; 404 when none is served."""
    for op in REGISTRY:
        if op.code == code and op.applies_to(resource_type) and (op.instance_level if instance else op.type_level):
            return op
    level = "an instance of " if instance else ""
    raise NotFound(f"Operation ${code} is not supported on {level}{resource_type}")


def invoke(method: str, call: Call, code: str) -> dict[str, Any]:
    """Run ``$code`` for ``call`` (a route or a bundle entry) and return its resource."""
    op = find(code, call.resource_type, call.id is not None)
    if method not in op.methods:
        raise MethodNotAllowed(f"${code} is invoked with {' or '.join(op.methods)}")
    return op.handler(call)
