"""Permission checks for users other than ``admin``, with RethinkDB 2.4's rules.

A user has ``read``, ``write`` and ``config`` permissions at three scopes (table,
database, global) and ``connect`` at the global scope only (storage/users.py has the
document). A permission is looked up from the narrowest scope to the widest: the first
scope where it is set (true or false) decides, and unset everywhere means denied.
Global permissions do not reach the system database ``rethinkdb``: its tables need
permissions granted on them or on the database itself.

* ``read`` is needed to read a table's documents (opening ``r.table`` for reading);
* ``write`` to insert, update, replace or delete, and RethinkDB demands ``read`` with it;
* ``config`` on a table to change its indexes, write hook or configuration, on a
  database to create and drop its tables (dropping needs ``config`` on each table too),
  globally to create and drop databases;
* ``connect`` for ``r.http`` (which reqlite does not have).

The query path asks here only when ``q.user_is_admin`` is false, so the admin user (every
permission) pays nothing. A denial is RethinkDB's ``ReqlPermissionError``:
"User `bob` does not have the required `read` permission."

Terms that act on a table or database without reading it (``config``, ``index_create``,
``insert`` …) evaluate their first argument with :func:`eval_target`: a table term there is
opened without the read check and the term's own permission is checked instead
(:data:`TERM_PERMISSIONS`).
"""

from __future__ import annotations

import uuid
from typing import Any

from ..datum.printing import print_datum
from ..errors import ReqlOpFailedError, ReqlPermissionError
from ..storage import layout, users
from ..wire.ql2 import TermType as T
from .values import Database, SingleSelection, Table

PERMISSION_NAMES = ("read", "write", "config", "connect")

# What a term needs on the table (or database) it is applied to.
TERM_PERMISSIONS: dict[int, str] = {
    T.CONFIG: "config",
    T.RECONFIGURE: "config",
    T.REBALANCE: "config",
    T.SET_WRITE_HOOK: "config",
    T.GET_WRITE_HOOK: "config",
    T.INDEX_CREATE: "config",
    T.INDEX_DROP: "config",
    T.INDEX_RENAME: "config",
    T.SYNC: "write",
    T.INSERT: "write",
    T.UPDATE: "write",
    T.REPLACE: "write",
    T.DELETE: "write",
}

# Identities of the system database and its tables (ql/terms/admin.py derives the ids of
# the other system tables the same way); here so that this module imports no term module.
SYSTEM_NS = uuid.UUID("7d1e9a3c-52b4-4f0e-9a61-2c6f1b0d8e55")
SYSTEM_DB_ID = str(uuid.uuid5(SYSTEM_NS, "rethinkdb"))
PERMISSIONS_TABLE_ID = str(uuid.uuid5(SYSTEM_NS, "table:permissions"))

_NO_USER: dict = {}


# -- the user's permissions document ----------------------------------------------------------


def user_permissions(q: Any) -> dict | None:
    """The permissions document of the query's user (read once per query), None if the
    user no longer exists."""
    doc = q.perms
    if doc is None:
        with q.store.read() as txn:
            exists = txn.get(layout.user_key(q.user)) is not None
            doc = users.read_permissions(txn, q.user) if exists else _NO_USER
        q.perms = doc
    return None if doc is _NO_USER else doc


def _scope_value(doc: dict, scope: str, key: str | None, perm: str) -> bool | None:
    if key is None:
        return None
    entry = doc.get(scope)
    if entry:
        entry = entry.get(key)
        if entry:
            return entry.get(perm)
    return None


def _global(doc: dict, perm: str) -> bool:
    g = doc.get("global")
    return bool(g and g.get(perm))


def has_permission(doc: dict, perm: str, db_id: str | None = None, table_id: str | None = None) -> bool:
    """Whether ``doc`` grants ``perm`` on the table (or database, or globally)."""
    v = _scope_value(doc, "tables", table_id, perm)
    if v is not None:
        return v
    v = _scope_value(doc, "databases", db_id, perm)
    if v is not None:
        return v
    if db_id == SYSTEM_DB_ID:
        return False  # global permissions do not reach the system database
    return _global(doc, perm)


def allowed(q: Any, perm: str, db_id: str | None = None, table_id: str | None = None) -> bool:
    """Whether the query's user holds ``perm`` (``write`` includes ``read``)."""
    if q.user_is_admin:
        return True
    doc = user_permissions(q)
    if doc is None:
        return False
    if perm == "connect":
        return _global(doc, "connect")
    if perm == "write" and not has_permission(doc, "read", db_id, table_id):
        return False
    return has_permission(doc, perm, db_id, table_id)


def denied(q: Any, perm: str) -> ReqlPermissionError:
    return ReqlPermissionError(f"User `{q.user}` does not have the required `{perm}` permission.")


def require(q: Any, perm: str, db_id: str | None = None, table_id: str | None = None) -> None:
    """Raise RethinkDB's permission error unless the user holds ``perm`` there."""
    if not allowed(q, perm, db_id, table_id):
        raise denied(q, perm)


def require_table(q: Any, perm: str, table: Table) -> None:
    require(q, perm, table.db.id, table.config.id)


def require_config_all(q: Any, db_id: str, table_ids: list[str]) -> None:
    """``config`` on a database and on every table in it (dropping or reconfiguring it all)."""
    if not allowed(q, "config", db_id):
        raise denied(q, "config")
    for tid in table_ids:
        if not allowed(q, "config", db_id, tid):
            raise denied(q, "config")


# -- hooks of the terms --------------------------------------------------------------------------


