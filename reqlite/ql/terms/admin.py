"""Administration: table and database ``config``/``status``/``wait``/``reconfigure``/
``rebalance``/``sync``, ``info``, write hooks, and the system database ``rethinkdb``.

reqlite is a single server, so the cluster-shaped answers RethinkDB gives are answered
for one server: every table has its ``shards`` (as configured) on this server, every
replica is ready, ``wait`` returns at once and ``rebalance`` has nothing to move.

The system database's tables (``table_config``, ``table_status``, ``db_config``,
``stats``, ``server_config`` …) are *virtual*: their rows are computed from the catalog.
So that every read term works on them unchanged (``get``, ``filter``, ``between``,
``count`` …), opening one writes its current rows under a key prefix of its own
(``materialize``), and reads then go through the ordinary storage path. Writes to them
(``r.table('t').config().update({'name': 'u'})`` renames a table) are routed by
``apply_writes`` to ``SystemTable.apply_system_writes``, which turns each row change into
a catalog change. ``_debug_scratch`` is an ordinary, writable scratch table.
"""

from __future__ import annotations

import base64
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import trio

from ...datum.keys import encode_key
from ...datum.order import datum_eq
from ...datum.printing import print_datum
from ...datum.types import REQL_TYPE, _Extreme, type_name
from ...errors import ReqlOpFailedError, ReqlQueryLogicError
from ...storage import Catalog, DatabaseConfig, TableConfig, items_with_prefix, layout, users
from ...storage.catalog import sync_job
from ...storage.users import ADMIN
from ...wire.ql2 import TermType as T
from ...wire.scram import DEFAULT_ITERATIONS, make_scram_credentials
from ..permissions import (
    SYSTEM_DB_ID,
    SYSTEM_NS,
    change_scope,
    eval_target,
    parse_permissions,
    require,
    require_db_drop,
)
from ..permissions import as_datum as perm_datum
from ..streams import Stream, TableScan
from ..term import (
    DatumTerm,
    Term,
    as_bool,
    as_datum,
    as_function,
    as_int,
    as_string,
    register,
    type_error,
)
from ..values import Database, Function, GroupedData, SingleSelection, Table, kind_of, type_of
from .db_table import (
    SYSTEM_DB,
    WRITE_HOOK_PREFIX,
    check_name,
    my_name,
    table_config_doc,
    write_hook_datum,
)

# -- the system database -----------------------------------------------------------------

_NS = SYSTEM_NS
SYSTEM_DB_CONFIG = DatabaseConfig(SYSTEM_DB_ID, SYSTEM_DB, 0.0)

Rows = Callable[[Any, str], list[dict]]
RowWriter = Callable[[Any, "SystemTable", Any, Any], Awaitable[None]]


class SystemTableSpec:
    """One table of the ``rethinkdb`` database: how to compute its rows and apply writes."""

    __slots__ = ("name", "rows", "write_row", "virtual")

    def __init__(self, name: str, rows: Rows | None, write_row: RowWriter | None, virtual: bool = True) -> None:
        self.name = name
        self.rows = rows
        self.write_row = write_row
        self.virtual = virtual


SYSTEM_TABLES: dict[str, SystemTableSpec] = {}


def system_table(name: str, write_row: RowWriter | None = None, virtual: bool = True):
    """Decorator registering the row function of a system table."""

    def deco(fn: Rows) -> Rows:
        SYSTEM_TABLES[name] = SystemTableSpec(name, fn, write_row, virtual)
        return fn

    return deco


def system_database() -> Database:
    return Database(SYSTEM_DB_CONFIG)


def _system_table_config(name: str, fmt: str) -> TableConfig:
    tid = str(uuid.uuid5(_NS, f"table:{name}"))
    # Rows shown with uuid identifiers live under a prefix of their own.
    store_id = tid if fmt == "name" or not SYSTEM_TABLES[name].virtual else str(uuid.uuid5(_NS, f"uuid:{name}"))
    return TableConfig(
        id=tid,
        name=name,
        db=SYSTEM_DB,
        database_id=SYSTEM_DB_ID,
        primary_key="id",
        created_at=0.0,
        docs_prefix=layout.docs_prefix(SYSTEM_DB_ID, store_id),
    )


class SystemTable(Table):
    """A table of the ``rethinkdb`` database (see the module docstring)."""

    __slots__ = ("spec", "fmt")

    def __init__(self, spec: SystemTableSpec, fmt: str = "name", read_mode: str = "single") -> None:
        super().__init__(SYSTEM_DB_CONFIG, _system_table_config(spec.name, fmt), read_mode)
        self.spec = spec
        self.fmt = fmt

    def rows(self, q: Any) -> list[dict]:
        assert self.spec.rows is not None
        return self.spec.rows(q, self.fmt)

    def row(self, q: Any, key: Any) -> Any:
        for r in self.rows(q):
            if datum_eq(r["id"], key):
                return r
        return None

    async def apply_system_writes(self, q: Any, items: list, out: Any) -> None:
        """Writes to a virtual system table: each row change becomes a catalog change."""
        from .writes import _NO_CHANGE, WriteError, _error_message

        if self.spec.write_row is None and not self.spec.virtual:
            # An ordinary table (_debug_scratch): the normal storage path.
            from . import writes

            plain = Table(self.db, self.config, self.read_mode)
            await writes.apply_writes(q, plain, items, out)
            return
        results: list[Any] = []
        for key, compute in items:
            if compute is None:
                results.append(out.error(key.message, None))
                continue
            old = self.row(q, key)
            try:
                new = await compute(old)
                if new is _NO_CHANGE:
                    new = old
                if new is not None:
                    if new.__class__ is not dict:
                        raise WriteError(
                            f"Inserted value must be an OBJECT (got {type_name(new)}):\n{print_datum(new)}"
                        )
                    if "id" not in new:
                        raise WriteError(f"Inserted object must have primary key `id`:\n{print_datum(new)}")
                    if not datum_eq(new["id"], key):
                        raise WriteError(
                            f"Primary key `id` cannot be changed (`{print_datum(old)}` -> `{print_datum(new)}`)."
                        )
                if old is None and new is None:
                    results.append(out.done("skipped", None, None))
                    continue
                if old is not None and new is not None and datum_eq(old, new):
                    results.append(out.done("unchanged", old, new))
                    continue
                if self.spec.write_row is None:
                    raise WriteError(f"It's illegal to write to the `rethinkdb.{self.spec.name}` table.")
                await self.spec.write_row(q, self, old, new)
            except WriteError as exc:
                results.append(out.error(exc.message, old))
                continue
            except (ReqlQueryLogicError, ReqlOpFailedError) as exc:
                results.append(out.error(_error_message(exc), old))
                continue
            kind = "inserted" if old is None else "deleted" if new is None else "replaced"
            after = self.row(q, key) if new is not None else None
            if after is None and new is not None and self.spec.name == "permissions":
                # The write emptied the row (permissions set to nothing but nulls).
                if old is None:
                    results.append(out.done("skipped", None, None))
                    continue
                kind = "deleted"
            results.append(out.done(kind, old, after))
        out.add(results)


