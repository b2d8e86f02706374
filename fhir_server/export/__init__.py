"""FHIR Bulk Data Access v2 export (https://hl7.org/fhir/uv/bulkdata/export.html): ``$export`` at
system, Patient and Group level, asynchronous (``jobs``: records in the store, a worker thread,
NDJSON files under ``DATA_DIR/exports``), under the caller's consent policy (``routes``)."""

from __future__ import annotations

from .routes import init_app

__all__ = ["init_app"]
