"""SMART App Launch discovery (https://hl7.org/fhir/smart-app-launch/conformance.html): the
``/.well-known/smart-configuration`` document, OpenID Connect's ``openid-configuration``, and
the CapabilityStatement ``rest.security``
block that older clients (fhirclient) read the OAuth endpoints from."""

from __future__ import annotations

from typing import Any

from fhir_server.auth.accounts import APP_SCOPES
from fhir_server.auth.assertions import ALGORITHMS
from fhir_server.auth.keys import ALGORITHM
from fhir_server.auth.server import AuthorizationServer

CAPABILITIES = [
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-standalone-patient",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def configuration(server: AuthorizationServer) -> dict[str, Any]:
    """What this server supports, as a SMART client discovers it."""
    return {
        "issuer": server.issuer(),
        "jwks_uri": server.root() + "/.well-known/jwks.json",
        "authorization_endpoint": server.url("authorize"),
        "token_endpoint": server.url("token"),
        "registration_endpoint": server.url("register"),
        "revocation_endpoint": server.url("revoke"),
        "introspection_endpoint": server.url("introspect"),
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": [
            *APP_SCOPES,
            "patient/*.cruds",
            "patient/*.rs",
            "user/*.cruds",
            "user/*.rs",
            "system/*.cruds",
            "system/*.rs",
            "patient/*.read",
            "user/*.read",
            "system/*.read",
            "patient/*.write",
            "user/*.write",
            "system/*.write",
        ],
        "capabilities": CAPABILITIES,
    }


def openid_configuration(server: AuthorizationServer) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 §3 (https://openid.net/specs/openid-connect-discovery-1_0.html):
    the provider metadata, for clients that discover through ``/.well-known/openid-configuration``."""
    smart = configuration(server)
    keys = (
        "issuer",
        "jwks_uri",
        "authorization_endpoint",
        "token_endpoint",
        "registration_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
        "grant_types_supported",
        "response_types_supported",
        "token_endpoint_auth_methods_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "id_token_signing_alg_values_supported",
        "code_challenge_methods_supported",
        "scopes_supported",
    )
    return {
        **{key: smart[key] for key in keys},
        "subject_types_supported": ["public"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser"],
    }


def capability_security(server: AuthorizationServer) -> dict[str, Any]:
    """``CapabilityStatement.rest[0].security``: SMART-on-FHIR with the OAuth endpoint URLs."""
    return {
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                    }
                ]
            }
        ],
        "extension": [
            {
                "url": OAUTH_URIS,
                "extension": [
                    {"url": name, "valueUri": server.url(name)}
                    for name in ("authorize", "token", "register", "revoke", "introspect")
                ],
            }
        ],
    }
