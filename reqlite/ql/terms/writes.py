"""Document writes: insert, update, replace, delete, for_each — with RethinkDB's result
objects, write hooks and durability.

Every write funnels into ``apply_writes``: for each target key it reads the current
document, computes the new one (evaluating ReQL on the event-loop thread, where it may
yield), runs the table's write hook, validates the result, and submits compare-and-set
operations to the storage writer in batches. A document that changed in between comes
back as a conflict and is recomputed from its new value, so each document's write is
atomic — concurrent increments never lose an update — without running ReQL inside a
storage transaction.

Result objects follow RethinkDB: the six counters, ``first_error``, ``changes`` (with
``return_changes``; errors appear there only with ``'always'``, as
``{old_val, new_val: old_val, error}``), ``generated_keys`` and ``warnings``. Changes
are reported in the order of the input documents.

Extension points for other layers: ``INDEX_MAINTAINERS`` (coroutine functions
``(q, table_config, old_doc, new_doc) -> (index_del, index_put)`` giving secondary-index
keys to delete and ``(key, value)`` entries to put atomically with a document write) and ``CHANGE_LISTENERS`` (functions
``(q, table_config, changes)`` called after a batch is committed, with the list of
``(old_doc, new_doc)`` actually written).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ...datum.keys import check_primary_key_strings, encode_key, primary_key_too_long
from ...datum.order import datum_eq
from ...datum.printing import print_datum
from ...datum.types import REQL_TYPE, type_name
from ...errors import ReqlError, ReqlOpFailedError, ReqlQueryLogicError
from ...storage import DocWrite, layout, write_docs_job
from ...wire.ql2 import TermType as T
from ..permissions import eval_target
from ..streams import DEFAULT_HINT, Stream, to_stream
from ..term import DatumTerm, Term, as_bool, as_datum, as_function, as_string, register, type_error
from ..values import Function, SingleSelection, Table, kind_of
from .db_table import check_durability
from .obj import merge_datums, strip_literals

BATCH = 200  # documents per write job for writes over a stream (one LMDB transaction)
MAX_RETRIES = 10_000

_NO_CHANGE = object()  # compute() result meaning "leave the document as it is"
_UNREAD = object()

# Documents being written right now (raw key -> (new bytes or None, owner token)). A write
# to such a document computes on the value in flight and expects it: if that write lands
# first (usually in the same group commit), this one applies too; if not, the
# compare-and-set fails and the write is recomputed, as for any conflict.
_IN_FLIGHT: dict[bytes, tuple[bytes | None, object]] = {}

# Hooks other layers install (see the module docstring).
INDEX_MAINTAINERS: list[Callable[[Any, Any, Any, Any], Awaitable[tuple[list[bytes], list[tuple[bytes, bytes]]]]]] = []
CHANGE_LISTENERS: list[Callable[[Any, Any, list[tuple[Any, Any]]], None]] = []


class WriteError(Exception):
    """A per-document failure: counted in ``errors``, not raised to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def new_stats() -> dict:
    return {"deleted": 0, "errors": 0, "inserted": 0, "replaced": 0, "skipped": 0, "unchanged": 0}


class WriteOptions:
    """How one write term runs: durability, what to report, the write hook."""

    __slots__ = ("hard", "return_changes", "always", "hook", "hook_time")

    def __init__(
        self,
        hard: bool,
        return_changes: bool,
        always: bool,
        hook: Function | None = None,
        hook_time: Any = None,
    ) -> None:
        self.hard = hard
        self.return_changes = return_changes
        self.always = always
        self.hook = hook
        self.hook_time = hook_time


