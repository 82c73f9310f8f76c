"""Secondary index administration: index_create/drop/list/rename/status/wait."""

from __future__ import annotations

import re
from typing import Any

from ...datum.types import is_binary
from ...errors import ReqlOpFailedError, ReqlQueryLogicError
from ...storage.catalog import index_create_job, index_drop_job, index_rename_job
from ...wire.ql2 import TermType as T
from .. import indexing
from ..permissions import eval_target
from ..term import Term, as_datum, as_string, register, type_error
from ..values import Function, Table

NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")


async def _table_arg(term: Term, q: Any, env: dict) -> Table:
    t = await eval_target(term, q, env)  # with the user's config permission where needed
    if not isinstance(t, Table):
        raise type_error("TABLE", t)
    return t


def _display(table: Table) -> str:
    return f"{table.db.name}.{table.name}"


def _check_index_name(table: Table, name: str) -> None:
    if name == table.primary_key:
        raise ReqlQueryLogicError(f"Index name conflict: `{name}` is the name of the primary key.")
    if not NAME_RE.match(name):
        raise ReqlQueryLogicError(f"Index name `{name}` invalid (Use A-Z, a-z, 0-9, _ and - only).")


@register(T.INDEX_CREATE)
class IndexCreate(Term):
    __slots__ = ("raw_args",)
    name = "index_create"
    argspec = (2, 3)
    optargspec = ("multi", "geo")
    keeps_raw_args = True

    async def eval(self, q: Any, env: dict) -> dict:
        table = await _table_arg(self, q, env)
        name = as_string(await self.args[1].eval(q, env))
        _check_index_name(table, name)
        multi = await self.bool_opt("multi", q, env, False)
        geo = await self.bool_opt("geo", q, env, False)
        function = indexing.default_function(name)
        if len(self.args) == 3:
            raw = getattr(self, "raw_args", None)
            value = await self.args[2].eval(q, env)
            if not isinstance(value, Function):
                value = as_datum(value)
                if is_binary(value):
                    definition = indexing.definition_from_blob(value)
                    if definition is None:
                        raise ReqlQueryLogicError("Cannot create an index from this binary (not an index function).")
                    # The blob carries the whole definition (RethinkDB's restore relies on it).
                    function = definition["function"]
                    multi = multi or definition["multi"]
                    geo = geo or definition["geo"]
                else:
                    function = [69, [[2, []], raw[2] if raw is not None else value]]
            else:
                if not self.args[2].is_deterministic():
                    raise ReqlQueryLogicError("Could not prove function deterministic.  Index functions must be deterministic.")
                if raw is None:
                    raise ReqlQueryLogicError("Cannot create an index from a function spliced with r.args.")
                function = raw[2]
        spec = indexing.new_spec(function, multi, geo)
        res = await q.store.write(index_create_job(table.db.name, table.name, name, spec), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Table `{_display(table)}` does not exist.")
        if res == "exists":
            raise ReqlOpFailedError(f"Index `{name}` already exists on table `{_display(table)}`.")
        _, cfg = res
        fresh = q.catalog.get_table(table.db.name, table.name) or cfg
        indexing.start_build(q.store, fresh, spec)
        return {"created": 1}


@register(T.INDEX_DROP)
class IndexDrop(Term):
    __slots__ = ()
    name = "index_drop"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> dict:
        table = await _table_arg(self, q, env)
        name = as_string(await self.args[1].eval(q, env))
        res = await q.store.write(index_drop_job(table.db.name, table.name, name), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Table `{_display(table)}` does not exist.")
        if res == "missing":
            raise ReqlOpFailedError(f"Index `{name}` does not exist on table `{_display(table)}`.")
        return {"dropped": 1}


@register(T.INDEX_LIST)
class IndexList(Term):
    __slots__ = ()
    name = "index_list"
    argspec = (1, 1)

    async def eval(self, q: Any, env: dict) -> list:
        table = await _table_arg(self, q, env)
        cfg = q.catalog.get_table(table.db.name, table.name) or table.config
        return sorted(cfg.indexes)


@register(T.INDEX_RENAME)
class IndexRename(Term):
    __slots__ = ()
    name = "index_rename"
    argspec = (3, 3)
    optargspec = ("overwrite",)

    async def eval(self, q: Any, env: dict) -> dict:
        table = await _table_arg(self, q, env)
        old = as_string(await self.args[1].eval(q, env))
        new = as_string(await self.args[2].eval(q, env))
        overwrite = await self.bool_opt("overwrite", q, env, False)
        for n in (old, new):
            if n == table.primary_key:
                raise ReqlQueryLogicError(f"Index name conflict: `{n}` is the name of the primary key.")
        if not NAME_RE.match(new):
            raise ReqlQueryLogicError(f"Index name `{new}` invalid (Use A-Z, a-z, 0-9, _ and - only).")
        res = await q.store.write(index_rename_job(table.db.name, table.name, old, new, overwrite), catalog=True)
        if res is None:
            raise ReqlOpFailedError(f"Table `{_display(table)}` does not exist.")
        if res in ("missing", "exists"):
            raise ReqlOpFailedError(
                f"Index `{old}` does not exist or index `{new}` already exists on table `{_display(table)}`."
            )
        renamed, _ = res
        return {"renamed": 1 if renamed else 0}


def index_status_doc(name: str, spec: dict) -> dict:
    doc = {
        "index": name,
        "ready": bool(spec.get("ready")),
        "function": indexing.function_blob(spec),
        "geo": bool(spec.get("geo")),
        "multi": bool(spec.get("multi")),
        "outdated": False,
        "query": _query_text(name, spec),
    }
    if not doc["ready"]:
        done, total = indexing.BUILD_PROGRESS.get(spec["id"], (0, 0))
        doc["progress"] = (done / total) if total else 0
        doc["blocks_processed"] = done
        doc["blocks_total"] = total
    return doc


def _query_text(name: str, spec: dict) -> str:
    import orjson

    opts = []
    if spec.get("multi"):
        opts.append("multi: true")
    if spec.get("geo"):
        opts.append("geo: true")
    extra = ", {" + ", ".join(opts) + "}" if opts else ""
    return f"indexCreate({orjson.dumps(name).decode()}, {orjson.dumps(spec['function']).decode()}{extra})"


async def _statuses(term: Term, q: Any, env: dict, table: Table) -> tuple[list[str], dict]:
    names = [as_string(await a.eval(q, env)) for a in term.args[1:]]
    cfg = q.catalog.get_table(table.db.name, table.name) or table.config
    for n in names:
        if n not in cfg.indexes:
            raise ReqlOpFailedError(f"Index `{n}` was not found on table `{_display(table)}`.")
    return (names or sorted(cfg.indexes)), cfg.indexes


@register(T.INDEX_STATUS)
class IndexStatus(Term):
    __slots__ = ()
    name = "index_status"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> list:
        table = await _table_arg(self, q, env)
        names, indexes = await _statuses(self, q, env, table)
        return [index_status_doc(n, indexes[n]) for n in names]


@register(T.INDEX_WAIT)
class IndexWait(Term):
    __slots__ = ()
    name = "index_wait"
    argspec = (1, None)

    async def eval(self, q: Any, env: dict) -> list:
        table = await _table_arg(self, q, env)
        names, _ = await _statuses(self, q, env, table)
        await indexing.wait_ready(q, table, names)
        cfg = q.catalog.get_table(table.db.name, table.name) or table.config
        return [index_status_doc(n, cfg.indexes[n]) for n in names if n in cfg.indexes]
