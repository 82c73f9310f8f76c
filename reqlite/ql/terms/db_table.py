"""Databases and tables: db, table, their create/drop/list, get and get_all.

All of these read or change the catalog, so none is deterministic (RethinkDB's
``meta_op_term_t``): a write whose function reads a table needs ``non_atomic``.
The system database ``rethinkdb`` and the admin terms live in ``admin.py``.
"""

from __future__ import annotations

import base64
import re
import socket
from typing import Any

import orjson

from ...datum.keys import encode_key
from ...datum.types import is_geometry
from ...errors import ReqlError, ReqlNonExistenceError, ReqlOpFailedError, ReqlQueryLogicError
from ...storage import Catalog, TableConfig
from ...wire.ql2 import TermType as T
from .. import permissions
from ..streams import ArrayStream, Stream
from ..term import Term, as_datum, as_string, register
from ..values import Database, SingleSelection, Table

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
SYSTEM_DB = "rethinkdb"


def server_name() -> str:
    """This server's name as RethinkDB derives it: the hostname, with invalid characters as ``_``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "reqlite"


def check_name(kind: str, name: str) -> str:
    if not NAME_RE.match(name):
        raise ReqlQueryLogicError(f"{kind} name `{name}` invalid (Use A-Z, a-z, 0-9, _ and - only).")
    return name


def my_name(q: Any) -> str:
    """This server's name (the server's own, else derived from the hostname)."""
    name = getattr(getattr(q, "server", None), "name", None)
    return name if name else server_name()


WRITE_HOOK_PREFIX = b"$reql_write_hook_function$"


def write_hook_datum(hook: Any) -> Any:
    """A stored write hook as ``config()`` and ``get_write_hook`` show it: the function
    as a binary blob ``set_write_hook`` accepts back, and its source."""
    if hook is None:
        return None
    raw = WRITE_HOOK_PREFIX + orjson.dumps(hook["func"])
    return {
        "function": {"$reql_type$": "BINARY", "data": base64.b64encode(raw).decode("ascii")},
        "query": hook.get("query", ""),
    }


def table_config_doc(t: TableConfig, me: str | None = None) -> dict:
    """A table's config as ``table.config()`` and ``config_changes`` show it."""
    if me is None:
        me = server_name()
    return {
        "db": t.db,
        "durability": t.durability,
        "id": t.id,
        "indexes": sorted(t.indexes),
        "name": t.name,
        "primary_key": t.primary_key,
        "shards": [
            {"nonvoting_replicas": [], "primary_replica": me, "replicas": [me]} for _ in range(max(1, t.shards))
        ],
        "write_acks": "majority",
        "write_hook": write_hook_datum(t.write_hook),
    }


def get_database(q: Any, name: str) -> Database:
    """``r.db(name)``, the system database included."""
    if name == SYSTEM_DB:
        from .admin import system_database

        return system_database()
    return q.database(name)  # validates the name when it is not found


async def db_of(term: Term, q: Any, env: dict, nargs_with_db: int) -> tuple[Database, int]:
    """For terms callable as ``r.x(name)`` or ``db.x(name)``: the database and the first name arg."""
    if len(term.args) >= nargs_with_db:
        db = await term.args[0].eval(q, env)
        if not isinstance(db, Database):
            from ..term import type_error

            raise type_error("DATABASE", db)
        return db, 1
    return get_database(q, q.default_db), 0


@register(T.DB)
class Db(Term):
    __slots__ = ()
    name = "db"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> Database:
        return get_database(q, await self.str_arg(0, q, env))


