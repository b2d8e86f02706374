"""A MongoDB stand-in: mongoeco's engine served over the MongoDB wire protocol, so the MongoDB
adapter runs through the real pymongo driver where no MongoDB server exists (tests, benchmarks).
mongoeco is a test dependency: this module is for development only."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


async def _serve(path: str, host: str, port: int) -> None:
    from mongoeco.engines.sqlite import SQLiteEngine
    from mongoeco.wire import AsyncMongoEcoProxyServer

    async with AsyncMongoEcoProxyServer(engine=SQLiteEngine(path), host=host, port=port) as server:
        print(server.address.uri, flush=True)
        await asyncio.Event().wait()


def serve(path: str, host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve the store file at ``path`` until killed; prints the MongoDB URI on its first line."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(_serve(path, host, port))
    except KeyboardInterrupt:
        sys.exit(0)
