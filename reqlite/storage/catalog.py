"""Databases and tables: their configs in LMDB, a cached view, and the jobs that change them.

The cached view is rebuilt whenever the writer thread has committed a catalog job
(``Engine.catalog_version`` moves), so lookups on the query path are dict reads.
Catalog-changing functions here return *jobs* (functions of a write transaction) that
the caller submits through the single write path; they report expected conditions
("already exists") in their result rather than raising.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from . import layout
from .docs import items_with_prefix
from .engine import Engine


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    id: str
    name: str
    created_at: float

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "created_at": self.created_at}

    @staticmethod
    def from_json(data: dict[str, Any]) -> DatabaseConfig:
        return DatabaseConfig(data["id"], data["name"], data["created_at"])


@dataclass(frozen=True, slots=True)
class TableConfig:
    id: str
    name: str
    db: str
    database_id: str
    primary_key: str
    created_at: float
    durability: str = "hard"
    indexes: dict[str, Any] = field(default_factory=dict)
    write_hook: Any = None
    shards: int = 1
    docs_prefix: bytes = b""
    index_epoch: int = 0  # changes with every index create/drop (not stored in the JSON)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "db": self.db,
            "database_id": self.database_id,
            "primary_key": self.primary_key,
            "created_at": self.created_at,
            "durability": self.durability,
            "indexes": self.indexes,
            "write_hook": self.write_hook,
            "shards": self.shards,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> TableConfig:
        return TableConfig(
            id=data["id"],
            name=data["name"],
            db=data["db"],
            database_id=data["database_id"],
            primary_key=data["primary_key"],
            created_at=data["created_at"],
            durability=data.get("durability", "hard"),
            indexes=data.get("indexes") or {},
            write_hook=data.get("write_hook"),
            shards=data.get("shards", 1),
            docs_prefix=layout.docs_prefix(data["database_id"], data["id"]),
        )


class Catalog:
    """Cached, read-mostly view of databases and tables, plus the jobs that change them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._version = -1
        self._dbs: dict[str, DatabaseConfig] = {}
        self._tables: dict[tuple[str, str], TableConfig] = {}
        self._tables_by_id: dict[str, TableConfig] = {}

    # -- reads ---------------------------------------------------------------

    def _refresh(self) -> None:
        if self._version == self.engine.catalog_version:
            return
        version = self.engine.catalog_version
        dbs: dict[str, DatabaseConfig] = {}
        tables: dict[tuple[str, str], TableConfig] = {}
        with self.engine.read() as txn:
            for _, value in items_with_prefix(txn, layout.DATABASES):
                d = orjson.loads(value)
                dbs[d["name"]] = DatabaseConfig.from_json(d)
            loaded = [TableConfig.from_json(orjson.loads(v)) for _, v in items_with_prefix(txn, layout.TABLES)]
            for t in loaded:
                epoch = txn.get(layout.index_epoch_key(t.id))
                if epoch:
                    t = replace(t, index_epoch=int(epoch))
                tables[(t.db, t.name)] = t
        self._dbs = dbs
        self._tables = tables
        self._tables_by_id = {t.id: t for t in tables.values()}
        self._version = version

    def databases(self) -> dict[str, DatabaseConfig]:
        self._refresh()
        return self._dbs

    def get_db(self, name: str) -> DatabaseConfig | None:
        self._refresh()
        return self._dbs.get(name)

    def get_table(self, db: str, name: str) -> TableConfig | None:
        self._refresh()
        return self._tables.get((db, name))

    def get_table_by_id(self, table_id: str) -> TableConfig | None:
        self._refresh()
        return self._tables_by_id.get(table_id)

    def tables_of(self, db: str) -> list[TableConfig]:
        self._refresh()
        return [t for (d, _), t in self._tables.items() if d == db]

    def all_tables(self) -> list[TableConfig]:
        self._refresh()
        return list(self._tables.values())

    def doc_count(self, table: TableConfig) -> int:
        with self.engine.read() as txn:
            raw = txn.get(layout.doc_count_key(table.id))
        return int(raw) if raw else 0

    # -- jobs (run in the writer thread) -------------------------------------------

    @staticmethod
    def create_db_job(name: str):
        """Job: create database ``name``; result is the new config, or None if it exists."""

        def job(txn) -> DatabaseConfig | None:
            key = layout.database_key(name)
            if txn.get(key) is not None:
                return None
            cfg = DatabaseConfig(str(uuid.uuid4()), name, time.time())
            txn.put(key, orjson.dumps(cfg.to_json()))
            txn.put(layout.database_id_key(cfg.id), name.encode())
            return cfg

        return job

    @staticmethod
    def drop_db_job(name: str):
        """Job: drop a database with all its tables, documents and indexes.

        Result: ``(DatabaseConfig, [TableConfig…])`` of what was dropped, or None.
        """

        def job(txn):
            key = layout.database_key(name)
            raw = txn.get(key)
            if raw is None:
                return None
            d = orjson.loads(raw)
            cfg = DatabaseConfig.from_json(d)
            dropped = []
            for k, v in items_with_prefix(txn, layout.tables_of_db_prefix(name)):
                t = TableConfig.from_json(orjson.loads(v))
                dropped.append(t)
                _delete_table_keys(txn, t)
                txn.delete(k)
            _delete_prefix(txn, layout.database_prefix(cfg.id))
            txn.delete(key)
            txn.delete(layout.database_id_key(cfg.id))
            return cfg, dropped

        return job

    @staticmethod
    def create_table_job(db: DatabaseConfig, name: str, primary_key: str, durability: str, shards: int = 1):
        """Job: create a table; result is the new TableConfig, None if it exists,
        or the string ``"no_db"`` if the database vanished meanwhile."""

        def job(txn):
            if txn.get(layout.database_key(db.name)) is None:
                return "no_db"
            key = layout.table_key(db.name, name)
            if txn.get(key) is not None:
                return None
            data = {
                "id": str(uuid.uuid4()),
                "name": name,
                "db": db.name,
                "database_id": db.id,
                "primary_key": primary_key,
                "created_at": time.time(),
                "durability": durability,
                "indexes": {},
                "write_hook": None,
                "shards": shards,
            }
            txn.put(key, orjson.dumps(data))
            txn.put(layout.table_id_key(data["id"]), f"{db.name}.{name}".encode())
            txn.put(layout.doc_count_key(data["id"]), b"0")
            return TableConfig.from_json(data)

        return job

    @staticmethod
    def drop_table_job(db: str, name: str):
        """Job: drop a table with its documents and indexes; result: its config or None."""

        def job(txn):
            key = layout.table_key(db, name)
            raw = txn.get(key)
            if raw is None:
                return None
            t = TableConfig.from_json(orjson.loads(raw))
            _delete_table_keys(txn, t)
            txn.delete(key)
            return t

        return job

    @staticmethod
    def update_table_job(db: str, name: str, changes: dict[str, Any]):
        """Job: merge ``changes`` into a table's config (``name``/``db`` changes rename it).

        Result: ``(old TableConfig, new TableConfig)``; None if the table does not exist;
        ``"exists"`` if the new name is taken; ``"no_db"`` if the target database is missing.
        """

        def job(txn):
            key = layout.table_key(db, name)
            raw = txn.get(key)
            if raw is None:
                return None
            data = orjson.loads(raw)
            old = TableConfig.from_json(data)
            data = {**data, **changes}
            if data["db"] != old.db:
                raw_db = txn.get(layout.database_key(data["db"]))
                if raw_db is None:
                    return "no_db"
                data["database_id"] = orjson.loads(raw_db)["id"]
                if data["database_id"] != old.database_id:
                    _move_prefix(txn, layout.table_prefix(old.database_id, old.id),
                                 layout.table_prefix(data["database_id"], old.id))
            new_key = layout.table_key(data["db"], data["name"])
            if new_key != key:
                if txn.get(new_key) is not None:
                    return "exists"
                txn.delete(key)
                txn.put(layout.table_id_key(data["id"]), f"{data['db']}.{data['name']}".encode())
            txn.put(new_key, orjson.dumps(data))
            return old, TableConfig.from_json(data)

        return job

    @staticmethod
    def update_db_job(name: str, new_name: str):
        """Job: rename a database (its tables follow).

        Result: ``(old DatabaseConfig, new DatabaseConfig)``; None if it does not exist;
        ``"exists"`` if ``new_name`` is taken.
        """

        def job(txn):
            key = layout.database_key(name)
            raw = txn.get(key)
            if raw is None:
                return None
            d = orjson.loads(raw)
            old = DatabaseConfig.from_json(d)
            if new_name == name:
                return old, old
            new_key = layout.database_key(new_name)
            if txn.get(new_key) is not None:
                return "exists"
            new = DatabaseConfig(old.id, new_name, old.created_at)
            txn.delete(key)
            txn.put(new_key, orjson.dumps(new.to_json()))
            txn.put(layout.database_id_key(old.id), new_name.encode())
            for k, v in items_with_prefix(txn, layout.tables_of_db_prefix(name)):
                t = orjson.loads(v)
                t["db"] = new_name
                txn.delete(k)
                txn.put(layout.table_key(new_name, t["name"]), orjson.dumps(t))
                txn.put(layout.table_id_key(t["id"]), f"{new_name}.{t['name']}".encode())
            return old, new

        return job

    @staticmethod
    def set_write_hook_job(db: str, name: str, hook: Any):
        """Job: set (or with None remove) a table's write hook.

        Result: ``(old hook, new TableConfig)``, or None if the table does not exist.
        """

        def job(txn):
            key = layout.table_key(db, name)
            raw = txn.get(key)
            if raw is None:
                return None
            data = orjson.loads(raw)
            old_hook = data.get("write_hook")
            data["write_hook"] = hook
            txn.put(key, orjson.dumps(data))
            return old_hook, TableConfig.from_json(data)

        return job