@register(T.TABLE)
class TableTerm(Term):
    __slots__ = ()
    name = "table"
    argspec = (1, 2)
    optargspec = ("read_mode", "identifier_format")
    deterministic = False
    opens_table = True  # permissions.eval_target opens it without the read check

    async def eval(self, q: Any, env: dict, check: bool = True) -> Table:
        db, i = await db_of(self, q, env, 2)
        name = await self.str_arg(i, q, env)
        mode = None
        if "read_mode" in self.optargs:
            mode = as_string(await self.optargs["read_mode"].eval(q, env))
            if mode not in ("single", "majority", "outdated", "_debug_direct"):
                raise ReqlQueryLogicError(
                    f"Read mode `{mode}` unrecognized (options are \"majority\", \"single\", and \"outdated\")."
                )
        fmt = "name"
        if "identifier_format" in self.optargs:
            fmt = as_string(await self.optargs["identifier_format"].eval(q, env))
            if fmt not in ("name", "uuid"):
                raise ReqlQueryLogicError(
                    f"Identifier format `{fmt}` unrecognized (options are \"name\" and \"uuid\")."
                )
        if db.name == SYSTEM_DB:
            from .admin import open_system_table

            table = await open_system_table(q, name, fmt, mode or q.read_mode)
        else:
            table = q.table(db, name)  # validates the name when it is not found
            if mode is not None:
                table.read_mode = mode
        if check and not q.user_is_admin:
            permissions.require_table(q, "read", table)
        return table


@register(T.DB_LIST)
class DbList(Term):
    __slots__ = ()
    name = "db_list"
    argspec = (0, 0)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> list:
        return sorted([SYSTEM_DB, *q.catalog.databases()])


@register(T.DB_CREATE)
class DbCreate(Term):
    __slots__ = ()
    name = "db_create"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        name = check_name("Database", await self.str_arg(0, q, env))
        if name == SYSTEM_DB:
            raise ReqlOpFailedError(f"Database `{name}` already exists.")
        if not q.user_is_admin:
            permissions.require_db_create(q)
        cfg = await q.store.write(Catalog.create_db_job(name), catalog=True)
        if cfg is None:
            raise ReqlOpFailedError(f"Database `{name}` already exists.")
        return {
            "config_changes": [{"new_val": {"id": cfg.id, "name": cfg.name}, "old_val": None}],
            "dbs_created": 1,
        }