async def parse_return_changes(term: Term, q: Any, env: dict) -> tuple[bool, bool]:
    """``return_changes`` (true, false or 'always') -> (return changes, include errors)."""
    if "return_vals" in term.optargs:
        raise ReqlQueryLogicError(
            "Error: encountered obsolete optarg `return_vals`.  Use `return_changes` instead."
        )
    t = term.optargs.get("return_changes")
    if t is None:
        return False, False
    v = as_datum(await t.eval(q, env))
    if v.__class__ is str:
        if v != "always":
            raise ReqlQueryLogicError(
                f"Invalid return_changes value `{v}` (options are `true`, `false`, and `'always'`.)"
            )
        return True, True
    rc = as_bool(v)
    return rc, False


async def write_options(
    term: Term, q: Any, env: dict, table: Table, rc: tuple[bool, bool] | None = None
) -> WriteOptions:
    rc_, always = rc if rc is not None else await parse_return_changes(term, q, env)
    if "durability" in term.optargs:
        durability = check_durability(await term.optargs["durability"].eval(q, env))
    elif q.durability is not None:
        durability = q.durability
    else:
        durability = table.config.durability
    opts = WriteOptions(durability == "hard", rc_, always)
    hook = table.config.write_hook
    if hook is not None:
        ignore = await term.bool_opt("ignore_write_hook", q, env, False)
        if not ignore:
            opts.hook = compile_write_hook(hook)
            opts.hook_time = {REQL_TYPE: "TIME", "epoch_time": round(q.now, 3), "timezone": "+00:00"}
    return opts


# -- write hooks -----------------------------------------------------------------------------

_HOOK_CACHE: dict[bytes, Function] = {}


def compile_write_hook(hook: dict) -> Function:
    """The hook function stored in a table config (its term tree as JSON), compiled once."""
    raw = orjson.dumps(hook["func"])
    f = _HOOK_CACHE.get(raw)
    if f is None:
        from ..compile import compile_term

        term = compile_term(hook["func"])
        f = Function(term.params, term.args[1], {}, term)  # type: ignore[attr-defined]
        if len(_HOOK_CACHE) > 256:
            _HOOK_CACHE.clear()
        _HOOK_CACHE[raw] = f
    return f


async def run_write_hook(q: Any, table: Table, opts: WriteOptions, old: Any, new: Any) -> Any:
    """Apply the table's write hook to a computed write, with RethinkDB's checks."""
    pk = table.primary_key
    key = None
    if new.__class__ is dict and pk in new:
        key = new[pk]
    elif old.__class__ is dict and pk in old:
        key = old[pk]
    ctx = {"primary_key": key, "timestamp": opts.hook_time}
    try:
        modified = as_datum(await opts.hook.call(q, [ctx, old, new]))  # type: ignore[union-attr]
    except ReqlError as exc:
        raise WriteError(f"Error in write hook: {exc.message}") from None
    if modified is None and new is not None:
        raise WriteError("A write hook function must not turn a replace/insert into a deletion.")
    if modified is not None and new is None:
        raise WriteError("A write hook function must not turn a deletion into a replace/insert.")
    return modified


# -- the write path ------------------------------------------------------------------------


def _error_message(exc: BaseException) -> str:
    if isinstance(exc, (ReqlError, WriteError)):
        return exc.message
    return str(exc)


DISK_ARRAY_LIMIT = 100_000


def encode_doc(doc: Any) -> bytes:
    try:
        raw = orjson.dumps(doc)
    except TypeError:
        raise WriteError("`r.minval` and `r.maxval` cannot be written to disk.") from None
    # An array over the limit takes at least two bytes per element: only then look.
    if len(raw) > 2 * DISK_ARRAY_LIMIT and _has_huge_array(doc):
        raise WriteError("Array too large for disk writes (limit 100,000 elements).")
    return raw


def _has_huge_array(v: Any) -> bool:
    c = v.__class__
    if c is list:
        return len(v) > DISK_ARRAY_LIMIT or any(_has_huge_array(x) for x in v if x.__class__ in (list, dict))
    if c is dict:
        return any(_has_huge_array(x) for x in v.values() if x.__class__ in (list, dict))
    return False


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
        if old is None:
            raise WriteError(f"Primary key `{pk}` cannot be changed (null -> {print_datum(new)})")
        raise WriteError(
            f"Primary key `{pk}` cannot be changed (`{print_datum(old)}` -> `{print_datum(new)}`)."
        )


