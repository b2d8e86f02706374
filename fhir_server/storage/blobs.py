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

__all__ = ["CHUNK_SIZE", "Blob", "blob_key", "rechunk", "write_chunks"]

#: GridFS's default is 255 KiB; 256 KiB rows keep SQLite's overflow pages few and reads cheap
CHUNK_SIZE = 256 * 1024


def blob_key(type_: str, id_: str, vid: int) -> str:
    """The key of the content held by version ``vid`` of ``type_/id_``."""
    return f"{type_}/{id_}/{vid}"


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


def write_chunks(chunks: Iterable[bytes], put: Callable[[int, bytes], None]) -> tuple[int, bytes]:
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
