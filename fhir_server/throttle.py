"""Throttling of failed authentications: client authentications at the token endpoints and
sign-ins on the login page, counted per client, per account and per IP address over a sliding
window (``THROTTLE_FAILURES`` failures in ``THROTTLE_WINDOW_S`` seconds, default 10 in 5 minutes);
past it the endpoint answers 429 with ``Retry-After`` until the window slides.

Failures are server records (``auth_throttle``: one document per failure and key), so every
worker process sees the same counts; each failure is also traced as an AuditEvent (DICOM 110114
User Authentication, outcome 4). Hooks on the app, keyed by endpoint: the auth views are untouched.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import request

from . import clock
from .storage import get_store

RECORDS = "auth_throttle"
#: endpoints where a client authenticates (OAuth 2.0 client authentication)
CLIENT_ENDPOINTS = {"auth.token", "auth.revoke", "auth.introspect"}
SIGN_IN = "auth.authorize"
DCM = "http://dicom.nema.org/resources/ontology/DCM"


def _settings() -> tuple[int, float]:
    config = current_app.config
    return int(config.get("THROTTLE_FAILURES") or 10), float(config.get("THROTTLE_WINDOW_S") or 300)


def _client_id() -> str | None:
    """The client a token-endpoint request names (not yet authenticated)."""
    if request.authorization and request.authorization.username:
        return str(request.authorization.username)
    if request.form.get("client_id"):
        return request.form["client_id"]
    assertion = request.form.get("client_assertion")
    if assertion:
        try:
            payload = assertion.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return str(claims.get("sub") or claims.get("iss") or "") or None
        except (IndexError, ValueError, AttributeError):
            return None
    return None


def _keys() -> list[str]:
    keys = [f"ip:{request.remote_addr or '-'}"]
    if request.endpoint in CLIENT_ENDPOINTS:
        client = _client_id()
        if client:
            keys.append(f"client:{client[:200]}")
    elif request.endpoint == SIGN_IN and request.method == "POST":
        account = (request.form.get("username") or "").strip().lower()
        if account:
            keys.append(f"account:{account[:200]}")
    return keys


def retry_after(keys: list[str]) -> int | None:
    """Seconds until every key in ``keys`` is under the limit again, or None when none is over."""
    limit, window = _settings()
    now = clock.epoch()
    records = get_store().documents(RECORDS)
    wait = 0.0
    for key in keys:
        recent = sorted(d["at"] for d in records.find({"key": key, "at": {"$gt": now - window}}))
        if len(recent) >= limit:
            wait = max(wait, recent[-limit] + window - now)
    return max(1, math.ceil(wait)) if wait > 0 else None


def record_failure(keys: list[str], what: str) -> None:
    """Count a failure against each key, and trace it."""
    _, window = _settings()
    now = clock.epoch()
    records = get_store().documents(RECORDS)
    records.insert_many([{"_id": uuid.uuid4().hex, "key": key, "at": now} for key in keys])
    records.delete_many({"at": {"$lt": now - 2 * window}})
    _audit(keys, what)


def _audit(keys: list[str], what: str) -> None:
    agents: list[dict[str, Any]] = []
    for key in keys:
        kind, _, value = key.partition(":")
        if kind == "ip":
            continue
        agents.append(
            {
                "requestor": True,
                "who": {"identifier": {"system": f"urn:carnet:{kind}", "value": value}},
                "network": {"address": request.remote_addr or "-", "type": "2"},
            }
        )
    if not agents:
        agents.append({"requestor": True, "network": {"address": request.remote_addr or "-", "type": "2"}})
    event = {
        "resourceType": "AuditEvent",
        "type": {"system": DCM, "code": "110114", "display": "User Authentication"},
        "subtype": [{"system": DCM, "code": "110122", "display": "Login"}],
        "action": "E",
        "recorded": clock.instant(),
        "outcome": "4",
        "outcomeDesc": what,
        "agent": agents,
        "source": {"observer": {"display": "Carnet"}},
        # who failed to sign in is for the security officer, not every caller
        "meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"}]},
    }
    get_store().write("AuditEvent", str(uuid.uuid4()), event, method="POST", expected_vid=0)


def _throttled(wait: int) -> Response:
    if request.endpoint == SIGN_IN:
        body, mime = "<!doctype html><title>Carnet</title><p>Too many failed sign-ins: retry later.</p>", "text/html"
    else:
        body = json.dumps(
            {"error": "invalid_client", "error_description": f"too many failed authentications: retry in {wait} s"}
        )
        mime = "application/json"
    return Response(body, status=429, mimetype=mime, headers={"Retry-After": str(wait), "Cache-Control": "no-store"})


def _watched() -> bool:
    return request.endpoint in CLIENT_ENDPOINTS or (request.endpoint == SIGN_IN and request.method == "POST")


def _before() -> Response | None:
    if not _watched():
        return None
    wait = retry_after(_keys())
    return _throttled(wait) if wait else None


def _failed(response: Response) -> str | None:
    if request.endpoint in CLIENT_ENDPOINTS:
        if response.status_code == 401:
            return "client authentication failed"
        if (
            response.status_code == 400
            and response.is_json
            and (response.get_json(silent=True) or {}).get("error") == "invalid_client"
        ):
            return "client authentication failed"
        return None
    if request.endpoint == SIGN_IN and request.method == "POST" and response.status_code == 401:
        return "sign-in failed"
    return None


def _after(response: Response) -> Response:
    if response.status_code != 429 and _watched():
        what = _failed(response)
        if what:
            record_failure(_keys(), what)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_before)
    app.after_request(_after)
    with app.app_context():
        get_store().documents(RECORDS).create_index([("key", 1)])
