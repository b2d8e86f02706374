"""The authorization server's HTTP endpoints, and its one page: login and approval
(RFC 6749 §3.1 authorization endpoint, §3.2 token endpoint; RFC 7009, RFC 7662, RFC 7591).

The page is stateless: the user signs in and approves in one form post, so no session cookie
exists to forge. SMART's ``aud`` must name this FHIR server. Scopes a user's kind cannot use are
dropped (the token response says which remain). ``launch/patient`` gives a patient their own
record and asks others for the patient id; a practitioner may state a purpose of use (BTG and
ETREAT need a reason).
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import Blueprint
from flask import Response
from flask import current_app
from flask import render_template_string
from flask import request

from consent.requester import MODE_BY_PURPOSE
from fhir_server.auth import accounts
from fhir_server.auth import scopes as smart
from fhir_server.auth.models import Approval
from fhir_server.auth.models import User
from fhir_server.auth.server import AuthorizationServer
from fhir_server.auth.tokens import FHIR_USER

bp = Blueprint("auth", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Carnet: sign in</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:2rem auto}
label{display:block;margin:.6rem 0}.error{color:#a00}</style></head><body>
<h1>Sign in to Carnet</h1>
<p><strong>{{ client }}</strong> asks for:
{% for scope in scopes %}<code>{{ scope }}</code> {% endfor %}</p>
{% if error %}<p class="error">{{ error }}</p>{% endif %}
<form method="post">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password
<input name="password" type="password" autocomplete="current-password" required></label>
{% if launch_patient %}
<label>Patient id (professionals and relatives) <input name="patient"></label>
{% endif %}
<label>Purpose of use (professionals) <select name="purpose">
<option value="">normal care</option>
{% for purpose in purposes %}<option>{{ purpose }}</option>{% endfor %}</select></label>
<label>Reason (required for BTG and ETREAT) <input name="reason"></label>
<button name="action" value="approve">Approve</button>
<button name="action" value="deny" formnovalidate>Deny</button>
</form></body></html>"""
#: the page must not be framed (clickjacking), cached, or run scripts
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    "Cache-Control": "no-store",
}


def server() -> AuthorizationServer:
    """The authorization server ``init_app`` stored on the current app."""
    found: AuthorizationServer = current_app.extensions["carnet.auth.server"]
    return found


@bp.route("/auth/authorize", methods=["GET", "POST"])
def authorize() -> Response:
    auth = server()
    try:
        grant = auth.get_consent_grant(end_user=None)
        audience = str(grant.request.payload.data.get("aud") or "").rstrip("/")
        if audience not in auth.audiences():
            raise InvalidRequestError(
                f"aud must be this FHIR server's base URL ({auth.audiences()[0]})",
                redirect_uri=grant.redirect_uri,
                state=grant.request.payload.state,
            )
    except OAuth2Error as error:
        return auth.handle_error_response(None, error)  # type: ignore[arg-type,return-value]  # Flask: a Response, no request needed
    requested = grant.client.get_allowed_scope(grant.request.payload.scope).split()
    if request.method == "GET":
        return _page(grant.client.doc["name"], requested)
    if request.form.get("action") != "approve":
        return auth.create_authorization_response(grant=grant, grant_user=None)  # type: ignore[return-value]  # Flask: a Response
    user = accounts.login(auth.collections, request.form.get("username", ""), request.form.get("password", ""))
    if user is None:
        return _page(grant.client.doc["name"], requested, "Wrong username or password.", 401)
    try:
        approval = _approval(user, audience, smart.for_kind(requested, user.kind))
    except ValueError as error:
        return _page(grant.client.doc["name"], requested, str(error), 400)
    return auth.create_authorization_response(grant=grant, grant_user=approval)  # type: ignore[return-value]  # Flask: a Response


def _approval(user: User, audience: str, scopes: list[str]) -> Approval:
    """The launch context and purpose of use the form gives; ValueError when they do not fit."""
    patient = None
    if "launch/patient" in scopes:
        own = user.fhir_user.removeprefix("Patient/") if user.kind == "patient" else None
        patient = own or request.form.get("patient", "").strip()
        if FHIR_USER.fullmatch(f"Patient/{patient}") is None:
            raise ValueError("Give the id of the patient this app will work on.")
    purpose = request.form.get("purpose") or None
    reason = request.form.get("reason", "").strip() or None
    if purpose is not None:
        if user.kind != "practitioner" or purpose not in MODE_BY_PURPOSE:
            raise ValueError("Only professionals state a purpose of use: TREAT, BTG or ETREAT.")
        if MODE_BY_PURPOSE[purpose] != "normal" and not reason:
            raise ValueError(f"{purpose} needs a reason.")
    return Approval(user, audience, patient, purpose, reason if purpose else None)


def _page(client: str, scopes: list[str], error: str | None = None, status: int = 200) -> Response:
    html = render_template_string(
        PAGE,
        client=client,
        scopes=scopes,
        error=error,
        launch_patient="launch/patient" in scopes,
        purposes=list(MODE_BY_PURPOSE),
    )
    return Response(html, status=status, headers=PAGE_HEADERS, mimetype="text/html")


@bp.post("/auth/token")
def token() -> Any:
    return server().create_token_response()


@bp.post("/auth/revoke")
def revoke() -> Any:
    return server().create_endpoint_response("revocation")


@bp.post("/auth/introspect")
def introspect() -> Any:
    return server().create_endpoint_response("introspection")


@bp.post("/auth/register")
def register() -> Any:
    return server().create_endpoint_response("client_registration")
