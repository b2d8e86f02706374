"""Binary content kept as content: chunked blobs beside the resources, streamed both ways.

A blob is keyed by the version that holds it (``Binary/<id>/<vid>``): versions are immutable, so
is their content. Both adapters store it in chunks of ``CHUNK_SIZE`` (SQLite: ``blob_chunk``
rows; MongoDB: GridFS's ``fs.files`` / ``fs.chunks`` layout), written in the transaction of the
write that stores the version, and read back one chunk at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

__all__ = ["CHUNK_SIZE", "Blob", "ContentIndexing", "binaries_last", "blob_key", "rechunk", "write_chunks"]

#: GridFS's default is 255 KiB; 256 KiB rows keep SQLite's overflow pages few and reads cheap
CHUNK_SIZE = 256 * 1024


def blob_key(type_: str, id_: str, vid: int) -> str:
    """The key of the content held by version ``vid`` of ``type_/id_``."""
    return f"{type_}/{id_}/{vid}"


def binaries_last(types: Iterable[str]) -> list[str]:
    """``types`` in order, Binary last: a Binary's acl is computed from its securityContext document's."""
    return sorted(types, key=lambda type_: type_ == "Binary")


def rechunk(chunks: Iterable[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """``chunks`` cut again in pieces of exactly ``size`` bytes (the last one shorter)."""
    buffer = bytearray()
    for piece in chunks:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


def write_chunks(chunks: Iterable[bytes], put: Callable[[int, bytes], object]) -> tuple[int, bytes]:
    """Pass each ``CHUNK_SIZE`` piece of ``chunks`` to ``put(n, data)``; returns (size, SHA-1 digest).
    Empty content is one empty chunk, so that a stored blob always has chunk 0."""
    digest, size, n = hashlib.sha1(), 0, 0
    for n, piece in enumerate(rechunk(chunks), start=1):
        digest.update(piece)
        size += len(piece)
        put(n - 1, piece)
    if n == 0:
        put(0, b"")
    return size, digest.digest()


class Blob:
    """Stored content: its ``size`` and its chunks, read lazily once (``iter(blob)``)."""

    def __init__(self, size: int, chunks: Iterator[bytes]) -> None:
        self.size = size
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def read(self) -> bytes:
        """The whole content in memory (the FHIR JSON form, small checks)."""
        return b"".join(self._chunks)


class ContentIndexing:
    """What both adapters compute on a write beyond the resource itself: a Binary's acl from its
    securityContext document, a DocumentReference's ``_content`` from the Binaries it names.
    Adapters provide ``indexer``, ``current``, ``open_blob`` and ``_acl_of`` (the stored acl of a
    ``Type/id``)."""

    indexer: Any

    def _acl_of(self, ref: str) -> dict[str, Any] | None:
        raise NotImplementedError

    def index(self, type_: str, resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """The search values and access attributes a write of ``resource`` stores."""
        if type_ == "Binary":  # a Binary's acl is its securityContext document's
            return self.indexer(type_, resource, context=self._acl_of)  # type: ignore[no-any-return]
        if type_ == "DocumentReference":  # its _content search values read the Binaries it names
            return self.indexer(type_, resource, content=self._content_of)  # type: ignore[no-any-return]
        return self.indexer(type_, resource)  # type: ignore[no-any-return]

    def _content_of(self, ref: str) -> tuple[str | None, bytes] | None:
        """(contentType, bytes) of the current version of Binary ``ref`` (None: none, or too large to index)."""
        from ..fulltext import MAX_EXTRACT_BYTES

        stored = self.current("Binary", ref.partition("/")[2])  # type: ignore[attr-defined]
        blob = self.open_blob(blob_key("Binary", stored.id, stored.vid)) if stored and not stored.deleted else None  # type: ignore[attr-defined]
        if blob is None or blob.size > MAX_EXTRACT_BYTES:
            return None
        return stored.resource.get("contentType"), blob.read()
