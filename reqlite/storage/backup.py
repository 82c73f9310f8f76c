"""Consistent hot backups: a compacted copy of a data directory, taken while it is in use.

LMDB copies an environment from inside one read transaction, so the copy is a
consistent snapshot of the last committed state even while a server keeps writing
(readers never block the writer). The copy is opened here without reqlite's own
directory lock, read-only, through LMDB's multi-process locking — which is what
makes it safe next to a running server.
"""

from __future__ import annotations

import os

import lmdb

from . import layout
from .engine import StorageError


def hot_backup(source: str, dest: str) -> dict:
    """Copy the data directory ``source`` into the new directory ``dest``.

    Returns ``{"bytes": size of the copy, "source": ..., "dest": ...}``. ``dest`` must not
    exist or be empty; the result is a reqlite data directory a server can open.
    """
    source = os.path.abspath(source)
    dest = os.path.abspath(dest)
    if not os.path.isfile(os.path.join(source, "data.mdb")):
        raise StorageError(f"{source} is not a reqlite data directory (no data.mdb)")
    if os.path.exists(dest) and (not os.path.isdir(dest) or os.listdir(dest)):
        raise StorageError(f"backup destination {dest} exists and is not an empty directory")
    os.makedirs(dest, exist_ok=True)
    try:
        env = lmdb.open(source, readonly=True, lock=True, subdir=True, max_dbs=0)
    except lmdb.Error as exc:
        raise StorageError(f"cannot open {source}: {exc}") from exc
    try:
        with env.begin() as txn:
            if txn.get(layout.FORMAT_KEY) != layout.FORMAT_VERSION:
                raise StorageError(f"{source} is not a reqlite data directory of this version")
        env.copy(dest, compact=True)
    finally:
        env.close()
    size = os.path.getsize(os.path.join(dest, "data.mdb"))
    return {"bytes": size, "source": source, "dest": dest}
