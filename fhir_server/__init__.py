"""Carnet's FHIR server: app factory, REST interactions, storage, auth, audit, CLI."""
from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
