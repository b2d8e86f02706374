"""Clients, users and the records of the authorization server, without HTTP.
Integration twins: tests/auth/test_backend.py and tests/auth/test_launch.py."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from fhir_server.auth import accounts
from fhir_server.auth import token_store
from fhir_server.auth.accounts import Db
from fhir_server.auth.models import Approval
from fhir_server.auth.models import User

JWKS = {"keys": [RSAKey.generate_key(2048, auto_kid=True).as_dict(private=False)]}


@pytest.mark.parametrize(
    ("kwargs", "grant_types", "method", "has_secret"),
    [
        ({"scope": "system/*.rs"}, ["client_credentials"], "client_secret_basic", True),
        ({"scope": "system/*.rs", "jwks": JWKS}, ["client_credentials"], "private_key_jwt", False),
        (
            {"scope": "system/*.rs", "jwks_uri": "https://svc.example/jwks"},
            ["client_credentials"],
            "private_key_jwt",
            False,
        ),
        (
            {"scope": "openid patient/*.rs", "redirect_uris": ["https://app.example/cb"]},
            ["authorization_code", "refresh_token"],
            "client_secret_basic",
            True,
        ),
        (
            {
                "scope": "launch/patient user/*.rs",
                "redirect_uris": ["https://app.example/cb"],
                "public": True,
            },
            ["authorization_code", "refresh_token"],
            "none",
            False,
        ),
    ],
)
def test_client_shapes(db: Db, kwargs: dict[str, Any], grant_types: list[str], method: str, has_secret: bool) -> None:
    client_id, secret = accounts.add_client(db, name="c", **kwargs)
    client = accounts.query_client(db, client_id)
    assert client is not None
    assert client.doc["grant_types"] == grant_types and client.doc["token_endpoint_auth_method"] == method
    assert (secret is not None) is has_secret
    if secret:
        assert client.check_client_secret(secret) and not client.check_client_secret(secret + "x")
        assert secret not in str(client.doc)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scope": "user/*.rs"}, "system/ scopes only"),
        (
            {"scope": "system/*.rs", "redirect_uris": ["https://a/cb"]},
            "unknown scope|patient/, user/",
        ),
        ({"scope": "system/Observation.rs?code=1"}, "no queries"),
        ({"scope": "openid"}, "unknown scope"),
        ({"scope": ""}, "at least one scope"),
        ({"scope": "system/*.rs", "public": True}, "needs redirect URIs"),
        ({"scope": "system/*.rs", "jwks": JWKS, "jwks_uri": "https://x/j"}, "not both"),
        (
            {"scope": "user/*.rs", "jwks": JWKS, "redirect_uris": ["https://a/cb"]},
            "no redirect URIs",
        ),
    ],
)
def test_bad_clients(db: Db, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        accounts.add_client(db, name="c", **kwargs)


def test_client_scope_limits(db: Db) -> None:
    client_id, _ = accounts.add_client(db, name="c", scope="system/Patient.rs system/Observation.r")
    client = accounts.query_client(db, client_id)
    assert client is not None
    assert client.get_allowed_scope(None) == "system/Patient.rs system/Observation.r"
    assert client.get_allowed_scope("system/Patient.s system/Patient.s") == "system/Patient.s"
    # RFC 6749 §3.3: the granted subset of what is asked; an error only when nothing is granted
    assert client.get_allowed_scope("system/Patient.r system/Observation.s") == "system/Patient.r"
    with pytest.raises(Exception, match=r"system/Observation\.s"):
        client.get_allowed_scope("system/Observation.s launch/patient")


def test_users(db: Db) -> None:
    assert accounts.add_user(db, "lea", "pw", "Patient/p1") == User("lea", "Patient/p1")
    assert accounts.login(db, "lea", "pw") == User("lea", "Patient/p1")
    assert accounts.login(db, "lea", "PW") is None
    assert accounts.login(db, "nobody", "pw") is None
    assert "pw" not in str(db[accounts.USERS].find_one({"_id": "lea"}))
    with pytest.raises(ValueError, match="exists"):
        accounts.add_user(db, "lea", "other", "Patient/p1")
    with pytest.raises(ValueError, match="fhirUser"):
        accounts.add_user(db, "dev", "pw", "Device/1")


def test_jti_replay(db: Db) -> None:
    soon = time.time() + 60
    assert token_store.use_jti(db, "c1", "j1", soon)
    assert not token_store.use_jti(db, "c1", "j1", soon)
    assert token_store.use_jti(db, "c2", "j1", soon)  # ids are per client
    assert token_store.use_jti(db, "c1", "old", time.time() - 1)
    assert token_store.use_jti(db, "c1", "old", soon)  # forgotten once expired (its exp refuses it first)


def saved(db: Db, jti: str, grant: str, refresh: str | None) -> None:
    now = time.time()
    doc = {
        "_id": jti,
        "client_id": "c",
        "scope": "offline_access",
        "aud": "a",
        "issued": now,
        "expires": now + 60,
        "refresh_expires": now + 600,
        "grant": grant,
        **Approval(User("lea", "Patient/p1"), "a").as_doc(),
    }
    token_store.save_token(db, doc, refresh)


def test_refresh_tokens_and_revocation(db: Db) -> None:
    first = token_store.new_refresh_token("t1")
    saved(db, "t1", "t1", first)
    found = token_store.find_refresh(db, first)
    assert found is not None and found.approval() == Approval(User("lea", "Patient/p1"), "a")
    assert token_store.find_refresh(db, first[:-1] + "x") is None
    assert token_store.find_refresh(db, "t9.secret") is None
    token_store.retire_refresh(db, found)
    assert token_store.find_refresh(db, first) is None
    second = token_store.new_refresh_token("t2")
    saved(db, "t2", "t1", second)  # the rotated token of the same authorization
    saved(db, "other", "other", None)
    token = token_store.find_token(db, "t2")
    assert token is not None and not token_store.is_revoked(db, "t1")
    token_store.revoke(db, token)
    assert token_store.is_revoked(db, "t1") and token_store.is_revoked(db, "t2")
    assert not token_store.is_revoked(db, "other") and not token_store.is_revoked(db, "never-issued")
    assert token_store.find_refresh(db, second) is None
