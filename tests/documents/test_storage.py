"""The blob port on both adapters (issue 13): chunked content, undone with its atomic block,
purged with its resource, copied by a migration with the consent it follows."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from fhir_server.indexing import index_resource
from fhir_server.storage import open_repository
from fhir_server.storage.migrate import migrate


@pytest.fixture(params=["sqlite", "mongodb"])
def repo(request, tmp_path):
    config = {"DATA_DIR": str(tmp_path)} if request.param == "sqlite" else {"MONGODB_URI": "mongoeco://"}
    repo = open_repository(config, index_resource)
    yield repo
    repo.drop()
    repo.close()


def test_chunks_round_trip_and_digest(repo):
    data = os.urandom(700_000)
    size, sha1 = repo.put_blob("Binary/a/1", iter([data[:10], data[10:]]))
    assert (size, sha1) == (len(data), hashlib.sha1(data).digest())
    blob = repo.open_blob("Binary/a/1")
    pieces = list(blob)
    assert blob.size == len(data) and b"".join(pieces) == data and len(pieces) == 3
    assert repo.put_blob("Binary/e/1", iter([])) == (0, hashlib.sha1(b"").digest())
    assert repo.open_blob("Binary/e/1").read() == b""
    assert repo.open_blob("Binary/none/1") is None


def test_content_is_undone_with_its_atomic_block(repo):
    with pytest.raises(KeyError), repo.atomic():
        repo.put_blob("Binary/b/1", iter([b"x"]))
        raise KeyError
    assert repo.open_blob("Binary/b/1") is None


def test_purge_removes_content(repo):
    repo.write("Binary", "p", {"resourceType": "Binary", "contentType": "text/plain"}, method="PUT")
    repo.put_blob("Binary/p/1", iter([b"x"]))
    repo.purge("Binary", ["p"])
    assert repo.open_blob("Binary/p/1") is None


def test_a_binarys_acl_follows_its_document_every_version(repo):
    binary = {
        "resourceType": "Binary",
        "contentType": "text/plain",
        "securityContext": {"reference": "DocumentReference/d"},
    }
    repo.write("Binary", "b", binary, method="PUT")
    repo.write("Binary", "b", binary, method="PUT")
    assert repo.current("Binary", "b").acl["patient"] is None  # no document yet: private
    doc = {
        "resourceType": "DocumentReference",
        "status": "current",
        "subject": {"reference": "Patient/p"},
        "author": [{"reference": "Practitioner/x"}],
    }
    repo.write("DocumentReference", "d", doc, method="PUT")
    for stored in (repo.current("Binary", "b"), repo.version("Binary", "b", 1)):
        assert stored.acl["patient"] == "Patient/p" and stored.acl["authors"] == ["Practitioner/x"]
    masked = {
        **doc,
        "securityLabel": [
            {
                "coding": [
                    {
                        "system": "https://mos.esante.gouv.fr/NOS/TRE_A07-"
                        "StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument",
                        "code": "MASQUE_PS",
                    }
                ]
            }
        ],
    }
    repo.write("DocumentReference", "d", masked, method="PUT")
    assert repo.current("Binary", "b").acl["labels"] == ["MASQUE_PS"]
    assert repo.version("Binary", "b", 1).acl["labels"] == ["MASQUE_PS"]


def test_migration_copies_content_and_consent(repo, tmp_path):
    doc = {"resourceType": "DocumentReference", "status": "current", "subject": {"reference": "Patient/p"}}
    repo.write(
        "Binary",
        "b",
        {
            "resourceType": "Binary",
            "contentType": "text/plain",
            "securityContext": {"reference": "DocumentReference/d"},
        },
        method="PUT",
    )
    repo.put_blob("Binary/b/1", iter([b"hello"]))
    repo.write("DocumentReference", "d", doc, method="PUT")
    target = open_repository({"DATA_DIR": str(tmp_path / "target")}, index_resource)
    try:
        moved = migrate(repo, target, out=io.StringIO())
        assert moved["Binary content"] == 1
        blob, stored = target.open_blob("Binary/b/1"), target.current("Binary", "b")
        assert blob is not None and blob.read() == b"hello"
        assert stored is not None and stored.acl["patient"] == "Patient/p"
    finally:
        target.close()