Compute = Callable[[Any], Awaitable[Any]]


class Outcomes:
    """Per-input results of one write term, kept in input order for ``changes``."""

    __slots__ = ("stats", "opts", "entries")

    def __init__(self, stats: dict, opts: WriteOptions) -> None:
        self.stats = stats
        self.opts = opts
        self.entries: list[dict] | None = [] if opts.return_changes else None

    def error(self, msg: str, old: Any) -> dict | None:
        stats = self.stats
        stats["errors"] += 1
        if "first_error" not in stats:
            stats["first_error"] = msg
        if self.opts.always:
            return {"error": msg, "new_val": old, "old_val": old}
        return None

    def done(self, kind: str, old: Any, new: Any) -> dict | None:
        self.stats[kind] += 1
        if kind in ("inserted", "replaced", "deleted"):
            return {"new_val": new, "old_val": old} if self.entries is not None else None
        if self.opts.always:
            return {"new_val": new, "old_val": old}
        return None

    def add(self, entries: list) -> None:
        if self.entries is not None:
            self.entries.extend(e for e in entries if e is not None)


async def apply_writes(q: Any, table: Table, items: list[tuple[Any, Compute]], out: Outcomes) -> None:
    """Apply one batch: for each ``(key, compute)``, ``new = await compute(old)``.

    ``compute`` returns the new document, None to delete, or ``_NO_CHANGE``; it raises
    WriteError/ReqlError for a per-document error. Outcomes are recorded in ``out``.
    """
    system = getattr(table, "apply_system_writes", None)
    if system is not None:
        await system(q, items, out)
        return
    opts = out.opts
    prefix = table.config.docs_prefix
    results: list[Any] = [None] * len(items)
    # (position, raw key, key, compute, known current bytes)
    pending: list[tuple[int, bytes, Any, Compute, Any]] = []
    for i, (key, compute) in enumerate(items):
        if compute is None:  # failed before reaching storage (_FailingKey)
            results[i] = out.error(key.message, None)
            continue
        try:
            raw_key = prefix + encode_key(key)
            check_primary_key_strings(key)
            if primary_key_too_long(key):
                raise WriteError(f"Primary key too long (max 127 characters): {print_datum(key)}")
        except (ReqlError, WriteError) as exc:
            results[i] = out.error(_error_message(exc), None)
            continue
        pending.append((i, raw_key, key, compute, _UNREAD))
    maintainers = INDEX_MAINTAINERS
    retries = 0
    while pending:
        retries += 1
        if retries > MAX_RETRIES:
            for p in pending:
                results[p[0]] = out.error("Write conflict: too many retries.", None)
            break
        need_read = [p for p in pending if p[4] is _UNREAD]
        currents: dict[bytes, Any] = {}
        if need_read:
            with q.store.read() as txn:
                for p in need_read:
                    inflight = _IN_FLIGHT.get(p[1])
                    currents[p[1]] = txn.get(p[1]) if inflight is None else inflight[0]
        writes: list[DocWrite] = []
        meta: list[tuple[int, bytes, Any, Compute, Any, Any]] = []
        seen_keys: set[bytes] = set()
        deferred: list[tuple[int, bytes, Any, Compute, Any]] = []
        for pos, raw_key, key, compute, known in pending:
            if raw_key in seen_keys:
                # Same document twice in one batch: apply after the first one lands.
                deferred.append((pos, raw_key, key, compute, _UNREAD))
                continue
            seen_keys.add(raw_key)
            cur_bytes = currents[raw_key] if known is _UNREAD else known
            old = None if cur_bytes is None else orjson.loads(cur_bytes)
            try:
                new = await compute(old)
                if new is _NO_CHANGE:
                    new = old
                if opts.hook is not None:
                    new = await run_write_hook(q, table, opts, old, new)
                check_new_doc(table, new, key, old)
                if old is None and new is None:
                    results[pos] = out.done("skipped", None, None)
                    continue
                if old is not None and new is not None and datum_eq(old, new):
                    results[pos] = out.done("unchanged", old, new)
                    continue
                new_bytes = None if new is None else encode_doc(new)
                index_del: list[bytes] | None = None
                index_put: list[bytes] | None = None
                for m in maintainers:
                    d, p_ = await m(q, table.config, old, new)
                    if d:
                        index_del = (index_del or []) + list(d)
                    if p_:
                        index_put = (index_put or []) + list(p_)
            except (ReqlError, WriteError) as exc:
                results[pos] = out.error(_error_message(exc), old)
                continue
            writes.append(DocWrite(raw_key, cur_bytes, new_bytes, index_del, index_put))
            meta.append((pos, raw_key, key, compute, old, new))
        pending = deferred
        if not writes:
            continue
        # Announce the values being written, so that writers of the same documents that
        # come next compute on them and share this group commit instead of conflicting.
        token = object()
        for w in writes:
            _IN_FLIGHT[w.key] = (w.new, token)
        try:
            res = await q.store.write(_table_write_job(table, writes), hard=opts.hard)
            if res is None:
                raise ReqlOpFailedError(f"Table `{table.db.name}.{table.name}` does not exist.")
        finally:
            for w in writes:
                entry = _IN_FLIGHT.get(w.key)
                if entry is not None and entry[1] is token:
                    del _IN_FLIGHT[w.key]
        if res == "stale":
            # The table's indexes changed since these writes were computed: recompute
            # them (index entries included) against the current configuration.
            fresh = q.catalog.get_table(table.db.name, table.name)
            if fresh is None:
                raise ReqlOpFailedError(f"Table `{table.db.name}.{table.name}` does not exist.")
            table.config = fresh
            pending.extend((pos, raw_key, key, compute, _UNREAD) for pos, raw_key, key, compute, _, _ in meta)
            pending.sort(key=lambda p: p[0])
            continue
        written: list[tuple[Any, Any]] = []
        for (pos, raw_key, key, compute, old, new), (applied, current) in zip(meta, res, strict=True):
            if not applied:
                inflight = _IN_FLIGHT.get(raw_key)
                pending.append((pos, raw_key, key, compute, current if inflight is None else inflight[0]))
                continue
            kind = "inserted" if old is None else "deleted" if new is None else "replaced"
            results[pos] = out.done(kind, old, new)
            written.append((old, new))
        if written:
            for listener in CHANGE_LISTENERS:
                listener(q, table.config, written)
        if pending:
            pending.sort(key=lambda p: p[0])
    out.add(results)


