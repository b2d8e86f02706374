"""The portal's page and its static files. The page carries what the app needs to start (FHIR
base URL, authorization and token endpoints, client id) as ``data-`` attributes, under a strict
Content-Security-Policy: scripts, styles and connections from this server only."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint
from flask import Response
from flask import render_template_string
from flask.blueprints import BlueprintSetupState

from fhir_server import http
from fhir_server.auth import views as auth_views
from fhir_server.portal import client

bp = Blueprint("portal", __name__, static_folder="static", static_url_path="/portal/static")

PAGE = """<!doctype html>
<html lang="fr" data-fhir-base="{{ fhir_base }}" data-authorize="{{ authorize }}"
 data-token="{{ token }}" data-client-id="{{ client_id }}" data-scope="{{ scope }}">
<head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Carnet — mon dossier médical</title>
<link rel="stylesheet" href="/portal/static/portal.css">
<script type="module" src="/portal/static/app.js"></script>
</head><body>
<a class="skip" href="#main">Aller au contenu</a>
<header class="top"><p class="brand">Carnet</p><div id="who" aria-live="polite"></div></header>
<nav id="nav" aria-label="Sections" hidden></nav>
<div id="alert" role="alert" class="alert" hidden></div>
<main id="main" tabindex="-1"><p>Chargement…</p></main>
<div id="status" role="status" aria-live="polite" class="status"></div>
<noscript><p>Le portail a besoin de JavaScript.</p></noscript>
</body></html>"""


@bp.record_once
def register_client(state: BlueprintSetupState) -> None:
    """Register the portal's OAuth client when the app starts (idempotent)."""
    client.register(state.app.extensions["carnet.auth.server"].collections)


@bp.get("/portal", strict_slashes=False)
def page() -> Response:
    server = auth_views.server()
    fhir_base = http.base_url()
    fhir_origin = "{0.scheme}://{0.netloc}".format(urlsplit(fhir_base))
    html = render_template_string(
        PAGE,
        fhir_base=fhir_base,
        authorize=server.url("authorize"),
        token=server.url("token"),
        client_id=client.CLIENT_ID,
        scope=client.SCOPE,
    )
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self' {fhir_origin}; frame-src blob:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return Response(html, headers=headers, mimetype="text/html")
