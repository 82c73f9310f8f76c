"""Document writes: insert, update, replace, delete — with RethinkDB's result counters.

Every write funnels into ``apply_writes``: for each target key it reads the current
document, computes the new one (evaluating ReQL on the event-loop thread, where it may
yield), and submits compare-and-set operations to the storage writer in batches. A
document that changed in between comes back as a conflict and is recomputed from its
new value, so each document's write is atomic — concurrent increments never lose an
update — without running ReQL inside a storage transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ...datum.keys import encode_key, rethinkdb_key_size
from ...datum.order import datum_eq
from ...datum.printing import print_datum
from ...datum.types import REQL_TYPE, type_name
from ...errors import ReqlError, ReqlQueryLogicError
from ...storage import DocWrite, write_docs_job
from ...wire.ql2 import TermType as T
from ..streams import Stream, to_stream
from ..term import Term, as_datum, as_string, register, type_error
from ..values import Function, SingleSelection, Table
from .db_table import check_durability
from .obj import merge_datums, strip_literals

BATCH = 200  # documents per write job for writes over a stream (one LMDB transaction)
MAX_RETRIES = 10_000

_NO_CHANGE = object()  # compute() result meaning "leave the document as it is"


class WriteError(Exception):
    """A per-document failure: counted in ``errors``, not raised to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def new_stats() -> dict:
    return {"deleted": 0, "errors": 0, "inserted": 0, "replaced": 0, "skipped": 0, "unchanged": 0}


class WriteOptions:
    __slots__ = ("hard", "return_changes", "always")

    def __init__(self, hard: bool, return_changes: bool, always: bool) -> None:
        self.hard = hard
        self.return_changes = return_changes
        self.always = always


async def write_options(term: Term, q: Any, env: dict, table: Table) -> WriteOptions:
    durability = None
    if "durability" in term.optargs:
        durability = check_durability(await term.optargs["durability"].eval(q, env))
    elif q.durability is not None:
        durability = q.durability
    else:
        durability = table.config.durability
    rc = False
    always = False
    if "return_changes" in term.optargs:
        v = as_datum(await term.optargs["return_changes"].eval(q, env))
        if v == "always":
            rc = always = True
        elif v.__class__ is bool:
            rc = v
        else:
            raise ReqlQueryLogicError(
                f"Invalid return_changes value `{print_datum(v)}` (options are `true`, `false`, and `'always'`)."
            )
    return WriteOptions(durability == "hard", rc, always)


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, (ReqlError, WriteError)):
        return exc.message
    return str(exc)


def encode_doc(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc)
    except TypeError:
        raise WriteError("Cannot convert `r.minval` or `r.maxval` to JSON.") from None


def check_new_doc(table: Table, new: Any, key: Any, old: Any) -> None:
    """Validate a replacement value for the document at ``key`` (None: deletion)."""
    if new is None:
        return
    if new.__class__ is not dict or REQL_TYPE in new:
        raise WriteError(f"Inserted value must be an OBJECT (got {type_name(new)}):\n{print_datum(new)}")
    pk = table.primary_key
    if pk not in new:
        raise WriteError(f"Inserted object must have primary key `{pk}`:\n{print_datum(new)}")
    if not datum_eq(new[pk], key):
        shown_old = old if old is not None else {pk: key}
        raise WriteError(
            f"Primary key `{pk}` cannot be changed (`{print_datum(shown_old)}` -> `{print_datum(new)}`)."
        )


Compute = Callable[[Any], Awaitable[Any]]