async def materialize(q: Any, table: SystemTable) -> None:
    """Write a virtual system table's current rows where reads will find them."""
    if not table.spec.virtual:
        return
    prefix = table.config.docs_prefix
    count_key = layout.doc_count_key(table.config.id)
    rows = sorted(((encode_key(r["id"]), orjson.dumps(r)) for r in table.rows(q)), key=lambda kv: kv[0])
    count = str(len(rows)).encode()
    with q.store.read() as txn:
        existing = [(k[len(prefix):], v) for k, v in items_with_prefix(txn, prefix)]
        same_count = txn.get(count_key) == count
    if existing == rows and same_count:
        return
    changes = _row_changes(existing, rows)

    def job(txn: Any) -> None:
        cur = txn.cursor()
        if cur.set_range(prefix):
            while cur.key().startswith(prefix):
                if not cur.delete():
                    break
        for k, v in rows:
            txn.put(prefix + k, v)
        txn.put(count_key, count)

    await q.store.write(job, hard=False)
    if changes:
        from ..feeds import publish

        publish(q, table.config, changes)


def _row_changes(before: list[tuple[bytes, bytes]], after: list[tuple[bytes, bytes]]) -> list[tuple[Any, Any]]:
    """(old, new) row pairs between two materialisations (for changefeeds on system tables)."""
    old = dict(before)
    new = dict(after)
    out: list[tuple[Any, Any]] = []
    for k in sorted(old.keys() | new.keys()):
        o, n = old.get(k), new.get(k)
        if o != n:
            out.append((orjson.loads(o) if o is not None else None, orjson.loads(n) if n is not None else None))
    return out


async def open_system_table(q: Any, name: str, fmt: str = "name", read_mode: str = "single") -> SystemTable:
    spec = SYSTEM_TABLES.get(name)
    if spec is None:
        check_name("Table", name)
        raise ReqlOpFailedError(f"Table `{SYSTEM_DB}.{name}` does not exist.")
    table = SystemTable(spec, fmt, read_mode)
    await materialize(q, table)
    return table


def system_table_names() -> list[str]:
    return sorted(n for n in SYSTEM_TABLES if not n.startswith("_"))


# -- identity of this server ---------------------------------------------------------------

_STARTED = time.time()


def my_id(q: Any) -> str:
    server = getattr(q, "server", None)
    sid = getattr(server, "id", None)
    if sid:
        return sid
    with q.store.read() as txn:
        raw = txn.get(b"__meta__:server_id")
    return raw.decode() if raw else str(uuid.uuid5(_NS, "server"))


def _time(t: float) -> dict:
    return {REQL_TYPE: "TIME", "epoch_time": round(t, 3), "timezone": "+00:00"}


# -- row builders ----------------------------------------------------------------------------


def config_row(q: Any, t: TableConfig, fmt: str = "name") -> dict:
    doc = table_config_doc(t, my_name(q))
    if fmt == "uuid":
        doc["db"] = t.database_id
    return doc


def status_row(q: Any, t: TableConfig, fmt: str = "name") -> dict:
    me = my_name(q)
    return {
        "db": t.db if fmt == "name" else t.database_id,
        "id": t.id,
        "name": t.name,
        "raft_leader": me,
        "shards": [
            {"primary_replicas": [me], "replicas": [{"server": me, "state": "ready"}]}
            for _ in range(max(1, t.shards))
        ],
        "status": {
            "all_replicas_ready": True,
            "ready_for_outdated_reads": True,
            "ready_for_reads": True,
            "ready_for_writes": True,
        },
    }


def _all_tables(q: Any) -> list[TableConfig]:
    return sorted(q.catalog.all_tables(), key=lambda t: (t.db, t.name))


@system_table("table_config", write_row=None)  # write_row set below
def _table_config_rows(q: Any, fmt: str) -> list[dict]:
    return [config_row(q, t, fmt) for t in _all_tables(q)]


@system_table("table_status")
def _table_status_rows(q: Any, fmt: str) -> list[dict]:
    return [status_row(q, t, fmt) for t in _all_tables(q)]


@system_table("db_config", write_row=None)
def _db_config_rows(q: Any, fmt: str) -> list[dict]:
    return [{"id": d.id, "name": d.name} for d in q.catalog.databases().values()]


@system_table("server_config")
def _server_config_rows(q: Any, fmt: str) -> list[dict]:
    return [{"cache_size_mb": "auto", "id": my_id(q), "name": my_name(q), "tags": ["default"]}]


@system_table("server_status")
def _server_status_rows(q: Any, fmt: str) -> list[dict]:
    conn = getattr(q, "conn", None)
    port = getattr(conn, "local_port", None)
    return [
        {
            "id": my_id(q),
            "name": my_name(q),
            "network": {
                "canonical_addresses": [{"host": "127.0.0.1", "port": 29015}],
                "cluster_port": 29015,
                "connected_to": {},
                "hostname": my_name(q),
                "http_admin_port": "<no http admin>",
                "reql_port": port if port is not None else 28015,
                "time_connected": _time(_STARTED),
            },
            "process": {
                "argv": ["reqlite"],
                "cache_size_mb": 100,
                "pid": os.getpid(),
                "time_started": _time(_STARTED),
                "version": "rethinkdb 2.4.4 (reqlite)",
            },
        }
    ]


@system_table("cluster_config")
def _cluster_config_rows(q: Any, fmt: str) -> list[dict]:
    return [{"heartbeat_timeout_secs": 10, "id": "heartbeat"}]


@system_table("current_issues")
def _issues_rows(q: Any, fmt: str) -> list[dict]:
    return []


async def _write_job(q: Any, table: SystemTable, old: Any, new: Any) -> None:
    """Deleting a query's row kills that query; nothing else about jobs is writable."""
    from .writes import WriteError

    if new is not None or old is None:
        raise WriteError("It's illegal to write to the `rethinkdb.jobs` table.")
    if old.get("type") != "query":
        raise WriteError(f"Jobs of type `{old.get('type')}` cannot be interrupted.")
    server = getattr(q, "server", None)
    for conn in list(getattr(server, "connections", ())):
        if conn.kill_job(old["id"][1]):
            return


