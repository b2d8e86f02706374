"""The Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask

from . import bundles
from . import cors
from . import errors_http
from . import export
from . import health
from . import limits
from . import openapi
from . import portal
from . import profile_publication
from . import publication
from . import requestlog
from . import rest
from . import storage
from . import throttle
from . import validation
from .dmp import matrix_endpoint
from .indexing import index_resource
from .operations import routes as operation_routes

DEFAULTS: dict[str, Any] = {
    "DATA_DIR": "./var",
    "MONGODB_URI": None,
    "MONGODB_DATABASE": "carnet",
    "BASE_URL": None,  # default: the request's host + /fhir
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    "DEFAULT_COUNT": 20,
    "MAX_COUNT": 1000,
    "TOKEN_AUDIENCE": None,  # default: the FHIR base URL
    "TOKEN_ISSUER": "carnet",
    "TRUSTED_ISSUERS": [],
    "REQUIRED_PROFILES": {},
    "CLOCK": None,  # tests: a callable returning the current aware datetime
    "EMERGENCY_WINDOW_MINUTES": 15,
    "RETENTION_YEARS": 10,
    "EXPORT_RETENTION_HOURS": 24,
    "ACCESS_MATRIX_FILE": None,  # default: consent/matrix.json
    "REFERENCE_CHECK": True,  # a literal reference to this server must name a live resource (docs/references.md)
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_prefixed_env("CARNET")
        if os.environ.get("MONGODB_URI"):
            app.config["MONGODB_URI"] = os.environ["MONGODB_URI"]
    else:
        app.config.update(test_config)
    data_dir = Path(app.config["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)

    validation.check_required_profiles(app.config["REQUIRED_PROFILES"])
    store = storage.init_app(app, index_resource)
    try:
        requestlog.init_app(app)
        limits.init_app(app)
        throttle.init_app(app)
        rest.init_app(app)
        bundles.init_app(app)
        operation_routes.init_app(app)
        export.init_app(app)
        profile_publication.publish(store)
        publication.publish(store)
        matrix_endpoint.init_app(app)
        errors_http.init_app(app)
        app.register_blueprint(cors.bp)
        app.register_blueprint(health.bp)
        openapi.init_app(app)
        app.register_blueprint(portal.bp)
    except BaseException:
        store.close()  # an unclosed embedded client is finalised on a GC thread and can deadlock
        raise
    app.wsgi_app = _tolerate_trailing_slash(app.wsgi_app)  # type: ignore[method-assign]
    return app


@contextmanager
def command_app(data_dir: str) -> Iterator[Flask]:
    """The app over the store under data_dir, for a one-shot CLI command; its store closed on exit."""
    os.environ["CARNET_DATA_DIR"] = str(Path(data_dir).resolve())
    app = create_app()
    try:
        with app.app_context():
            yield app
    finally:
        storage.get_store_of(app).close()


def _tolerate_trailing_slash(wsgi_app: Any) -> Any:
    """Serve `/fhir/Patient/` as `/fhir/Patient` (every path, one rule)."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            environ["PATH_INFO"] = path.rstrip("/") or "/"
        return wsgi_app(environ, start_response)

    return middleware