def _table_write_job(table: Table, writes: list[DocWrite]) -> Callable[[Any], Any]:
    """The storage job for a batch; None as result if the table was dropped meanwhile
    (so no document is written under a dead table's prefix), ``"stale"`` if its indexes
    changed since the batch was computed (its index entries would be incomplete)."""
    inner = write_docs_job(table.config.id, writes)
    if table.db.name == "rethinkdb":  # the scratch table has no catalog entry
        return inner
    id_key = layout.table_id_key(table.config.id)
    epoch_key = layout.index_epoch_key(table.config.id)
    epoch = table.config.index_epoch

    def job(txn: Any) -> Any:
        if txn.get(id_key) is None:
            return None
        if int(txn.get(epoch_key) or b"0") != epoch:
            return "stale"
        return inner(txn)

    return job


def finish_stats(q: Any, out: Outcomes) -> dict:
    stats = out.stats
    entries = out.entries
    if entries is not None:
        limit = q.array_limit
        if len(entries) > limit:
            del entries[limit:]
            add_warning(stats, f"Too many changes, array truncated to {limit}.")
        stats["changes"] = entries
    return stats


def add_warning(stats: dict, msg: str) -> None:
    w = stats.setdefault("warnings", [])
    if msg not in w:
        w.append(msg)