@system_table("jobs", write_row=_write_job)
def _jobs_rows(q: Any, fmt: str) -> list[dict]:
    """Running queries of every connection, and index builds, as RethinkDB lists them."""
    from ..indexing import BUILD_PROGRESS

    me = my_name(q)
    rows: list[dict] = []
    server = getattr(q, "server", None)
    for conn in list(getattr(server, "connections", ())):
        rows.extend(conn.job_rows(me))
    for cfg in q.catalog.all_tables():
        for name, spec in cfg.indexes.items():
            progress = BUILD_PROGRESS.get(spec["id"])
            if progress is None:
                continue
            done, total = progress
            rows.append(
                {
                    "duration_sec": None,
                    "id": ["index_construction", spec["id"]],
                    "info": {"db": cfg.db, "index": name, "progress": (done / total) if total else 0, "table": cfg.name},
                    "servers": [me],
                    "type": "index_construction",
                }
            )
    return rows


@system_table("logs")
def _logs_rows(q: Any, fmt: str) -> list[dict]:
    return []


@system_table("permissions")
def _permissions_rows(q: Any, fmt: str) -> list[dict]:
    return permission_rows(q, fmt)


@system_table("users")
def _users_rows(q: Any, fmt: str) -> list[dict]:
    with q.store.read() as txn:
        return [{"id": name, "password": bool(doc.get("has_password"))} for name, doc in users.all_users(txn)]


@system_table("stats")
def _stats_rows(q: Any, fmt: str) -> list[dict]:
    me, sid = my_name(q), my_id(q)
    server = getattr(q, "server", None)
    nconn = len(getattr(server, "connections", ()) or ())
    rows: list[dict] = [
        {
            "id": ["cluster"],
            "query_engine": {
                "client_connections": nconn,
                "clients_active": nconn,
                "queries_per_sec": 0,
                "read_docs_per_sec": 0,
                "written_docs_per_sec": 0,
            },
        },
        {
            "id": ["server", sid],
            "query_engine": {
                "client_connections": nconn,
                "clients_active": nconn,
                "queries_per_sec": 0,
                "queries_total": 0,
                "read_docs_per_sec": 0,
                "read_docs_total": 0,
                "written_docs_per_sec": 0,
                "written_docs_total": 0,
            },
            "server": me,
        },
    ]
    for t in _all_tables(q):
        db = t.db if fmt == "name" else t.database_id
        rows.append(
            {
                "db": db,
                "id": ["table", t.id],
                "query_engine": {"read_docs_per_sec": 0, "written_docs_per_sec": 0},
                "table": t.name,
            }
        )
        rows.append(
            {
                "db": db,
                "id": ["table_server", t.id, sid],
                "query_engine": {
                    "read_docs_per_sec": 0,
                    "read_docs_total": 0,
                    "written_docs_per_sec": 0,
                    "written_docs_total": 0,
                },
                "server": me,
                "storage_engine": {
                    "cache": {"in_use_bytes": 0},
                    "disk": {
                        "read_bytes_per_sec": 0,
                        "read_bytes_total": 0,
                        "space_usage": {"data_bytes": 0, "garbage_bytes": 0, "metadata_bytes": 0, "preallocated_bytes": 0},
                        "written_bytes_per_sec": 0,
                        "written_bytes_total": 0,
                    },
                },
                "table": t.name,
            }
        )
    return rows


SYSTEM_TABLES["_debug_scratch"] = SystemTableSpec("_debug_scratch", None, None, virtual=False)


# -- writes to table_config and db_config --------------------------------------------------

_TABLE_CONFIG_KEYS = frozenset(
    {"db", "durability", "id", "indexes", "name", "primary_key", "shards", "write_acks", "write_hook"}
)


def _wrong_format(msg: str) -> ReqlOpFailedError:
    return ReqlOpFailedError(
        f"The change you're trying to make to `rethinkdb.table_config` has the wrong format. {msg}"
    )


def _db_by_ref(q: Any, ref: Any, fmt: str) -> DatabaseConfig:
    if ref.__class__ is not str:
        raise _wrong_format(f"In `db`: Expected a string; got {print_datum(ref)}.")
    for d in q.catalog.databases().values():
        if (d.name if fmt == "name" else d.id) == ref:
            return d
    if fmt == "name":
        raise ReqlOpFailedError(f"Database `{ref}` does not exist.")
    raise ReqlOpFailedError(f"There is no database with UUID `{ref}`.")