async def apply_writes(
    q: Any,
    table: Table,
    items: list[tuple[Any, Compute]],
    opts: WriteOptions,
    stats: dict,
    changes: list | None,
) -> None:
    """Apply one batch: for each ``(key, compute)``, ``new = await compute(old)``.

    ``compute`` returns the new document, None to delete, or ``_NO_CHANGE``; it raises
    WriteError/ReqlError for a per-document error. Outcomes are added to ``stats``.
    """
    prefix = table.config.docs_prefix
    pending: list[tuple[bytes, Any, Compute, Any]] = []  # (raw key, key, compute, known current)
    for key, compute in items:
        try:
            if rethinkdb_key_size(key) > 128:
                raise WriteError(
                    f"Primary key too long (max 127 characters): {print_datum(key)}"
                )
            raw_key = prefix + encode_key(key)
        except (ReqlError, WriteError) as exc:
            _record_error(stats, changes, opts, _error_message(exc), None, None)
            continue
        pending.append((raw_key, key, compute, _UNREAD))
    retries = 0
    while pending:
        retries += 1
        if retries > MAX_RETRIES:
            for _, _, _, _ in pending:
                _record_error(stats, changes, opts, "Write conflict: too many retries.", None, None)
            return
        need_read = [p for p in pending if p[3] is _UNREAD]
        if need_read:
            with q.store.read() as txn:
                currents = {p[0]: txn.get(p[0]) for p in need_read}
        else:
            currents = {}
        writes: list[DocWrite] = []
        meta: list[tuple[bytes, Any, Compute, Any, Any, Any]] = []
        seen_keys: set[bytes] = set()
        deferred: list[tuple[bytes, Any, Compute, Any]] = []
        for raw_key, key, compute, known in pending:
            if raw_key in seen_keys:
                # Same document twice in one batch: apply after the first one lands.
                deferred.append((raw_key, key, compute, _UNREAD))
                continue
            seen_keys.add(raw_key)
            cur_bytes = currents[raw_key] if known is _UNREAD else known
            old = None if cur_bytes is None else orjson.loads(cur_bytes)
            try:
                new = await compute(old)
                if new is _NO_CHANGE:
                    new = old
                else:
                    check_new_doc(table, new, key, old)
                if old is None and new is None:
                    stats["skipped"] += 1
                    if opts.always and changes is not None:
                        changes.append({"new_val": None, "old_val": None})
                    continue
                if old is not None and new is not None and datum_eq(old, new):
                    stats["unchanged"] += 1
                    if opts.always and changes is not None:
                        changes.append({"new_val": new, "old_val": old})
                    continue
                new_bytes = None if new is None else encode_doc(new)
            except (ReqlError, WriteError) as exc:
                _record_error(stats, changes, opts, _error_message(exc), old, None)
                continue
            writes.append(DocWrite(raw_key, cur_bytes, new_bytes))
            meta.append((raw_key, key, compute, old, new, cur_bytes))
        pending = deferred
        if not writes:
            continue
        results = await q.store.write(write_docs_job(table.config.id, writes), hard=opts.hard)
        for (raw_key, key, compute, old, new, _), (applied, current) in zip(meta, results):
            if not applied:
                pending.append((raw_key, key, compute, current))
                continue
            if old is None:
                stats["inserted"] += 1
            elif new is None:
                stats["deleted"] += 1
            else:
                stats["replaced"] += 1
            if changes is not None:
                changes.append({"new_val": new, "old_val": old})


_UNREAD = object()


def _record_error(stats: dict, changes: list | None, opts: WriteOptions, msg: str, old: Any, new: Any) -> None:
    stats["errors"] += 1
    if "first_error" not in stats:
        stats["first_error"] = msg
    if changes is not None and opts.always:
        changes.append({"error": msg, "new_val": new, "old_val": old})


def finish_stats(stats: dict, changes: list | None) -> dict:
    if changes is not None:
        stats["changes"] = changes
    return stats


# -- insert ------------------------------------------------------------------------------


@register(T.INSERT)
class Insert(Term):
    __slots__ = ()
    name = "insert"
    argspec = (2, 2)
    optargspec = ("conflict", "durability", "return_changes", "ignore_write_hook")

    async def eval(self, q: Any, env: dict) -> dict:
        table = await self.args[0].eval(q, env)
        if not isinstance(table, Table):
            raise type_error("TABLE", table)
        opts = await write_options(self, q, env, table)
        conflict: Any = "error"
        if "conflict" in self.optargs:
            c = await self.optargs["conflict"].eval(q, env)
            if isinstance(c, Function):
                if c.arity not in (-1, 3):
                    raise ReqlQueryLogicError("The conflict function passed to `insert` should expect 3 arguments.")
                if c.term is not None and not c.term.is_deterministic():
                    raise ReqlQueryLogicError("The conflict function passed to `insert` must be deterministic.")
                conflict = c
            else:
                conflict = as_string(c)
                if conflict not in ("error", "replace", "update"):
                    raise ReqlQueryLogicError(
                        f'Conflict option `{conflict}` unrecognized (options are "error", "replace" and "update").'
                    )
        value = await self.args[1].eval(q, env)
        stats = new_stats()
        changes: list | None = [] if opts.return_changes else None
        generated: list[str] = []
        if isinstance(value, Stream) or getattr(value.__class__, "kind", None) == "TABLE":
            stream = to_stream(q, value)
            while True:
                batch = await stream.next_batch(q, BATCH)
                if batch is None:
                    break
                await self._insert_batch(q, table, batch, conflict, opts, stats, changes, generated)
        else:
            value = as_datum(value)
            docs = value if value.__class__ is list else [value]
            for i in range(0, len(docs), 1000):
                await self._insert_batch(q, table, docs[i : i + 1000], conflict, opts, stats, changes, generated)
        if generated:
            stats["generated_keys"] = generated
        return finish_stats(stats, changes)

    async def _insert_batch(self, q, table, docs, conflict, opts, stats, changes, generated) -> None:
        pk = table.primary_key
        items = []
        for doc in docs:
            if doc.__class__ is not dict or REQL_TYPE in doc:
                _record_error(
                    stats,
                    changes,
                    opts,
                    f"Inserted value must be an OBJECT (got {type_name(doc)}):\n{print_datum(doc)}",
                    None,
                    None,
                )
                continue
            doc = strip_literals(doc)
            if pk not in doc:
                key = str(uuid.uuid4())
                doc = {**doc, pk: key}
                generated.append(key)
            key = doc[pk]
            items.append((key, self._resolver(q, doc, key, conflict, pk)))
        await apply_writes(q, table, items, opts, stats, changes)

    @staticmethod
    def _resolver(q: Any, doc: dict, key: Any, conflict: Any, pk: str) -> Compute:
        async def compute(old: Any) -> Any:
            if old is None:
                return doc
            if conflict == "error":
                raise WriteError(
                    f"Duplicate primary key `{pk}`:\n{print_datum(old)}\n{print_datum(doc)}"
                )
            if conflict == "replace":
                return doc
            if conflict == "update":
                return merge_datums(old, doc)
            return as_datum(await conflict.call(q, [key, old, doc]))

        return compute


