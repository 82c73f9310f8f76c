"""Storage: one LMDB environment per data directory, a catalog, and the single write path.

``Store`` is what the rest of reqlite uses: ``store.catalog`` for databases and tables,
``store.read()`` for a short read transaction, ``await store.write(job)`` to run a job
through the writer thread (group commit, durability) from Trio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import trio

from .catalog import Catalog, DatabaseConfig, TableConfig
from .docs import ANY, DocWrite, get_doc, items_with_prefix, scan, write_docs_job
from .engine import DEFAULT_MAP_SIZE, Engine, StorageError, WriteJob

__all__ = [
    "ANY",
    "Catalog",
    "DatabaseConfig",
    "DocWrite",
    "Engine",
    "Store",
    "StorageError",
    "TableConfig",
    "get_doc",
    "items_with_prefix",
    "scan",
    "write_docs_job",
]


class Store:
    """An open data directory, as the query layer sees it."""

    def __init__(self, path: str, map_size: int = DEFAULT_MAP_SIZE) -> None:
        self.engine = Engine(path, map_size=map_size)
        self.catalog = Catalog(self.engine)
        # A Trio nursery for background work that outlives one query (index builds),
        # set by the server while it runs; None means such work runs inline.
        self.nursery: Any = None
        if self.engine.fresh:
            # RethinkDB creates the `test` database when a server starts on a new directory.
            self.engine.write_blocking(Catalog.create_db_job("test"), catalog=True)

    def read(self):
        """A short read-only LMDB transaction (``with store.read() as txn``); never hold it across an await."""
        return self.engine.read()

    def attach_trio(self) -> None:
        """Route map resizes through the current Trio loop (call from inside trio.run)."""
        token = trio.lowlevel.current_trio_token()
        self.engine.set_resize_handler(token.run_sync_soon)

    def detach_trio(self) -> None:
        self.engine.set_resize_handler(None)

    async def write(self, fn: Callable[[Any], Any], hard: bool = True, catalog: bool = False) -> Any:
        """Run a job in the writer thread; returns once it is committed (and synced, if hard)."""
        token = trio.lowlevel.current_trio_token()
        event = trio.Event()
        job = WriteJob(fn, hard, catalog)

        def notify() -> None:
            try:
                token.run_sync_soon(event.set)
            except trio.RunFinishedError:
                pass

        self.engine.submit(job, notify)
        await event.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def close(self) -> None:
        self.engine.close()
