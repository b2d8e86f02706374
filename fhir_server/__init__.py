"""Carnet's FHIR server: app factory (`fhir_server.app.create_app`), REST interactions, storage,
auth, audit, CLI."""