# -- insert ------------------------------------------------------------------------------


@register(T.INSERT)
class Insert(Term):
    __slots__ = ()
    name = "insert"
    argspec = (2, 2)
    optargspec = ("conflict", "durability", "return_changes", "return_vals", "ignore_write_hook")

    async def eval(self, q: Any, env: dict) -> dict:
        table = await eval_target(self, q, env)  # with the user's write permission
        if not isinstance(table, Table):
            raise type_error("TABLE", table)
        conflict: Any = "error"
        rc = await parse_return_changes(self, q, env)  # RethinkDB parses it first
        if "conflict" in self.optargs:
            c = await self.optargs["conflict"].eval(q, env)
            if isinstance(c, Function):
                if c.term is not None and not c.term.is_deterministic():
                    raise ReqlQueryLogicError("The conflict function passed to `insert` must be deterministic.")
                if c.arity not in (-1, 0, 3):
                    raise ReqlQueryLogicError("The conflict function passed to `insert` should expect 3 arguments.")
                conflict = c
            else:
                conflict = as_string(c)
                if conflict not in ("error", "replace", "update"):
                    raise ReqlQueryLogicError(
                        f'Conflict option `{conflict}` unrecognized (options are "error", "replace" and "update").'
                    )
        opts = await write_options(self, q, env, table, rc)
        value = await self.args[1].eval(q, env)
        out = Outcomes(new_stats(), opts)
        generated: list[str] = []
        skipped_keys = [0]
        if isinstance(value, Stream) or kind_of(value) == "TABLE":
            stream = to_stream(q, value)
            while True:
                batch = await stream.next_batch(q, BATCH)
                if batch is None:
                    break
                await self._insert_batch(q, table, batch, conflict, out, generated, skipped_keys)
        else:
            value = as_datum(value)
            docs = value if value.__class__ is list else [value]
            literal_free = self.args[1].__class__ is DatumTerm
            for i in range(0, len(docs), DEFAULT_HINT):
                await self._insert_batch(
                    q, table, docs[i : i + DEFAULT_HINT], conflict, out, generated, skipped_keys, literal_free
                )
        stats = finish_stats(q, out)
        if generated:
            stats["generated_keys"] = generated
        if skipped_keys[0]:
            add_warning(
                stats,
                f"Too many generated keys ({skipped_keys[0] + len(generated)}), "
                f"array truncated to {len(generated)}.",
            )
        return stats

    async def _insert_batch(
        self, q, table, docs, conflict, out, generated, skipped_keys, literal_free: bool = False
    ) -> None:
        """``literal_free``: the documents came as constants from the client, which cannot
        hold ``r.literal`` (only a Literal term makes one), so skip looking for it."""
        pk = table.primary_key
        items: list[tuple[Any, Compute]] = []
        errors: list[tuple[int, str]] = []
        for doc in docs:
            if doc.__class__ is not dict or REQL_TYPE in doc:
                errors.append(
                    (len(items), f"Inserted value must be an OBJECT (got {type_name(doc)}):\n{print_datum(doc)}")
                )
                continue
            if not literal_free:
                doc = strip_literals(doc)
            if pk not in doc:
                key = str(uuid.uuid4())
                doc = {**doc, pk: key}
                if len(generated) < q.array_limit:
                    generated.append(key)
                else:
                    skipped_keys[0] += 1
            key = doc[pk]
            items.append((key, self._resolver(q, doc, key, conflict, pk)))
        if errors:
            # Keep the input order: interleave the failures with the writes.
            items = _with_errors(items, errors)
        await apply_writes(q, table, items, out)

    @staticmethod
    def _resolver(q: Any, doc: dict, key: Any, conflict: Any, pk: str) -> Compute:
        async def compute(old: Any) -> Any:
            if old is None:
                return doc
            if conflict == "error":
                raise WriteError(f"Duplicate primary key `{pk}`:\n{print_datum(old)}\n{print_datum(doc)}")
            if conflict == "replace":
                return doc
            if conflict == "update":
                return merge_datums(old, doc)
            return as_datum(await conflict.call(q, [key, old, doc]))

        return compute


