"""The server key: created once, private on disk, agreed on by concurrent workers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from fhir_server.auth.keys import jwks
from fhir_server.auth.keys import key_path
from fhir_server.auth.keys import load_or_create_key


def test_created_once_with_private_mode(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    assert stat.S_IMODE(os.stat(key_path(tmp_path)).st_mode) == 0o600
    assert load_or_create_key(tmp_path).kid == key.kid
    assert key.is_private and key.as_dict()["alg"] == "RS256"
    assert [path.name for path in key_path(tmp_path).parent.iterdir()] == [key_path(tmp_path).name]


def test_jwks_is_public(tmp_path: Path) -> None:
    (published,) = jwks(tmp_path)["keys"]
    assert published["kid"] == load_or_create_key(tmp_path).kid
    assert published["kty"] == "RSA" and published["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(published)


def test_concurrent_workers_agree(tmp_path: Path) -> None:
    code = "import sys; from fhir_server.auth.keys import load_or_create_key as k;print(k(sys.argv[1]).kid)"
    workers = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    kids = {worker.communicate()[0].strip() for worker in workers}
    assert kids == {load_or_create_key(tmp_path).kid}
