"""Data: the official FHIR R4 (4.0.1) JSON Schema, draft-06, gzipped as published.

`fhir.schema.json.gz` comes unchanged from the core package `hl7.fhir.r4.core` 4.0.1
(https://hl7.org/fhir/R4/fhir.schema.json.zip), licence CC0-1.0; `fhir_server.validation`
loads and adapts it.
"""