class _FailingKey:
    """A stand-in key for an input that failed before reaching storage."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


def _with_errors(items: list, errors: list[tuple[int, str]]) -> list:
    out = []
    it = iter(errors)
    nxt = next(it, None)
    for i, item in enumerate(items):
        while nxt is not None and nxt[0] == i:
            out.append((_FailingKey(nxt[1]), None))
            nxt = next(it, None)
        out.append(item)
    while nxt is not None:
        out.append((_FailingKey(nxt[1]), None))
        nxt = next(it, None)
    return out


# -- update / replace / delete ------------------------------------------------------------


async def selection_targets(q: Any, value: Any, opname: str) -> tuple[Table, Stream | None, list | None]:
    """The table written and either a stream of its documents or single selections."""
    if isinstance(value, SingleSelection):
        return value.table, None, [value]
    if isinstance(value, Table):
        return value, to_stream(q, value), None
    if isinstance(value, Stream) and value.table is not None:
        return value.table, value, None
    if isinstance(value, Stream):
        raise ReqlQueryLogicError("Expected type SELECTION but found SEQUENCE.")
    kind = kind_of(value)
    if kind == "DATUM":
        raise ReqlQueryLogicError(f"Expected type SELECTION but found DATUM:\n{print_datum(value)}")
    raise ReqlQueryLogicError(f"Expected type SELECTION but found {kind}.")


class _Modify(Term):
    """Shared shape of update, replace and delete over a selection."""

    __slots__ = ()

    async def make_compute(self, q: Any, env: dict, table: Table) -> Callable[[Any], Compute]:
        raise NotImplementedError  # pragma: no cover

    async def eval(self, q: Any, env: dict) -> dict:
        target = await eval_target(self, q, env)  # with the user's write permission
        table, stream, singles = await selection_targets(q, target, self.name)
        opts = await write_options(self, q, env, table)
        make = await self.make_compute(q, env, table)
        out = Outcomes(new_stats(), opts)
        pk = table.primary_key
        if singles is not None:
            for s in singles:
                await apply_writes(q, table, [(s.key, make(s.key))], out)
        else:
            assert stream is not None
            while True:
                batch = await stream.next_batch(q, BATCH)
                if batch is None:
                    break
                items = [(doc[pk], make(doc[pk])) for doc in batch if doc.__class__ is dict and pk in doc]
                await apply_writes(q, table, items, out)
        return finish_stats(q, out)


async def _check_deterministic(term: Term, q: Any, env: dict) -> None:
    """RethinkDB refuses a non-deterministic update/replace argument unless ``non_atomic``."""
    non_atomic = await term.bool_opt("non_atomic", q, env, False)
    if not non_atomic and not term.args[1].is_deterministic():
        raise ReqlQueryLogicError(
            "Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?"
        )


async def _func_or_value(term: Term, q: Any, env: dict) -> Any:
    v = await term.args[1].eval(q, env)
    if isinstance(v, Function):
        return v
    if kind_of(v) != "DATUM" and not isinstance(v, SingleSelection):
        return as_function(v)  # raises RethinkDB's type error
    return as_datum(v)


@register(T.UPDATE)
class Update(_Modify):
    __slots__ = ()
    name = "update"
    argspec = (2, 2)
    optargspec = ("durability", "return_changes", "return_vals", "non_atomic", "ignore_write_hook")

    async def make_compute(self, q: Any, env: dict, table: Table) -> Callable[[Any], Compute]:
        await _check_deterministic(self, q, env)
        f = await _func_or_value(self, q, env)

        def make(key: Any) -> Compute:
            async def compute(old: Any) -> Any:
                if old is None:
                    return None
                patch = as_datum(await f.call1(q, old)) if isinstance(f, Function) else f
                if patch is None:
                    return _NO_CHANGE
                if patch.__class__ is not dict or REQL_TYPE in patch and patch[REQL_TYPE] != "LITERAL":
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
    optargspec = ("durability", "return_changes", "return_vals", "non_atomic", "ignore_write_hook")

    async def make_compute(self, q: Any, env: dict, table: Table) -> Callable[[Any], Compute]:
        await _check_deterministic(self, q, env)
        f = await _func_or_value(self, q, env)

        def make(key: Any) -> Compute:
            async def compute(old: Any) -> Any:
                new = as_datum(await f.call1(q, old)) if isinstance(f, Function) else f
                return strip_literals(new)

            return compute

        return make


@register(T.DELETE)
class Delete(_Modify):
    __slots__ = ()
    name = "delete"
    argspec = (1, 1)
    optargspec = ("durability", "return_changes", "return_vals", "ignore_write_hook")

    async def make_compute(self, q: Any, env: dict, table: Table) -> Callable[[Any], Compute]:
        async def compute(old: Any) -> Any:
            return None

        def make(key: Any) -> Compute:
            return compute

        return make


# -- for_each ----------------------------------------------------------------------------------

FOR_EACH_FAIL = "FOR_EACH expects one or more basic write queries."


def stats_merge(left: dict, right: dict, q: Any) -> dict:
    """RethinkDB's merge of write results: numbers add, arrays concatenate (up to the
    array limit), strings keep the first value; anything else cannot be merged."""
    out = dict(left)
    truncated = False
    for k, r in right.items():
        if k not in out:
            out[k] = r
            continue
        lv = out[k]
        lc, rc = lv.__class__, r.__class__
        if lc in (int, float) and rc in (int, float) and lc is not bool and rc is not bool:
            from ...datum.types import num

            out[k] = num(lv + r)
        elif lc is list and rc is list:
            merged = lv + r
            limit = q.array_limit
            if len(merged) > limit:
                merged = merged[:limit]
                truncated = True
            out[k] = merged
        elif lc is str and rc is str:
            pass  # left-preferential
        else:
            from ...datum.printing import trunc_print

            raise ReqlQueryLogicError(
                f"Cannot merge statistics `{trunc_print(lv)}` (type {type_name(lv)}) and "
                f"`{trunc_print(r)}` (type {type_name(r)})."
            )
    if truncated:
        add_warning(out, f"Too many changes, array truncated to {q.array_limit}.")
    return out


@register(T.FOR_EACH)
class ForEach(Term):
    __slots__ = ()
    name = "for_each"
    argspec = (2, 2)

    async def eval(self, q: Any, env: dict) -> dict:
        stream = to_stream(q, await self.args[0].eval(q, env))
        f = as_function(await self.args[1].eval(q, env))
        stats: dict = {}
        while True:
            batch = await stream.next_batch(q, DEFAULT_HINT)
            if batch is None:
                break
            for row in batch:
                v = await f.call1(q, row)
                if kind_of(v) != "DATUM":
                    raise ReqlQueryLogicError(FOR_EACH_FAIL)
                if v.__class__ is dict:
                    stats = stats_merge(stats, v, q)
                elif v.__class__ is list:
                    for d in v:
                        if d.__class__ is not dict:
                            raise ReqlQueryLogicError(
                                f"{FOR_EACH_FAIL}  Expected type OBJECT but found {type_name(d)}."
                            )
                        stats = stats_merge(stats, d, q)
                else:
                    raise ReqlQueryLogicError(
                        f"{FOR_EACH_FAIL}  Expected type ARRAY but found {type_name(v)}."
                    )
        return stats
