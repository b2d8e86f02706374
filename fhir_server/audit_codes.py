"""The AuditEvent codes shared by the access traces and the emergency-opening traces."""

from __future__ import annotations

PURPOSE = {"normal": "TREAT", "bris_de_glace": "BTG", "centre_15": "ETREAT"}
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
