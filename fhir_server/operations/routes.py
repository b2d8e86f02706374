"""The operations' HTTP routes under the FHIR base, generated from ``operations.registry.REGISTRY``:
``[type]/$code`` and ``[type]/[id]/$code``."""

from __future__ import annotations

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import request

from .. import catalog
from .. import http
from .. import rest
from .definition import Call
from .registry import REGISTRY
from .registry import invoke

bp = Blueprint("operations", __name__)
bp.before_request(rest.authenticate)


def _serve(resource_type: str, id_: str | None = None) -> Response:
    catalog.load().entry(resource_type)
    code = request.path.rsplit("$", 1)[1]
    body = http.body_json() if request.method == "POST" and request.get_data(cache=True).strip() else None
    call = Call(resource_type, id_, rest.criteria(), body, http.base_url())
    return http.respond(invoke(request.method, call, code))


def _add_rules() -> None:
    """``[type]/$code`` and ``[type]/[id]/$code`` for each operation (the type fixed when it has one)."""
    for op in REGISTRY:
        single = len(op.types) == 1
        type_ = op.types[0] if single else "<resource_type>"
        defaults = {"resource_type": type_} if single else {}
        if op.type_level:
            bp.add_url_rule(f"/{type_}/${op.code}", f"{op.code}-type", _serve, methods=op.methods, defaults=defaults)
        if op.instance_level:
            bp.add_url_rule(
                f"/{type_}/<id_>/${op.code}", f"{op.code}-instance", _serve, methods=op.methods, defaults=defaults
            )


_add_rules()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp, url_prefix="/fhir")