@register(T.DB_DROP)
class DbDrop(Term):
    __slots__ = ()
    name = "db_drop"
    argspec = (1, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        name = check_name("Database", await self.str_arg(0, q, env))
        if name == SYSTEM_DB:
            raise ReqlOpFailedError(f"Database `{name}` is special; you can't delete it.")
        if not q.user_is_admin:
            permissions.require_db_drop(q, name)
        res = await q.store.write(Catalog.drop_db_job(name), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Database `{name}` does not exist.")
        cfg, tables = res
        return {
            "config_changes": [{"new_val": None, "old_val": {"id": cfg.id, "name": cfg.name}}],
            "dbs_dropped": 1,
            "tables_dropped": len(tables),
        }


@register(T.TABLE_LIST)
class TableList(Term):
    __slots__ = ()
    name = "table_list"
    argspec = (0, 1)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> list:
        db, _ = await db_of(self, q, env, 1)
        if db.name == SYSTEM_DB:
            from .admin import system_table_names

            return system_table_names()
        return sorted(t.name for t in q.catalog.tables_of(db.name))


DURABILITIES = ("hard", "soft")


def check_durability(value: Any) -> str:
    d = as_string(value)
    if d not in DURABILITIES:
        raise ReqlQueryLogicError(f'Durability option `{d}` unrecognized (options are "hard" and "soft").')
    return d


@register(T.TABLE_CREATE)
class TableCreate(Term):
    __slots__ = ()
    name = "table_create"
    argspec = (1, 2)
    optargspec = (
        "primary_key",
        "durability",
        "shards",
        "replicas",
        "primary_replica_tag",
        "nonvoting_replica_tags",
    )

    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        from .admin import replica_params

        # RethinkDB's order: shards and replicas, primary key, durability, then the names.
        shards, _, _, _ = await replica_params(self, q, env, check_servers=False)
        pk = as_string(await self.opt("primary_key", q, env, "id"))
        durability = check_durability(await self.opt("durability", q, env, "hard"))
        db, i = await db_of(self, q, env, 2)
        name = check_name("Table", await self.str_arg(i, q, env))
        if db.name == SYSTEM_DB:
            raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't create new tables in it.")
        if not q.user_is_admin:
            permissions.require_table_create(q, db)
        await replica_params(self, q, env, check_servers=True)
        cfg = await q.store.write(Catalog.create_table_job(db.config, name, pk, durability, shards), catalog=True)
        if cfg == "no_db":
            raise ReqlOpFailedError(f"Database `{db.name}` does not exist.")
        if cfg is None:
            raise ReqlOpFailedError(f"Table `{db.name}.{name}` already exists.")
        return {
            "config_changes": [{"new_val": table_config_doc(cfg, my_name(q)), "old_val": None}],
            "tables_created": 1,
        }


@register(T.TABLE_DROP)
class TableDrop(Term):
    __slots__ = ()
    name = "table_drop"
    argspec = (1, 2)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> dict:
        db, i = await db_of(self, q, env, 2)
        name = check_name("Table", await self.str_arg(i, q, env))
        if db.name == SYSTEM_DB:
            raise ReqlOpFailedError(f"Database `{SYSTEM_DB}` is special; you can't drop tables in it.")
        if not q.user_is_admin:
            permissions.require_table_drop(q, db, name)
        cfg = await q.store.write(Catalog.drop_table_job(db.name, name), catalog=True)
        if cfg is None:
            raise ReqlOpFailedError(f"Table `{db.name}.{name}` does not exist.")
        return {
            "config_changes": [{"new_val": None, "old_val": table_config_doc(cfg, my_name(q))}],
            "tables_dropped": 1,
        }


# -- point reads -----------------------------------------------------------------------


def read_doc(q: Any, table: Table, key: Any) -> Any:
    """The document with primary key ``key``, or None."""
    raw_key = table.config.docs_prefix + encode_key(key)
    with q.store.read() as txn:
        raw = txn.get(raw_key)
    return None if raw is None else orjson.loads(raw)


def check_pkey_value(key: Any) -> Any:
    if key is None or (key.__class__ is dict and "$reql_type$" not in key):
        encode_key(key)  # raises RethinkDB's "Primary keys must be ..." error
    return key


@register(T.GET)
class Get(Term):
    __slots__ = ()
    name = "get"
    argspec = (2, 2)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> SingleSelection:
        table = await self.args[0].eval(q, env)
        if not isinstance(table, Table):
            from ..term import type_error

            raise type_error("TABLE", table)
        key = as_datum(await self.args[1].eval(q, env))
        check_pkey_value(key)
        from ...datum.keys import primary_key_too_long

        if primary_key_too_long(key):
            return SingleSelection(table, key, None)
        raw_key = table.config.docs_prefix + encode_key(key)
        with q.store.read() as txn:
            raw = txn.get(raw_key)
        return SingleSelection(table, key, None, raw)


@register(T.GET_ALL)
class GetAll(Term):
    __slots__ = ()
    name = "get_all"
    argspec = (1, None)
    optargspec = ("index",)
    deterministic = False

    async def eval(self, q: Any, env: dict) -> Stream:
        table = await self.args[0].eval(q, env)
        if not isinstance(table, Table):
            from ..term import type_error

            raise type_error("TABLE", table)
        index = as_string(await self.opt("index", q, env, table.primary_key))
        keys = [as_datum(await a.eval(q, env)) for a in self.args[1:]]
        for k in keys:
            if is_geometry(k):
                raise ReqlQueryLogicError(
                    "Cannot use a geospatial index with `get_all`. Use `get_intersecting` instead."
                )
        if index != table.primary_key:
            from .. import indexing

            spec = indexing.ready_spec(table, index)
            parts = []
            seen_values: set[bytes] = set()
            for k in keys:
                if k is None:
                    raise ReqlNonExistenceError("Keys cannot be NULL.")
                try:
                    ek = encode_key(k)
                except ReqlError:
                    continue  # cannot be an index value: matches nothing
                if ek in seen_values:
                    continue
                seen_values.add(ek)
                parts.append(indexing.equal_scan(q, table, index, spec, k))
            return indexing.ChainStream(table, parts)
        raw_keys: list[bytes] = []
        seen = set()
        prefix = table.config.docs_prefix
        for k in keys:
            check_pkey_value(k)
            ek = encode_key(k)
            if ek in seen:
                continue
            seen.add(ek)
            raw_keys.append(prefix + ek)
        with q.store.read() as txn:  # one snapshot for all the keys
            found = [txn.get(k) for k in raw_keys]
        docs = [orjson.loads(raw) for raw in found if raw is not None]
        return ArrayStream(docs, table=table, is_array=False)