def _index_job(db: str, name: str, change):
    """A job that edits a table's ``indexes`` with ``change(indexes, txn, cfg)``.

    ``change`` returns a result, or raises _IndexJobResult to stop without writing.
    Every index change bumps the table's index epoch, so document writes computed for
    the old set of indexes are recomputed (see docs.write_docs_job's ``epoch``).
    """

    def job(txn):
        key = layout.table_key(db, name)
        raw = txn.get(key)
        if raw is None:
            return None
        data = orjson.loads(raw)
        cfg = TableConfig.from_json(data)
        indexes = dict(data.get("indexes") or {})
        try:
            result = change(indexes, txn, cfg)
        except _IndexJobResult as stop:
            return stop.result
        data["indexes"] = indexes
        txn.put(key, orjson.dumps(data))
        ekey = layout.index_epoch_key(cfg.id)
        epoch = int(txn.get(ekey) or b"0") + 1
        txn.put(ekey, str(epoch).encode())
        return result, TableConfig.from_json(data)

    return job


class _IndexJobResult(Exception):
    def __init__(self, result: Any) -> None:
        self.result = result


def index_create_job(db: str, name: str, index: str, spec: dict[str, Any]):
    """Job: add a (not yet built) secondary index. Result: ``(spec, TableConfig)``,
    ``"exists"``, or None if the table is gone."""

    def change(indexes, txn, cfg):
        if index in indexes:
            raise _IndexJobResult("exists")
        indexes[index] = spec
        return spec

    return _index_job(db, name, change)


