"""The server's own signing key, a JSON Web Key (RFC 7517, https://www.rfc-editor.org/rfc/rfc7517).

One RS256 key lives in ``<data dir>/auth/signing-key.jwk.json`` (mode 0600). It is created on
first use; the ``kid`` is its RFC 7638 thumbprint. Creation is atomic: the key is written whole to
a private temporary file, then hard-linked to its final name, which fails if another process won
the race, so every worker ends up signing with the same key. ``jwks`` publishes the public half.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey

ALGORITHM = "RS256"
KEY_FILE = Path("auth") / "signing-key.jwk.json"


def key_path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / KEY_FILE


def load_or_create_key(data_dir: str | os.PathLike[str]) -> RSAKey:
    """The private signing key of ``data_dir``, generated and stored on first call."""
    return _load_or_create(key_path(data_dir).resolve())


@lru_cache(maxsize=8)
def _load_or_create(path: Path) -> RSAKey:
    if not path.exists():
        _create(path)
    return _imported(path.read_text())


@lru_cache(maxsize=8)
def _imported(jwk: str) -> RSAKey:
    """The key of a JWK text, imported once per process (importing checks the RSA key: ~35 ms)."""
    return RSAKey.import_key(json.loads(jwk))


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(key.as_dict(private=True), out)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, path)  # fails when another process created the key first: theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def key_set(data_dir: str | os.PathLike[str]) -> KeySet:
    """The verification key set of ``data_dir``: the server's key."""
    return _key_set(os.fspath(data_dir))


@lru_cache(maxsize=8)
def _key_set(data_dir: str) -> KeySet:
    return KeySet([load_or_create_key(data_dir)])


def jwks(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The public JWK Set (RFC 7517 §5) served at ``/.well-known/jwks.json``."""
    return dict(key_set(data_dir).as_dict(private=False))
