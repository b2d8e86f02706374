"""Liveness and readiness for load balancers and orchestrators, without a token.

``GET /healthz``: the process answers (nothing else is checked). ``GET /readyz``: the store
answers a ping within ``READY_TIMEOUT_S``; otherwise 503 with ``Retry-After`` and an
OperationOutcome, so a balancer takes the instance out until its store is back.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as PingTimeout

from flask import Blueprint
from flask import Response
from flask import current_app

from .errors import issue
from .errors import operation_outcome
from .errors_http import RETRY_AFTER_S
from .http import FHIR_JSON
from .http import respond
from .storage import StoreUnavailable
from .storage import as_unavailable
from .storage import get_store

bp = Blueprint("health", __name__)

READY_TIMEOUT_S = 2.0
#: one long-lived thread pings (the embedded store keeps one connection per thread)
_pinger = ThreadPoolExecutor(max_workers=1, thread_name_prefix="carnet-readyz")


@bp.get("/healthz")
def healthz() -> Response:
    return respond({"status": "ok"}, mime="application/json")


def _ping(timeout: float) -> str | None:
    """None when the store answered within ``timeout`` seconds, else why not."""
    store = get_store()
    try:
        _pinger.submit(store.ping).result(timeout)
    except PingTimeout:
        return f"the store did not answer within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure makes the instance not ready
        return str(as_unavailable(exc) or StoreUnavailable(type(exc).__name__))
    return None


@bp.get("/readyz")
def readyz() -> Response:
    problem = _ping(float(current_app.config.get("READY_TIMEOUT_S") or READY_TIMEOUT_S))
    if problem is None:
        return respond({"status": "ready", "store": get_store().kind}, mime="application/json")
    body = operation_outcome([issue("error", "transient", f"Not ready: {problem}")])
    return respond(body, 503, {"Retry-After": str(RETRY_AFTER_S)}, mime=FHIR_JSON)