def index_drop_job(db: str, name: str, index: str):
    """Job: drop a secondary index and its entries. Result: ``(spec, TableConfig)``,
    ``"missing"``, or None if the table is gone."""

    def change(indexes, txn, cfg):
        spec = indexes.pop(index, None)
        if spec is None:
            raise _IndexJobResult("missing")
        _delete_prefix(txn, layout.sindex_prefix(cfg.database_id, cfg.id, spec["id"]))
        return spec

    return _index_job(db, name, change)


def index_rename_job(db: str, name: str, old: str, new: str, overwrite: bool):
    """Job: rename an index (entries are keyed by index id, so nothing moves).

    Result: ``(renamed: bool, TableConfig)``, ``"missing"``, ``"exists"``, or None."""

    def change(indexes, txn, cfg):
        if old not in indexes:
            raise _IndexJobResult("missing")
        if old == new:
            raise _IndexJobResult((False, cfg))
        if new in indexes:
            if not overwrite:
                raise _IndexJobResult("exists")
            dropped = indexes.pop(new)
            _delete_prefix(txn, layout.sindex_prefix(cfg.database_id, cfg.id, dropped["id"]))
        indexes[new] = indexes.pop(old)
        return True

    return _index_job(db, name, change)


def index_ready_job(table_id: str, index_id: str):
    """Job: mark an index built, if it still exists. Result: True if marked."""

    def job(txn):
        raw_name = txn.get(layout.table_id_key(table_id))
        if raw_name is None:
            return False
        key = layout.TABLES + raw_name
        raw = txn.get(key)
        if raw is None:
            return False
        data = orjson.loads(raw)
        for spec in (data.get("indexes") or {}).values():
            if spec.get("id") == index_id:
                spec["ready"] = True
                txn.put(key, orjson.dumps(data))
                return True
        return False

    return job


def index_entries_job(table_id: str, index_id: str, items: list[tuple[bytes, bytes, list[tuple[bytes, bytes]]]]):
    """Job for an index build: for each ``(doc_key, doc_bytes, entries)``, put the entries
    if the document still holds ``doc_bytes`` (a document written meanwhile was indexed
    by its writer). Result: False if the index no longer exists (stop building)."""

    def job(txn):
        raw_name = txn.get(layout.table_id_key(table_id))
        if raw_name is None:
            return False
        raw = txn.get(layout.TABLES + raw_name)
        if raw is None or not any(
            s.get("id") == index_id for s in (orjson.loads(raw).get("indexes") or {}).values()
        ):
            return False
        get = txn.get
        put = txn.put
        for doc_key, doc_bytes, entries in items:
            if get(doc_key) == doc_bytes:
                for k, v in entries:
                    put(k, v)
        return True

    return job


def sync_job(txn) -> bool:
    """Job that writes nothing: submitted with ``hard=True`` it returns once everything
    committed before it is flushed to disk (``table.sync()``)."""
    return True


def _move_prefix(txn, old: bytes, new: bytes) -> None:
    """Move every key under ``old`` to the same suffix under ``new``."""
    for k, v in items_with_prefix(txn, old):
        txn.delete(k)
        txn.put(new + k[len(old):], v)


def _delete_prefix(txn, prefix: bytes) -> int:
    cur = txn.cursor()
    n = 0
    if not cur.set_range(prefix):
        return 0
    while True:
        key = cur.key()
        if not key.startswith(prefix):
            break
        if not cur.delete():
            break
        n += 1
    return n


def _delete_table_keys(txn, t: TableConfig) -> None:
    _delete_prefix(txn, layout.table_prefix(t.database_id, t.id))
    txn.delete(layout.table_id_key(t.id))
    txn.delete(layout.doc_count_key(t.id))
    txn.delete(layout.index_epoch_key(t.id))