# -- update / replace / delete ------------------------------------------------------------


async def selection_targets(q: Any, value: Any, opname: str):
    """The table written and an async iterator of batches of documents to write."""
    if isinstance(value, SingleSelection):
        return value.table, None, [value]
    if isinstance(value, Table):
        return value, to_stream(q, value), None
    if isinstance(value, Stream) and value.table is not None:
        return value.table, value, None
    if isinstance(value, Stream):
        raise ReqlQueryLogicError("Expected type SELECTION but found SEQUENCE.")
    if value.__class__ is list:
        raise ReqlQueryLogicError("Expected type SELECTION but found DATUM.")
    raise ReqlQueryLogicError(f"Expected type SELECTION but found {getattr(value.__class__, 'kind', 'DATUM')}.")


class _Modify(Term):
    """Shared shape of update, replace and delete over a selection."""

    __slots__ = ()

    async def make_compute(self, q: Any, env: dict, table: Table, opts: WriteOptions):
        raise NotImplementedError  # pragma: no cover

    async def eval(self, q: Any, env: dict) -> dict:
        target = await self.args[0].eval(q, env)
        table, stream, singles = await selection_targets(q, target, self.name)
        opts = await write_options(self, q, env, table)
        make = await self.make_compute(q, env, table, opts)
        stats = new_stats()
        changes: list | None = [] if opts.return_changes else None
        pk = table.primary_key
        if singles is not None:
            for s in singles:
                await apply_writes(q, table, [(s.key, make(s.key))], opts, stats, changes)
        else:
            while True:
                batch = await stream.next_batch(q, BATCH)
                if batch is None:
                    break
                items = [(doc[pk], make(doc[pk])) for doc in batch if doc.__class__ is dict and pk in doc]
                await apply_writes(q, table, items, opts, stats, changes)
        return finish_stats(stats, changes)


async def _check_nondeterministic(term: Term, q: Any, env: dict, f: Any) -> None:
    non_atomic = await term.bool_opt("non_atomic", q, env, False)
    if isinstance(f, Function) and f.term is not None and not non_atomic:
        if not f.term.is_deterministic():
            raise ReqlQueryLogicError(
                "Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?"
            )


@register(T.UPDATE)
class Update(_Modify):
    __slots__ = ()
    name = "update"
    argspec = (2, 2)
    optargspec = ("durability", "return_changes", "non_atomic", "ignore_write_hook")

    async def make_compute(self, q: Any, env: dict, table: Table, opts: WriteOptions):
        f = await self.args[1].eval(q, env)
        await _check_nondeterministic(self, q, env, f)

        def make(key: Any) -> Compute:
            async def compute(old: Any) -> Any:
                if old is None:
                    return None
                patch = as_datum(await f.call1(q, old)) if isinstance(f, Function) else as_datum(f)
                if patch is None:
                    return _NO_CHANGE
                if patch.__class__ is not dict:
                    raise WriteError(
                        f"Inserted value must be an OBJECT (got {type_name(patch)}):\n{print_datum(patch)}"
                    )
                return merge_datums(old, patch)

            return compute

        return make


@register(T.REPLACE)
class Replace(_Modify):
    __slots__ = ()
    name = "replace"
    argspec = (2, 2)
    optargspec = ("durability", "return_changes", "non_atomic", "ignore_write_hook")

    async def make_compute(self, q: Any, env: dict, table: Table, opts: WriteOptions):
        f = await self.args[1].eval(q, env)
        await _check_nondeterministic(self, q, env, f)

        def make(key: Any) -> Compute:
            async def compute(old: Any) -> Any:
                new = as_datum(await f.call1(q, old)) if isinstance(f, Function) else as_datum(f)
                return strip_literals(new)

            return compute

        return make


@register(T.DELETE)
class Delete(_Modify):
    __slots__ = ()
    name = "delete"
    argspec = (1, 1)
    optargspec = ("durability", "return_changes", "ignore_write_hook")

    async def make_compute(self, q: Any, env: dict, table: Table, opts: WriteOptions):
        def make(key: Any) -> Compute:
            async def compute(old: Any) -> Any:
                return None

            return compute

        return make