async def _write_table_config(q: Any, table: SystemTable, old: Any, new: Any) -> None:
    if old is not None and not q.user_is_admin:
        current = q.catalog.get_table_by_id(old["id"])
        if current is not None:
            require(q, "config", current.database_id, current.id)
    if new is None:  # deleting a row drops the table
        res = await q.store.write(Catalog.drop_table_job(old_db_name(q, old, table.fmt), old["name"]), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Table `{old['name']}` does not exist.")
        return
    extra = sorted(k for k in new if k not in _TABLE_CONFIG_KEYS)
    if extra:
        raise _wrong_format(f"Unexpected key(s) `{'`, `'.join(extra)}`.")
    for k in ("name", "db"):
        if k not in new:
            raise _wrong_format(f"Expected a field named `{k}`.")
    name = new["name"]
    if name.__class__ is not str:
        raise _wrong_format(f"In `name`: Expected a string; got {print_datum(name)}.")
    check_name("Table", name)
    db = _db_by_ref(q, new["db"], table.fmt)
    durability = new.get("durability", "hard")
    if durability not in ("hard", "soft"):
        raise _wrong_format(f'In `durability`: Expected "soft" or "hard", got: {print_datum(durability)}')
    shards = new.get("shards")
    nshards = None
    if shards is not None:
        if shards.__class__ is not list or not shards:
            raise _wrong_format("In `shards`: Expected a non-empty array.")
        if len(shards) > 32:
            raise ReqlOpFailedError("Maximum number of shards is 32.")
        nshards = len(shards)
    if old is None:
        pk = new.get("primary_key", "id")
        if pk.__class__ is not str:
            raise _wrong_format(f"In `primary_key`: Expected a string; got {print_datum(pk)}.")
        if new.get("indexes"):
            raise _wrong_format("The `indexes` field is read-only and can't be used to create indexes.")
        if not q.user_is_admin:
            require(q, "config", db.id)
        cfg = await q.store.write(Catalog.create_table_job(db, name, pk, durability, nshards or 1), catalog=True)
        if cfg is None:
            raise ReqlOpFailedError(f"Table `{db.name}.{name}` already exists.")
        if cfg == "no_db":
            raise ReqlOpFailedError(f"Database `{db.name}` does not exist.")
        return
    for k in ("primary_key", "indexes", "write_hook", "durability", "shards", "write_acks"):
        if k not in new:
            raise _wrong_format(f"Expected a field named `{k}`.")
    if not datum_eq(new["primary_key"], old["primary_key"]):
        raise _wrong_format("It's illegal to change a table's primary key.")
    if not datum_eq(new["indexes"], old["indexes"]):
        raise _wrong_format("The `indexes` field is read-only and can't be used to create or drop indexes.")
    if not datum_eq(new["write_hook"], old["write_hook"]):
        raise _wrong_format(
            "The `write_hook` field is read-only and can't be used to create or drop a write hook function."
        )
    if new["write_acks"] not in ("majority", "single"):
        raise _wrong_format(f'In `write_acks`: Expected "single" or "majority", got: {print_datum(new["write_acks"])}')
    changes: dict[str, Any] = {"name": name, "db": db.name, "durability": durability}
    if nshards is not None:
        changes["shards"] = nshards
    res = await q.store.write(
        Catalog.update_table_job(old_db_name(q, old, table.fmt), old["name"], changes), catalog=True
    )
    if res is None:
        raise ReqlOpFailedError(f"Table `{old['name']}` does not exist.")
    if res == "exists":
        raise ReqlOpFailedError(f"Table `{db.name}.{name}` already exists.")
    if res == "no_db":
        raise ReqlOpFailedError(f"Database `{db.name}` does not exist.")


def old_db_name(q: Any, row: dict, fmt: str) -> str:
    if fmt == "name":
        return row["db"]
    return _db_by_ref(q, row["db"], "uuid").name


async def _write_db_config(q: Any, table: SystemTable, old: Any, new: Any) -> None:
    if not q.user_is_admin:  # creating or dropping a database: global config; renaming: on it
        if new is None:
            require_db_drop(q, old["name"])
        else:
            require(q, "config", old["id"] if old is not None else None)
    if new is None:
        res = await q.store.write(Catalog.drop_db_job(old["name"]), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Database `{old['name']}` does not exist.")
        return
    extra = sorted(k for k in new if k not in ("id", "name"))
    if extra:
        raise ReqlOpFailedError(
            "The change you're trying to make to `rethinkdb.db_config` has the wrong format. "
            f"Unexpected key(s) `{'`, `'.join(extra)}`."
        )
    name = new.get("name")
    if name.__class__ is not str:
        raise ReqlOpFailedError(
            "The change you're trying to make to `rethinkdb.db_config` has the wrong format. "
            "Expected a field named `name`."
        )
    check_name("Database", name)
    if name == SYSTEM_DB:
        raise ReqlOpFailedError(f"Database `{name}` already exists.")
    if old is None:
        cfg = await q.store.write(Catalog.create_db_job(name), catalog=True)
        if cfg is None:
            raise ReqlOpFailedError(f"Database `{name}` already exists.")
        return
    res = await q.store.write(Catalog.update_db_job(old["name"], name), catalog=True)
    if res is None:
        raise ReqlOpFailedError(f"Database `{old['name']}` does not exist.")
    if res == "exists":
        raise ReqlOpFailedError(f"Database `{name}` already exists.")


SYSTEM_TABLES["table_config"].write_row = _write_table_config
SYSTEM_TABLES["db_config"].write_row = _write_db_config


# -- users and permissions ------------------------------------------------------------------
#
# `rethinkdb.users` rows are {id, password: bool}; writing one creates a user or changes its
# password (new SCRAM credentials with a fresh salt), deleting one drops the user and its
# permissions. `rethinkdb.permissions` has a row per user and scope: {id: [user], ...} for
# the global scope, [user, db_id] for a database, [user, db_id, table_id] for a table,
# with `database`/`table` shown by name (or uuid) and `user`. The admin user's rows are
# shown but fixed. Storage: storage/users.py; checks and merging: ql/permissions.py.

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ADMIN_GLOBAL = {"read": True, "write": True, "config": True, "connect": True}
_ADMIN_SYSTEM_DB = {"read": True, "write": True, "config": True}
_system_ids: dict[str, str] = {}


def system_table_id(name: str) -> str:
    return str(uuid.uuid5(_NS, f"table:{name}"))


def _system_table_by_id(table_id: str) -> str | None:
    if not _system_ids:
        _system_ids.update({system_table_id(n): n for n in SYSTEM_TABLES})
    return _system_ids.get(table_id)


def _locate_table(q: Any, table_id: str) -> tuple[str, str, str] | None:
    """(database id, database name, table name) of a table id, system tables included."""
    name = _system_table_by_id(table_id)
    if name is not None:
        return SYSTEM_DB_ID, SYSTEM_DB, name
    cfg = q.catalog.get_table_by_id(table_id)
    if cfg is None:
        return None
    return cfg.database_id, cfg.db, cfg.name


def _db_names(q: Any) -> dict[str, str]:
    names = {d.id: d.name for d in q.catalog.databases().values()}
    names[SYSTEM_DB_ID] = SYSTEM_DB
    return names


def permission_rows(q: Any, fmt: str) -> list[dict]:
    """The rows of `rethinkdb.permissions` (scopes of dropped tables and databases are not shown)."""
    dbs = _db_names(q)
    by_name = fmt == "name"
    rows: list[dict] = [
        {"id": [ADMIN], "permissions": dict(_ADMIN_GLOBAL), "user": ADMIN},
        {
            "database": SYSTEM_DB if by_name else SYSTEM_DB_ID,
            "id": [ADMIN, SYSTEM_DB_ID],
            "permissions": dict(_ADMIN_SYSTEM_DB),
            "user": ADMIN,
        },
    ]
    with q.store.read() as txn:
        everyone = [(name, users.read_permissions(txn, name)) for name, _ in users.all_users(txn) if name != ADMIN]
    for name, doc in everyone:
        g = perm_datum(doc.get("global"))
        if g:
            rows.append({"id": [name], "permissions": g, "user": name})
        for db_id, scope in (doc.get("databases") or {}).items():
            p = perm_datum(scope)
            if p and db_id in dbs:
                rows.append(
                    {"database": dbs[db_id] if by_name else db_id, "id": [name, db_id], "permissions": p, "user": name}
                )
        for table_id, scope in (doc.get("tables") or {}).items():
            p = perm_datum(scope)
            where = _locate_table(q, table_id)
            if p and where is not None:
                db_id, db_name, t_name = where
                rows.append(
                    {
                        "database": db_name if by_name else db_id,
                        "id": [name, db_id, table_id],
                        "permissions": p,
                        "table": t_name if by_name else table_id,
                        "user": name,
                    }
                )
    return rows


def _parse_permission_key(q: Any, key: Any) -> tuple[str, str | None, str | None]:
    """A `rethinkdb.permissions` primary key: (user, database id, table id)."""
    if key.__class__ is not list or not 1 <= len(key) <= 3:
        raise ReqlOpFailedError(
            f"Expected an array of one to three items in the primary key, got {print_datum(key)}."
        )
    user = key[0]
    if user.__class__ is not str:
        raise ReqlOpFailedError(f"Expected a string as the username, got {print_datum(user)}.")
    db_id = table_id = None
    if len(key) > 1:
        d = key[1]
        if d.__class__ is not str or not _UUID_RE.match(d):
            raise ReqlOpFailedError(f"Expected a UUID as the database, got {print_datum(d)}.")
        db_id = d.lower()
        if db_id not in _db_names(q):
            raise ReqlOpFailedError(f"No database with UUID `{db_id}` exists.")
    if len(key) > 2:
        t = key[2]
        if t.__class__ is not str or not _UUID_RE.match(t):
            raise ReqlOpFailedError(f"Expected a UUID as the table, got {print_datum(t)}.")
        table_id = t.lower()
        where = _locate_table(q, table_id)
        if where is None or where[0] != db_id:
            raise ReqlOpFailedError(f"No table with UUID `{table_id}` exists.")
    return user, db_id, table_id


async def _write_permissions(q: Any, table: SystemTable, old: Any, new: Any) -> None:
    user, db_id, table_id = _parse_permission_key(q, (new if new is not None else old)["id"])
    if user == ADMIN:
        raise ReqlOpFailedError(f"The permissions of the user `{user}` can't be modified.")
    with q.store.read() as txn:
        exists = users.read_user(txn, user) is not None
    if not exists:
        raise ReqlOpFailedError(f"No user named `{user}`.")
    changes = None
    if new is not None:
        keys = set(new)
        keys.discard("id")
        if "user" in new:
            keys.discard("user")
            if new["user"] != user:
                raise ReqlOpFailedError("The key `user` does not match the primary key.")
        if db_id is not None and "database" in new:
            keys.discard("database")
            _check_ref(new["database"], "database name", db_id if table.fmt == "uuid" else _db_names(q)[db_id],
                       table.fmt, "database")
        if table_id is not None and "table" in new:
            keys.discard("table")
            where = _locate_table(q, table_id)
            assert where is not None
            _check_ref(new["table"], "table name", table_id if table.fmt == "uuid" else where[2], table.fmt, "table")
        if "permissions" not in new:
            raise ReqlOpFailedError("Expected a field `permissions`.")
        keys.discard("permissions")
        changes = parse_permissions(new["permissions"], db_id is None)
        if keys:
            raise ReqlOpFailedError(f"Unexpected key(s) `{'`, `'.join(sorted(keys, key=lambda k: k.encode()))}`.")
    res = await q.store.write(users.update_permissions_job(user, change_scope(db_id, table_id, changes)), hard=False)
    if res == users.NO_USER:
        raise ReqlOpFailedError(f"No user named `{user}`.")


def _check_ref(value: Any, what: str, expected: str, fmt: str, field: str) -> None:
    if fmt == "uuid":
        if value.__class__ is not str or not _UUID_RE.match(value):
            raise ReqlOpFailedError(f"Expected a UUID; got {print_datum(value)}")
        value = value.lower()
    elif value.__class__ is not str:
        raise ReqlOpFailedError(f"Expected a {what}; got {print_datum(value)}")
    if value != expected:
        raise ReqlOpFailedError(f"The key `{field}` does not match the primary key.")


async def _write_users(q: Any, table: SystemTable, old: Any, new: Any) -> None:
    if new is None:
        name = old["id"]
        if name == ADMIN:
            raise ReqlOpFailedError(f"The user `{name}` can't be deleted")
        if not await q.store.write(users.delete_user_job(name)):
            raise ReqlOpFailedError(f"User `{name}` not found")
        return
    name = new["id"]
    if name.__class__ is not str:
        raise ReqlOpFailedError(f"Expected a username as the primary key, got {print_datum(name)}")
    if "password" not in new:
        raise ReqlOpFailedError("Expected a field named `password`.")
    extra = sorted((k for k in new if k not in ("id", "password")), key=lambda k: k.encode())
    if extra:
        raise ReqlOpFailedError(f"Unexpected key(s) `{'`, `'.join(extra)}`.")
    with q.store.read() as txn:
        current = users.read_user(txn, name)
    pw = new["password"]
    iterations = DEFAULT_ITERATIONS
    if pw.__class__ is dict:
        password, iterations = _password_object(pw)
    elif pw.__class__ is str:
        password = pw
    elif pw.__class__ is bool:
        if pw:
            if current is None or not current.get("has_password"):
                raise ReqlOpFailedError(
                    "Expected an object or string to set the password, or `false` to keep it unset, got true."
                )
            return  # keep the password
        password = ""
    else:
        raise ReqlOpFailedError(f"Expected an object, string or boolean for `password`, got {print_datum(pw)}.")
    # PBKDF2 takes milliseconds: off the event loop.
    creds = await trio.to_thread.run_sync(make_scram_credentials, password, None, iterations)
    await q.store.write(users.put_user_job(name, users.user_doc(name, creds, password != "")))


def _password_object(pw: dict) -> tuple[str, int]:
    """``{password: "...", iterations: n}``."""
    keys = set(pw)
    if "iterations" not in pw:
        raise ReqlOpFailedError("Expected a field named `iterations`.")
    it = pw["iterations"]
    if it.__class__ not in (int, float) or it < 1:
        raise ReqlOpFailedError(f"Expected iterations to be a number greater than zero, got {print_datum(it)}.")
    keys.discard("iterations")
    if "password" not in pw:
        raise ReqlOpFailedError("Expected a field named `password`.")
    password = pw["password"]
    if password.__class__ is not str:
        raise ReqlOpFailedError(f"Expected `password` to be a string, got {print_datum(password)}.")
    keys.discard("password")
    if keys:
        raise ReqlOpFailedError(f"Unexpected key(s) `{'`, `'.join(sorted(keys, key=lambda k: k.encode()))}`.")
    return password, int(it)


SYSTEM_TABLES["users"].write_row = _write_users
SYSTEM_TABLES["permissions"].write_row = _write_permissions


# -- helpers shared by the terms ---------------------------------------------------------------


def _current(q: Any, table: Table) -> TableConfig:
    cfg = q.catalog.get_table(table.db.name, table.name)
    if cfg is None:
        raise ReqlOpFailedError(f"Table `{table.db.name}.{table.name}` does not exist.")
    return cfg


def _as_table(value: Any) -> Table:
    if isinstance(value, Table):
        return value
    raise _typed("TABLE", value)


def _typed(expected: str, value: Any) -> ReqlQueryLogicError:
    if kind_of(value) == "DATUM":
        return ReqlQueryLogicError(f"Expected type {expected} but found DATUM:\n{print_datum(value)}")
    if isinstance(value, Stream):
        found = "TABLE_SLICE" if getattr(value, "slice_kind", False) else value.kind_name()
        return ReqlQueryLogicError(f"Expected type {expected} but found {found}:\n{type_of(value)}")
    return type_error(expected, value)


async def _table_or_db(term: Term, q: Any, env: dict, what: str) -> Database | Table:
    if not term.args:
        raise ReqlQueryLogicError(f"`{what}` can only be called on a table or database.")
    v = await eval_target(term, q, env)
    if isinstance(v, (Database, Table)):
        return v
    raise _typed("TABLE", v)


def _user_tables(q: Any, target: Database | Table) -> list[TableConfig]:
    if isinstance(target, Table):
        if isinstance(target, SystemTable):
            raise ReqlOpFailedError(
                f"Database `{SYSTEM_DB}` is special; you can't configure the tables in it."
            )
        return [_current(q, target)]
    if target.name == SYSTEM_DB:
        raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't configure the tables in it.")
    return sorted(q.catalog.tables_of(target.name), key=lambda t: t.name)


# -- config / status ---------------------------------------------------------------------------


@register(T.CONFIG)
class Config(Term):
    __slots__ = ()
    name = "config"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> SingleSelection:
        target = await eval_target(self, q, env)
        if isinstance(target, Database):
            if target.name == SYSTEM_DB:
                raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't configure it.")
            cfg = q.catalog.get_db(target.name)
            if cfg is None:
                raise ReqlOpFailedError(f"Database `{target.name}` does not exist.")
            table = SystemTable(SYSTEM_TABLES["db_config"])
            return SingleSelection(table, cfg.id, {"id": cfg.id, "name": cfg.name})
        table = _as_table(target)
        if isinstance(table, SystemTable):
            raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't configure the tables in it.")
        cfg = _current(q, table)
        return SingleSelection(SystemTable(SYSTEM_TABLES["table_config"]), cfg.id, config_row(q, cfg))


@register(T.STATUS)
class Status(Term):
    __slots__ = ()
    name = "status"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> SingleSelection:
        table = _as_table(await eval_target(self, q, env))
        if isinstance(table, SystemTable):
            raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't configure the tables in it.")
        cfg = _current(q, table)
        return SingleSelection(SystemTable(SYSTEM_TABLES["table_status"]), cfg.id, status_row(q, cfg))


# -- wait / reconfigure / rebalance -------------------------------------------------------------

WAIT_STATES = ("ready_for_outdated_reads", "ready_for_reads", "ready_for_writes", "all_replicas_ready")


@register(T.WAIT)
class Wait(Term):
    __slots__ = ()
    name = "wait"
    argspec = (0, 1)
    optargspec = ("timeout", "wait_for")
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        target = await _table_or_db(self, q, env, "wait")
        if "wait_for" in self.optargs:
            state = as_string(await self.optargs["wait_for"].eval(q, env))
            if state not in WAIT_STATES:
                raise ReqlQueryLogicError(
                    f"Unknown table readiness state: '{state}', must be one of "
                    "'ready_for_outdated_reads', 'ready_for_reads', 'ready_for_writes', or 'all_replicas_ready'"
                )
        if "timeout" in self.optargs:
            timeout = as_int(await self.optargs["timeout"].eval(q, env))
            if timeout < 0:
                raise ReqlQueryLogicError(f"Expected a non-negative integer; got {timeout}.")
        if isinstance(target, Table):
            if not isinstance(target, SystemTable):
                _current(q, target)
            return {"ready": 1}
        if target.name == SYSTEM_DB:
            return {"ready": 0}
        return {"ready": len(q.catalog.tables_of(target.name))}


async def replica_params(
    term: Term, q: Any, env: dict, check_servers: bool = True
) -> tuple[int, dict[str, int], str, list[str]]:
    """Parse ``shards``/``replicas``/``primary_replica_tag``/``nonvoting_replica_tags`` as
    ``table_create`` and ``reconfigure`` do, and (``check_servers``) check them against
    this one server, tagged ``default``."""
    shards = 1
    if "shards" in term.optargs:
        shards = as_int(await term.optargs["shards"].eval(q, env))
        if shards <= 0:
            raise ReqlQueryLogicError("Every table must have at least one shard.")
    replicas: dict[str, int] = {"default": 1}
    primary = "default"
    nonvoting: list[str] = []
    rep_t = term.optargs.get("replicas")
    nv_t = term.optargs.get("nonvoting_replica_tags")
    pr_t = term.optargs.get("primary_replica_tag")
    if rep_t is not None:
        rep = as_datum(await rep_t.eval(q, env))
        replicas = {}
        if rep.__class__ is dict:
            if pr_t is None:
                raise ReqlQueryLogicError("`primary_replica_tag` must be specified when `replicas` is an OBJECT.")
            for tag, n in rep.items():
                check_name("Server tag", tag)
                count = as_int(n)
                if count < 0:
                    raise ReqlQueryLogicError("Can't have a negative number of replicas")
                replicas[tag] = count
        elif rep.__class__ in (int, float) and rep.__class__ is not bool:
            if pr_t is not None:
                raise ReqlQueryLogicError("`replicas` must be an OBJECT if `primary_replica_tag` is specified.")
            if nv_t is not None:
                raise ReqlQueryLogicError("`replicas` must be an OBJECT if `nonvoting_replica_tags` is specified.")
            count = as_int(rep)
            if count < 0:
                raise ReqlQueryLogicError(f"Expected a non-negative integer; got {count}.")
            replicas = {"default": count}
        else:
            raise ReqlQueryLogicError(f"Expected type OBJECT or NUMBER but found {type_name(rep)}:\n{print_datum(rep)}")
    if nv_t is not None:
        nv = as_datum(await nv_t.eval(q, env))
        if nv.__class__ is not list:
            raise ReqlQueryLogicError(f"Expected type ARRAY but found {type_name(nv)}:\n{print_datum(nv)}")
        for tag in nv:
            if tag.__class__ is not str:
                raise ReqlQueryLogicError(f"Expected type STRING but found {type_name(tag)}:\n{print_datum(tag)}")
            nonvoting.append(check_name("Server tag", tag))
    if pr_t is not None:
        primary = check_name("Server tag", as_string(await pr_t.eval(q, env)))
    if not check_servers:
        return shards, replicas, primary, nonvoting
    # RethinkDB's validation of the parameters against the servers (one, tagged "default").
    if sum(replicas.values()) == 0:
        raise ReqlOpFailedError(
            "You must set `replicas` to at least one. `replicas` includes the primary replica; "
            "if there are zero replicas, there is nowhere to put the data."
        )
    if shards > 32:
        raise ReqlOpFailedError("Maximum number of shards is 32.")
    if replicas.get(primary, 0) == 0:
        raise ReqlOpFailedError(
            f"Can't use server tag `{primary}` for primary replicas because you specified no replicas "
            f"in server tag `{primary}`."
        )
    for tag in nonvoting:
        if tag not in replicas:
            raise ReqlOpFailedError(
                f"You specified that the replicas in server tag `{tag}` should be non-voting, but you "
                f"didn't specify a number of replicas in server tag `{tag}`."
            )
    for tag, n in sorted(replicas.items()):
        have = 1 if tag == "default" else 0
        if n > have:
            raise ReqlOpFailedError(
                f"Can't put {n} replicas on servers with the tag `{tag}` because there are only {have} "
                f"servers with the tag `{tag}`. It's impossible to have more replicas of the data than "
                "there are servers."
            )
    return shards, replicas, primary, nonvoting


@register(T.RECONFIGURE)
class Reconfigure(Term):
    __slots__ = ()
    name = "reconfigure"
    argspec = (0, 1)
    optargspec = ("dry_run", "emergency_repair", "nonvoting_replica_tags", "primary_replica_tag", "replicas", "shards")
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        target = await _table_or_db(self, q, env, "reconfigure")
        dry_run = as_bool(await self.optargs["dry_run"].eval(q, env)) if "dry_run" in self.optargs else False
        repair = None
        if "emergency_repair" in self.optargs:
            repair = as_datum(await self.optargs["emergency_repair"].eval(q, env))
        if repair is not None:
            mode = as_string(repair)
            if mode not in ("unsafe_rollback", "unsafe_rollback_or_erase", "_debug_recommit"):
                raise ReqlQueryLogicError(
                    '`emergency_repair` should be "unsafe_rollback" or "unsafe_rollback_or_erase"'
                )
            if any(k in self.optargs for k in ("nonvoting_replica_tags", "primary_replica_tag", "replicas", "shards")):
                raise ReqlQueryLogicError("In emergency repair mode, you can't specify shards, replicas, etc.")
            if isinstance(target, Database):
                raise ReqlQueryLogicError(
                    "Can't emergency repair an entire database at once; instead you should run "
                    "`reconfigure()` on each table individually."
                )
            _user_tables(q, target)
            raise ReqlOpFailedError("This table doesn't need to be repaired.")
        for k in ("shards", "replicas"):
            if k not in self.optargs:
                raise ReqlQueryLogicError(f"Missing required argument `{k}`.")
        shards, _replicas, _primary, _nonvoting = await replica_params(self, q, env)
        tables = _user_tables(q, target)
        config_changes = []
        status_changes = []
        for t in tables:
            old_cfg, old_status = config_row(q, t), status_row(q, t)
            if dry_run:
                new_t = TableConfig.from_json({**t.to_json(), "shards": shards})
            else:
                res = await q.store.write(Catalog.update_table_job(t.db, t.name, {"shards": shards}), catalog=True)
                if res is None or res.__class__ is str:
                    raise ReqlOpFailedError(f"Table `{t.db}.{t.name}` does not exist.")
                new_t = res[1]
            config_changes.append({"new_val": config_row(q, new_t), "old_val": old_cfg})
            status_changes.append({"new_val": status_row(q, new_t), "old_val": old_status})
        if dry_run:
            return {"config_changes": config_changes, "reconfigured": 0}
        return {"config_changes": config_changes, "reconfigured": len(tables), "status_changes": status_changes}


@register(T.REBALANCE)
class Rebalance(Term):
    __slots__ = ()
    name = "rebalance"
    argspec = (0, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        target = await _table_or_db(self, q, env, "rebalance")
        tables = _user_tables(q, target)
        changes = []
        for t in tables:
            s = status_row(q, t)
            changes.append({"new_val": s, "old_val": s})
        return {"rebalanced": len(tables), "status_changes": changes}


# -- sync ---------------------------------------------------------------------------------------


@register(T.SYNC)
class Sync(Term):
    __slots__ = ()
    name = "sync"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        table = _as_table(await eval_target(self, q, env))
        if not isinstance(table, SystemTable):
            _current(q, table)
        await q.store.write(sync_job, hard=True)
        return {"synced": 1}


# -- info -----------------------------------------------------------------------------------------


def db_info(db: Database) -> dict:
    return {"id": db.config.id, "name": db.name, "type": "DB"}


def table_info(q: Any, table: Table) -> dict:
    if isinstance(table, SystemTable):
        counts = [len(table.rows(q))] if table.spec.virtual else [q.catalog.doc_count(table.config)]
        cfg = table.config
    else:
        cfg = _current(q, table)
        n = q.catalog.doc_count(cfg)
        s = max(1, cfg.shards)
        counts = [n // s + (1 if i < n % s else 0) for i in range(s)]
    return {
        "db": db_info(Database(table.db)),
        "doc_count_estimates": counts,
        "id": cfg.id,
        "indexes": sorted(cfg.indexes),
        "name": cfg.name,
        "primary_key": cfg.primary_key,
        "type": "TABLE",
    }


@register(T.INFO)
class Info(Term):
    __slots__ = ()
    name = "info"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> dict:
        v = await self.args[0].eval(q, env)
        t = v.type_of_name() if isinstance(v, Stream) else type_of(v)
        if isinstance(v, Database):
            return db_info(v)
        if isinstance(v, Table):
            return table_info(q, v)
        if isinstance(v, SingleSelection):
            return {"table": table_info(q, v.table), "type": t}
        if isinstance(v, Stream):
            if v.table is not None:
                info: dict[str, Any] = {"table": table_info(q, v.table), "type": t}
                if t == "TABLE_SLICE" and isinstance(v, TableScan):
                    info.update(_slice_info(v))
                return info
            return {"type": t}
        if isinstance(v, Function):
            return {"source_code": _function_source(v), "type": "FUNCTION"}
        if isinstance(v, GroupedData):
            return {"type": "GROUPED_DATA"}
        d = as_datum(v)
        t = type_name(d) if d.__class__ is not _Extreme else repr(d).upper().replace("R.", "")
        if d is None or d.__class__ is _Extreme:
            return {"type": t}
        out = {"type": t, "value": print_datum(d)}
        if t == "PTYPE<BINARY>":
            try:
                out["count"] = len(base64.b64decode("".join(d["data"].split())))
            except (ValueError, KeyError, TypeError):
                pass
        return out


def _slice_info(v: TableScan) -> dict:
    out: dict[str, Any] = {
        "index": getattr(v, "index", None) or v.table.primary_key,
        "sorting": getattr(v, "sorting", None) or ("DESCENDING" if v.reverse else "UNORDERED"),
    }
    for side in ("left", "right"):
        bound = getattr(v, f"{side}_bound", None)
        btype = getattr(v, f"{side}_bound_type", None)
        if bound is not None and btype is not None:
            out[f"{side}_bound"] = bound
            out[f"{side}_bound_type"] = btype
        else:
            out[f"{side}_bound_type"] = "unbounded"
    return out


def _function_source(f: Function) -> str:
    if f.term is None:
        return "function() { ... }"
    return js_function(f.term)


# -- write hooks ----------------------------------------------------------------------------------

def term_to_json(t: Term, env: dict, bound: frozenset = frozenset()) -> Any:
    """A compiled term back to the driver's JSON form, with the free variables it
    captured from ``env`` replaced by their values (so it can be stored and recompiled)."""
    if t.__class__ is DatumTerm:
        return _datum_json(t.value)
    tt = t.tt
    impl = getattr(t, "impl", None)
    if impl is not None:  # an r.args splice: the real term type is its implementation's
        tt = impl.tt
    if tt == T.FUNC:
        params = t.args[0].value  # type: ignore[attr-defined]
        inner = bound | frozenset(params)
        return [T.FUNC, [[T.MAKE_ARRAY, list(params)], term_to_json(t.args[1], env, inner)]]
    if tt == T.VAR:
        vid = t.var_id  # type: ignore[attr-defined]
        if vid not in bound and vid in env:
            value = env[vid]
            if kind_of(value) != "DATUM" and not isinstance(value, SingleSelection):
                raise ReqlQueryLogicError("Write hook functions must be deterministic.")
            return _datum_json(as_datum(value))
        return [T.VAR, [vid]]
    if tt == T.MAKE_OBJ:
        return {k: term_to_json(v, env, bound) for k, v in t.optargs.items()}
    args = [term_to_json(a, env, bound) for a in t.args]
    if t.optargs:
        return [tt, args, {k: term_to_json(v, env, bound) for k, v in t.optargs.items()}]
    return [tt, args]


def _datum_json(v: Any) -> Any:
    c = v.__class__
    if c is list:
        return [T.MAKE_ARRAY, [_datum_json(x) for x in v]]
    if c is dict:
        if REQL_TYPE in v:
            return v
        return {k: _datum_json(x) for k, x in v.items()}
    if c is _Extreme:
        return [T.MINVAL if v.sign < 0 else T.MAXVAL, []]
    return v


def js_function(t: Term) -> str:
    """A readable JavaScript-style rendering of a function term (``query`` fields)."""
    params = t.args[0].value if t.tt == T.FUNC else []  # type: ignore[attr-defined]
    body = t.args[1] if t.tt == T.FUNC else t
    names = ", ".join(f"var{p}" for p in params)
    return f"function({names}) {{ return {_js(body)}; }}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.capitalize() for w in rest)


def _js(t: Term) -> str:
    if t.__class__ is DatumTerm:
        return orjson.dumps(t.value, default=repr).decode()
    tt = t.tt
    if tt == T.VAR:
        return f"var{t.var_id}"  # type: ignore[attr-defined]
    if tt == T.FUNC:
        return js_function(t)
    if tt == T.MAKE_OBJ:
        return "{" + ", ".join(f"{orjson.dumps(k).decode()}: {_js(v)}" for k, v in t.optargs.items()) + "}"
    if tt == T.MAKE_ARRAY:
        return "[" + ", ".join(_js(a) for a in t.args) + "]"
    name = _camel(getattr(t, "impl", t).name)
    args = [_js(a) for a in t.args]
    if t.optargs:
        args.append("{" + ", ".join(f"{k}: {_js(v)}" for k, v in t.optargs.items()) + "}")
    if tt == T.BRACKET and len(t.args) == 2:
        return f"{args[0]}({args[1]})"
    if t.args and t.args[0].__class__ is not DatumTerm:
        return f"{args[0]}.{name}({', '.join(args[1:])})"
    return f"r.{name}({', '.join(args)})"


def _hook_from_binary(d: dict) -> dict:
    try:
        raw = base64.b64decode("".join(d.get("data", "").split()))
    except (ValueError, TypeError):
        raw = b""
    if not raw.startswith(WRITE_HOOK_PREFIX):
        raise ReqlQueryLogicError(
            "Cannot create a write hook except from a reql_write_hook_function returned from `get_write_hook`."
        )
    try:
        func = orjson.loads(raw[len(WRITE_HOOK_PREFIX):])
        from ..compile import compile_term

        term = compile_term(func)
    except Exception:  # noqa: BLE001 - anything unreadable is not one of our blobs
        raise ReqlQueryLogicError(
            "Cannot create a write hook except from a reql_write_hook_function returned from `get_write_hook`."
        ) from None
    return {"func": func, "term": term}


@register(T.SET_WRITE_HOOK)
class SetWriteHook(Term):
    __slots__ = ()
    name = "set_write_hook"
    argspec = (2, 2)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        table = _as_table(await eval_target(self, q, env))
        if isinstance(table, SystemTable):
            raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't configure the tables in it.")
        cfg = _current(q, table)
        existed = cfg.write_hook is not None
        v = await self.args[1].eval(q, env)
        hook: dict | None
        if kind_of(v) == "DATUM" and (v is None or (v.__class__ is dict and v.get(REQL_TYPE) == "BINARY")):
            if v is None:
                hook = None
            else:
                parsed = _hook_from_binary(v)
                term = parsed["term"]
                hook = self._checked(term, parsed["func"])
        else:
            f = as_function(v)
            if f.term is None:
                raise ReqlQueryLogicError("Write hook functions must expect 3 arguments.")
            hook = self._checked(f.term, None, f.env)
        res = await q.store.write(Catalog.set_write_hook_job(cfg.db, cfg.name, hook), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Table `{cfg.db}.{cfg.name}` does not exist.")
        if hook is None:
            return {"deleted": 1}
        return {"replaced": 1} if existed else {"created": 1}

    @staticmethod
    def _checked(term: Term, func_json: Any, env: dict | None = None) -> dict:
        if not term.is_deterministic():
            raise ReqlQueryLogicError(
                "Could not prove function deterministic.  Write hook functions must be deterministic."
            )
        params = term.args[0].value if term.tt == T.FUNC else None  # type: ignore[attr-defined]
        if params is None or len(params) != 3:
            raise ReqlQueryLogicError("Write hook functions must expect 3 arguments.")
        if func_json is None:
            func_json = term_to_json(term, env or {})
        return {"func": func_json, "query": f"setWriteHook({js_function(term)})"}


@register(T.GET_WRITE_HOOK)
class GetWriteHook(Term):
    __slots__ = ()
    name = "get_write_hook"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> Any:
        table = _as_table(await eval_target(self, q, env))
        if isinstance(table, SystemTable):
            return None
        return write_hook_datum(_current(q, table).write_hook)


__all__ = [
    "SYSTEM_DB_ID",
    "SYSTEM_TABLES",
    "SystemTable",
    "materialize",
    "open_system_table",
    "system_database",
    "system_table_names",
    "term_to_json",
]
