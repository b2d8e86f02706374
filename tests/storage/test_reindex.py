"""``carnet reindex`` on both adapters brings a Binary's history rows in line with its document: a
vread of an old version is then governed by the document's current consent, as after a write."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from fhir_server.cli import main
from fhir_server.storage import Stored
from fhir_server.storage import get_store_of
from tests.bundles.world import NURSE
from tests.bundles.world import headers
from tests.bundles.world import seed
from tests.documents.test_binary import put_content
from tests.raw import stale_acl
from tests.support import bearer
from tests.support import shared_store

OLD = "/fhir/Binary/pdf/_history/1"
MASKED = "DocumentReference/masque-ps"


def adapter(name: str) -> dict[str, str | None]:
    """``make_app`` settings of a fresh store on ``name``, whatever MONGODB_URI the suite runs with."""
    if name == "sqlite":
        return {"MONGODB_URI": None, "MONGODB_DATABASE": None, "DATABASE_FILE": ":memory:"}
    return {"MONGODB_URI": "mongoeco://", "MONGODB_DATABASE": f"carnet_test_{uuid.uuid4().hex[:12]}"}


def acl(stored: Stored | None) -> dict[str, Any]:
    assert stored is not None
    return stored.acl


@pytest.mark.parametrize("name", ["sqlite", "mongodb"])
@pytest.mark.parametrize(
    ("document", "stale", "status"),
    [("DocumentReference/bilan", ["MASQUE_PS"], 200), ("DocumentReference/masque-ps", [], 404)],
    ids=["visible", "masked"],
)
def test_reindex_brings_a_binarys_history_in_line_with_its_document(make_app, name, document, stale, status):
    """The granted nurse reads the old version of a visible document's content, not a masked one's."""
    app = make_app(**adapter(name))
    client, system = app.test_client(), bearer(app)
    seed(client, system)
    put_content(client, system, "pdf", document, b"v1", "text/plain")
    put_content(client, system, "pdf", document, b"v2", "text/plain")
    store = get_store_of(app)
    right = acl(store.current("Binary", "pdf"))
    stale_acl(store, "Binary", "pdf", {**right, "labels": stale})
    nurse = headers(app, NURSE)
    assert client.get(OLD, headers=nurse).status_code != status  # the stale attributes govern
    assert store.reindex("Binary") == 1
    assert acl(store.version("Binary", "pdf", 1)) == right
    assert client.get(OLD, headers=nurse).status_code == status
    assert store.reindex("Binary") == 0


@pytest.mark.parametrize("uri", [None, "mongoeco://"], ids=["sqlite", "mongodb"])
def test_carnet_reindex_does_the_binaries_after_their_documents(tmp_path, make_app, monkeypatch, uri):
    """A masked document and its Binary both stale (unmasked): one run masks the old version."""
    monkeypatch.delenv("MONGODB_URI", raising=False)
    if uri:
        monkeypatch.setenv("MONGODB_URI", uri)
    app = make_app(**shared_store(tmp_path, monkeypatch))  # a store the command opens again
    client, system = app.test_client(), bearer(app)
    seed(client, system)
    put_content(client, system, "pdf", MASKED, b"v1", "text/plain")
    put_content(client, system, "pdf", MASKED, b"v2", "text/plain")
    store = get_store_of(app)
    for type_, id_ in (("DocumentReference", "masque-ps"), ("Binary", "pdf")):
        stale_acl(store, type_, id_, {**acl(store.current(type_, id_)), "labels": []})
    nurse = headers(app, NURSE)
    assert client.get(OLD, headers=nurse).status_code == 200  # the stale attributes govern
    assert main(["reindex", "--data-dir", str(tmp_path)]) == 0
    assert client.get(OLD, headers=nurse).status_code == 404