async def eval_target(term: Any, q: Any, env: dict) -> Any:
    """Evaluate ``term.args[0]``, the table or database ``term`` acts on, and check the
    permission ``term`` needs there (a table term is opened without its read check)."""
    a = term.args[0]
    if getattr(a.__class__, "opens_table", False):
        value = await a.eval(q, env, False)
    else:
        value = await a.eval(q, env)
    if not q.user_is_admin:
        require_for(q, term.tt, value)
    return value


def require_for(q: Any, tt: int, target: Any) -> None:
    """The permission term type ``tt`` needs on ``target`` (nothing for other values:
    the term reports the wrong type itself)."""
    perm = TERM_PERMISSIONS.get(tt)
    if perm is None:
        return
    if isinstance(target, Database):
        if perm != "config" or target.config.id == SYSTEM_DB_ID:
            return
        if tt == T.CONFIG:
            require(q, "config", target.config.id)
        else:  # reconfigure / rebalance every table of the database
            require_config_all(q, target.config.id, [t.id for t in q.catalog.tables_of(target.name)])
        return
    table = target.table if isinstance(target, SingleSelection) else target
    if not isinstance(table, Table):
        table = getattr(target, "table", None)
        if not isinstance(table, Table):
            return
    if table.db.id == SYSTEM_DB_ID and (perm == "config" or tt == T.SYNC):
        return  # the term's "Database `rethinkdb` is special" answer comes first
    require_table(q, perm, table)


def require_db_create(q: Any) -> None:
    require(q, "config")


def require_db_drop(q: Any, name: str) -> None:
    cfg = q.catalog.get_db(name)
    if cfg is not None:
        require_config_all(q, cfg.id, [t.id for t in q.catalog.tables_of(name)])


def require_table_create(q: Any, db: Database) -> None:
    require(q, "config", db.config.id)


def require_table_drop(q: Any, db: Database, name: str) -> None:
    cfg = q.catalog.get_table(db.name, name)
    if cfg is not None:
        require(q, "config", db.config.id, cfg.id)


# -- permission documents ---------------------------------------------------------------------------


def parse_permissions(value: Any, global_scope: bool) -> dict[str, bool | None]:
    """A permissions object as given to ``grant`` or written to ``rethinkdb.permissions``:
    each named permission to True, False or None (unset), with RethinkDB's errors."""
    if value.__class__ is not dict:
        raise ReqlOpFailedError(f"Expected an object, got {print_datum(value)}.")
    keys = set(value)
    out: dict[str, bool | None] = {}
    for perm in ("read", "write", "config"):
        if perm in value:
            keys.discard(perm)
            out[perm] = _tribool(value[perm], perm)
    if "connect" in value:
        if not global_scope:
            raise ReqlOpFailedError("The `connect` permission is only valid at the global scope.")
        keys.discard("connect")
        out["connect"] = _tribool(value["connect"], "connect")
    if keys:
        raise ReqlOpFailedError(f"Unexpected key(s) `{'`, `'.join(sorted(keys, key=lambda k: k.encode()))}`.")
    return out


def _tribool(v: Any, perm: str) -> bool | None:
    if v is None or v.__class__ is bool:
        return v
    raise ReqlOpFailedError(f"Expected a boolean or null for `{perm}`, got {print_datum(v)}.")


def merged(current: dict | None, changes: dict[str, bool | None]) -> dict:
    """``current`` (a stored scope) with ``changes`` applied; unset permissions dropped."""
    out = dict(current or {})
    for perm, v in changes.items():
        if v is None:
            out.pop(perm, None)
        else:
            out[perm] = v
    return out


def as_datum(scope: dict | None) -> dict | None:
    """A stored scope as RethinkDB shows it: read, write, config, connect; null if empty."""
    if not scope:
        return None
    return {p: scope[p] for p in PERMISSION_NAMES if p in scope} or None


def scope_of(doc: dict, db_id: str | None, table_id: str | None) -> tuple[dict, str | None]:
    """The container of one scope of a permissions document and its key there (None:
    the global scope, stored as ``doc["global"]``)."""
    if table_id is not None:
        return doc.setdefault("tables", {}), table_id
    if db_id is not None:
        return doc.setdefault("databases", {}), db_id
    return doc, None


def scope_get(doc: dict, db_id: str | None, table_id: str | None) -> dict | None:
    container, key = scope_of(doc, db_id, table_id)
    return container.get("global") if key is None else container.get(key)


def scope_set(doc: dict, db_id: str | None, table_id: str | None, value: dict | None) -> None:
    container, key = scope_of(doc, db_id, table_id)
    k = "global" if key is None else key
    if value:
        container[k] = value
    else:
        container.pop(k, None)


def change_scope(db_id: str | None, table_id: str | None, changes: dict[str, bool | None] | None) -> Any:
    """A ``storage.users.update_permissions_job`` change: apply ``changes`` to one scope
    (``None`` clears it); the job's result is ``(old, new)`` as datums."""

    def change(doc: dict) -> tuple[bool, Any]:
        old = scope_get(doc, db_id, table_id)
        new = merged(old, changes) if changes is not None else None
        scope_set(doc, db_id, table_id, new)
        return True, (as_datum(old), as_datum(new))

    return change


__all__ = [
    "PERMISSIONS_TABLE_ID",
    "SYSTEM_DB_ID",
    "TERM_PERMISSIONS",
    "allowed",
    "change_scope",
    "eval_target",
    "parse_permissions",
    "require",
    "require_for",
    "require_table",
    "user_permissions",
]
