"""Lazy sequences: streams that are pulled in batches.

A ``Stream`` produces its elements through ``await next_batch(q, hint)``, which
returns a non-empty list, or None once exhausted. ``hint`` is how many elements the
consumer would like (a ``limit(10)`` asks for 10); a stream may return fewer or more.
Transformations wrap their source stream and do their work only when pulled, so
``r.table('big').map(f).limit(10)`` reads a handful of documents, and the server sends
a stream to the client batch by batch (CONTINUE pulls the next batch).

Source streams call ``q.checkpoint()`` once per batch, and per-element transformations
every few dozen elements: that is where a long query yields to other connections and
where STOP or a client disconnect cancels it.

RethinkDB's sequence types map onto streams like this:

* ``TABLE`` is a ``values.Table``; reading it gives a ``TableScan``.
* ``TABLE_SLICE``: a ``TableScan`` with ``slice_kind`` (``between``, ``order_by(index=)``).
* ``SELECTION<STREAM>``: any other stream whose elements are unmodified documents of one
  table; it carries that table in ``table`` so writes (``filter(...).update(...)``) can
  target it.
* ``SELECTION<ARRAY>``: an ``ArrayStream`` with ``is_array`` and a ``table`` (the result of
  ``order_by`` without an index on a table): an array in disguise that is still writable.
* ``STREAM``: a stream without table. ``ARRAY`` values are plain lists (operations on
  arrays compute arrays at once, within ``array_limit``).
* ``GROUPED_STREAM``: a ``GroupedStream`` (``group``), whose elements carry group keys.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ..errors import ReqlNonExistenceError, ReqlQueryLogicError, ReqlResourceLimitError
from .term import as_datum
from .values import Function

DEFAULT_HINT = 1000
# Per-element transformations offer a checkpoint this often (elements).
CHECK_EVERY = 64

INFINITE_MESSAGE = (
    "Cannot use an infinite stream with an aggregation function (`reduce`, `count`, etc.) "
    "or coerce it to an array."
)
FEED_TERMINAL_MESSAGE = (
    "Cannot call a terminal (`reduce`, `count`, etc.) on an infinite stream (such as a changefeed)."
)


def changefeed_of(stream: Any) -> Any:
    """The changefeed a stream reads from (through transformations), or None."""
    depth = 0
    while stream is not None and depth < 64:
        if getattr(stream.__class__, "is_feed", False):
            return stream
        srcs = getattr(stream, "srcs", None)
        if srcs:
            for s_ in srcs:
                f = changefeed_of(s_)
                if f is not None:
                    return f
            return None
        stream = getattr(stream, "src", None)
        depth += 1
    return None


def infinite_error(stream: Any) -> ReqlQueryLogicError:
    """RethinkDB's error for draining an infinite stream (its wording differs for feeds)."""
    if changefeed_of(stream) is not None:
        return ReqlQueryLogicError(FEED_TERMINAL_MESSAGE)
    return ReqlQueryLogicError(INFINITE_MESSAGE)


class Stream:
    """Base class for lazy sequences."""

    __slots__ = ("table",)
    kind = "SEQUENCE"
    infinite = False
    # An array datum in disguise (its elements are known and it is materialised).
    is_array = False
    # A grouped stream (``group``): see GroupedStream.
    is_grouped = False

    def __init__(self, table: Any = None) -> None:
        self.table = table

    def type_of_name(self) -> str:
        return "SELECTION<STREAM>" if self.table is not None else "STREAM"

    def kind_name(self) -> str:
        """The name RethinkDB uses in "Expected type X but found Y" for this stream."""
        return "SELECTION" if self.table is not None else "SEQUENCE"

    async def next_batch(self, q: Any, hint: int) -> list | None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Stop early: the consumer will not read further (a STOP, a satisfied limit);
        later ``next_batch`` calls return None without reading anything."""


class ArrayStream(Stream):
    """A list viewed as a stream.

    With ``is_array`` (the default) it is an array datum in disguise: ``SELECTION<ARRAY>``
    when it has a table, else ``ARRAY``. Without, it is a computed stream whose elements
    happen to be in memory (``get_all``).
    """

    __slots__ = ("items", "pos", "is_array")

    def __init__(self, items: list, table: Any = None, is_array: bool = True) -> None:
        super().__init__(table)
        self.items = items
        self.pos = 0
        self.is_array = is_array  # False: a computed stream (e.g. get_all), not an array datum

    def type_of_name(self) -> str:
        if self.is_array:
            return "SELECTION<ARRAY>" if self.table is not None else "ARRAY"
        return "SELECTION<STREAM>" if self.table is not None else "STREAM"

    def remaining(self) -> list:
        """The elements not read yet (without consuming them)."""
        return self.items if self.pos == 0 else self.items[self.pos :]

    async def next_batch(self, q: Any, hint: int) -> list | None:
        pos = self.pos
        items = self.items
        if pos >= len(items):
            return None
        n = max(hint, DEFAULT_HINT)
        batch = items[pos : pos + n]
        self.pos = pos + len(batch)
        if len(batch) >= DEFAULT_HINT:
            await q.checkpoint()
        return batch

    def close(self) -> None:
        self.pos = len(self.items)


class RangeStream(Stream):
    """``r.range``: integers from ``start`` to ``end`` (exclusive); infinite without end."""

    __slots__ = ("cur", "end")

    def __init__(self, start: int, end: int | None) -> None:
        super().__init__(None)
        self.cur = start
        self.end = end

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.end is None

    async def next_batch(self, q: Any, hint: int) -> list | None:
        cur = self.cur
        n = max(1, min(hint, DEFAULT_HINT))
        stop = cur + n if self.end is None else min(self.end, cur + n)
        if cur >= stop:
            return None
        self.cur = stop
        await q.checkpoint()
        return list(range(cur, stop))

    def close(self) -> None:
        self.end = self.cur


class TableScan(Stream):
    """Documents of a table in primary-key order, read in batches.

    Each batch opens its own short read transaction and resumes after the last key it
    returned, so a scan never pins an old LMDB snapshot between batches and never
    holds the whole table in memory.

    ``slice_kind`` makes it a TABLE_SLICE (``between``, ``order_by(index=...)``);
    ``sorted_by`` names the index an ``order_by(index=...)`` sorted it by.
    """

    __slots__ = (
        "store",
        "prefix",
        "start",
        "end",
        "reverse",
        "last_key",
        "done",
        "batch",
        "slice_kind",
        "sorted_by",
        "bounded",
    )

    def __init__(
        self,
        store: Any,
        table: Any,
        start: bytes | None = None,
        end: bytes | None = None,
        reverse: bool = False,
    ) -> None:
        super().__init__(table)
        self.store = store
        self.prefix = table.config.docs_prefix
        self.start = start
        self.end = end
        self.reverse = reverse
        self.last_key: bytes | None = None
        self.done = False
        self.batch = 16  # first batch small (answer fast), then grow
        self.slice_kind = False
        self.sorted_by: str | None = None
        self.bounded = start is not None or end is not None

    def type_of_name(self) -> str:
        return "TABLE_SLICE" if self.slice_kind else "SELECTION<STREAM>"

    def kind_name(self) -> str:
        return "TABLE_SLICE" if self.slice_kind else "SELECTION"

    def copy(self) -> TableScan:
        """A fresh scan over the same range (not yet read)."""
        c = TableScan(self.store, self.table, self.start, self.end, self.reverse)
        c.done = self.done and self.last_key is None
        c.slice_kind = self.slice_kind
        c.sorted_by = self.sorted_by
        c.bounded = self.bounded
        return c

    async def next_batch(self, q: Any, hint: int) -> list | None:
        raw = await self.next_raw_batch(q, hint)
        if raw is None:
            return None
        loads = orjson.loads
        return [loads(v) for v in raw]

    async def next_raw_batch(self, q: Any, hint: int) -> list[bytes] | None:
        """The next documents as stored (JSON bytes): for a server sending a plain table
        scan to a client, which needs no decode and re-encode."""
        if self.done:
            return None
        from ..storage import scan

        n = max(1, min(max(hint, self.batch), DEFAULT_HINT))
        self.batch = min(self.batch * 4, DEFAULT_HINT)
        with self.store.read() as txn:
            rows = scan(txn, self.prefix, self.start, self.end, n, self.reverse, self.last_key)
        if len(rows) < n:
            self.done = True
        if not rows:
            return None
        self.last_key = rows[-1][0]
        await q.checkpoint()
        return [v for _, v in rows]

    def close(self) -> None:
        self.done = True  # nothing more is read (a stopped cursor, a satisfied limit)


class _Transform(Stream):
    """Shared shape of the per-element transformations below."""

    __slots__ = ("src",)

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    def close(self) -> None:
        self.src.close()


class MapStream(_Transform):
    __slots__ = ("func", "call")

    def __init__(self, src: Stream, func: Function) -> None:
        super().__init__(None)
        self.src = src
        self.func = func
        self.call = fast_call1(func)

    async def next_batch(self, q: Any, hint: int) -> list | None:
        batch = await self.src.next_batch(q, hint)
        if batch is None:
            return None
        call = self.call
        out = []
        append = out.append
        for i, x in enumerate(batch):
            append(as_datum(await call(q, x)))
            if i % CHECK_EVERY == CHECK_EVERY - 1:
                await q.checkpoint()
        return out


class FilterStream(_Transform):
    """Keeps the elements a predicate accepts.

    ``pred(q, x)`` returns whether to keep ``x`` (see ``seq.filter_predicate`` for
    RethinkDB's rules: object patterns, non-existence errors and ``default``). A plain
    ``Function`` is called and its result taken by truthiness, non-existence errors
    counting as false unless ``default`` (a value or a Function) says otherwise.
    """

    __slots__ = ("pred", "default")

    _NO_DEFAULT = object()

    def __init__(self, src: Stream, pred: Any, default: Any = _NO_DEFAULT) -> None:
        super().__init__(src.table)
        self.src = src
        if isinstance(pred, Function):
            pred = _truthy_predicate(pred, default)
        self.pred = pred
        self.default = default

    def type_of_name(self) -> str:
        return self.src.type_of_name() if self.src.table is not None else "STREAM"

    def kind_name(self) -> str:
        return "SELECTION" if self.table is not None else "SEQUENCE"

    async def next_batch(self, q: Any, hint: int) -> list | None:
        pred = self.pred
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out = []
            for i, x in enumerate(batch):
                if await pred(q, x):
                    out.append(x)
                if i % CHECK_EVERY == CHECK_EVERY - 1:
                    await q.checkpoint()
            if out:
                return out


def _truthy_predicate(f: Function, default: Any) -> Callable[[Any, Any], Awaitable[bool]]:
    call = fast_call1(f)

    async def pred(q: Any, x: Any) -> bool:
        try:
            v = await call(q, x)
        except ReqlNonExistenceError:
            if default is FilterStream._NO_DEFAULT:
                return False
            d = await default.call(q, []) if isinstance(default, Function) else default
            return not (d is None or d is False)
        return not (v is None or v is False)

    return pred


class ConcatMapStream(_Transform):
    """``concat_map``: each element's function result (a sequence) spliced in."""

    __slots__ = ("func", "pending")

    def __init__(self, src: Stream, func: Function) -> None:
        super().__init__(None)
        self.src = src
        self.func = func
        self.pending: Stream | None = None

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while True:
            if self.pending is not None:
                b = await self.pending.next_batch(q, hint)
                if b is not None:
                    return b
                self.pending = None
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out: list = []
            for i, x in enumerate(batch):
                if i % CHECK_EVERY == CHECK_EVERY - 1:
                    await q.checkpoint()
                v = await self.func.call1(q, x)
                if v.__class__ is list:
                    out.extend(v)
                    continue
                if getattr(v.__class__, "kind", None) == "TABLE":
                    v = to_stream(q, v)
                if not isinstance(v, Stream):
                    raise sequence_error(v)
                if v.infinite:
                    # spliced lazily; whatever follows it is never reached
                    self.pending = v
                    if out:
                        return out
                    break
                while True:
                    b = await v.next_batch(q, DEFAULT_HINT)
                    if b is None:
                        break
                    out.extend(b)
            if out:
                return out

    def close(self) -> None:
        if self.pending is not None:
            self.pending.close()
        self.src.close()


class SliceStream(_Transform):
    """Elements ``[start, stop)`` of a stream (``stop`` None: to the end).

    ``skip``, ``limit`` and ``slice`` on streams; the source is closed once ``stop`` is
    reached, so ``limit(10)`` reads no further than it needs.
    """

    __slots__ = ("skip", "left")

    def __init__(self, src: Stream, start: int, stop: int | None) -> None:
        super().__init__(src.table)
        self.src = src
        self.skip = start
        self.left = None if stop is None else max(0, stop - start)

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.left is None and self.src.infinite

    def type_of_name(self) -> str:
        return self.src.type_of_name()

    def kind_name(self) -> str:
        return self.src.kind_name()

    async def next_batch(self, q: Any, hint: int) -> list | None:
        left = self.left
        if left is not None and left <= 0:
            self.src.close()
            return None
        while True:
            want = hint if left is None else min(hint, left)
            batch = await self.src.next_batch(q, want + self.skip if self.skip else want)
            if batch is None:
                return None
            if self.skip:
                if len(batch) <= self.skip:
                    self.skip -= len(batch)
                    continue
                batch = batch[self.skip :]
                self.skip = 0
            if left is not None:
                if len(batch) > left:
                    batch = batch[:left]
                self.left = left - len(batch)
            return batch


class ConcatStream(Stream):
    """``union``: the elements of several streams.

    ``interleave`` (RethinkDB's default) takes a batch from each stream in turn, so an
    infinite stream cannot starve the others; otherwise streams are read one after
    another, left to right.
    """

    __slots__ = ("srcs", "interleave", "turn")

    def __init__(self, srcs: list[Stream], interleave: bool = True) -> None:
        super().__init__(None)
        self.srcs = list(srcs)
        self.interleave = interleave
        self.turn = 0

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return any(s.infinite for s in self.srcs)

    async def next_batch(self, q: Any, hint: int) -> list | None:
        srcs = self.srcs
        while srcs:
            i = self.turn % len(srcs) if self.interleave else 0
            batch = await srcs[i].next_batch(q, hint)
            if batch is None:
                del srcs[i]
                continue
            self.turn = i + 1
            return batch
        return None

    def close(self) -> None:
        for s in self.srcs:
            s.close()


class NativeStream(_Transform):
    """A per-element transformation given as ``fn(q, x) -> list of outputs``."""

    __slots__ = ("fn",)

    def __init__(self, src: Stream, fn: Callable[[Any, Any], Awaitable[list]], table: Any = None) -> None:
        super().__init__(table)
        self.src = src
        self.fn = fn

    def type_of_name(self) -> str:
        return self.src.type_of_name() if self.table is not None else "STREAM"

    async def next_batch(self, q: Any, hint: int) -> list | None:
        fn = self.fn
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out: list = []
            for i, x in enumerate(batch):
                out.extend(await fn(q, x))
                if i % CHECK_EVERY == CHECK_EVERY - 1:
                    await q.checkpoint()
            if out:
                return out


class GroupedStream(Stream):
    """``group``: a stream whose elements belong to groups.

    ``keys(q, x)`` gives the group keys of a source element (one, or several with
    ``multi``); ``ops`` are per-element transformations (``fn(q, x) -> outputs``) applied
    after grouping, like RethinkDB's map/filter/concat_map on a grouped stream. Terminal
    operations (``count``, ``sum``, ``reduce``...) consume ``next_pairs`` and produce
    ``GroupedData``; anything else sees the groups materialised (``materialize``).
    """

    __slots__ = ("src", "keys", "ops", "indexed")
    is_grouped = True

    def __init__(
        self, src: Stream, keys: Callable[[Any, Any], Awaitable[list]], ops: tuple = (), indexed: bool = False
    ) -> None:
        super().__init__(None)
        self.src = src
        self.keys = keys
        self.ops = ops
        # indexed: the source yields (index value, element) pairs (``group(index=...)``);
        # ``keys`` sees the pair, the operations the element.
        self.indexed = indexed

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return self.src.infinite

    def type_of_name(self) -> str:
        return "GROUPED_STREAM"

    def transform(self, fn: Callable[[Any, Any], Awaitable[list]], keep_table: bool = False) -> GroupedStream:
        """This grouped stream with one more per-element transformation."""
        return GroupedStream(self.src, self.keys, (*self.ops, fn), self.indexed)

    async def next_pairs(self, q: Any, hint: int) -> list | None:
        """The next batch of ``(key, value)`` pairs, or None once exhausted."""
        ops = self.ops
        keys = self.keys
        while True:
            batch = await self.src.next_batch(q, hint)
            if batch is None:
                return None
            out: list = []
            if not ops and not self.indexed:
                for i, x in enumerate(batch):
                    for k in await keys(q, x):
                        out.append((k, x))
                    if i % CHECK_EVERY == CHECK_EVERY - 1:
                        await q.checkpoint()
                if out:
                    return out
                continue
            for i, x in enumerate(batch):
                ks = await keys(q, x)
                values = [x[1] if self.indexed else x]
                for op in ops:
                    nxt: list = []
                    for v in values:
                        nxt.extend(await op(q, v))
                    values = nxt
                    if not values:
                        break
                for k in ks:
                    for v in values:
                        out.append((k, v))
                if i % CHECK_EVERY == CHECK_EVERY - 1:
                    await q.checkpoint()
            if out:
                return out

    async def next_batch(self, q: Any, hint: int) -> list | None:
        raise ReqlQueryLogicError("Cannot use a grouped stream here; use `ungroup` first.")

    async def materialize(self, q: Any) -> Any:
        """The groups as GroupedData of arrays (RethinkDB's "promiscuous" conversion)."""
        from ..datum.order import hashable

        if self.infinite:
            raise infinite_error(self)
        groups: dict = {}
        size = 0
        limit = q.array_limit
        while True:
            pairs = await self.next_pairs(q, DEFAULT_HINT)
            if pairs is None:
                break
            for k, v in pairs:
                h = hashable(k)
                g = groups.get(h)
                if g is None:
                    g = groups[h] = (k, [])
                    if len(groups) > limit:
                        raise ReqlResourceLimitError(f"Too many groups (> {limit}).")
                g[1].append(v)
            size += len(pairs)
            if size > limit:
                raise ReqlResourceLimitError(
                    f"Grouped data over size limit `{limit}`.  Try putting a reduction "
                    "(like `.reduce` or `.count`) on the end."
                )
        return sorted_grouped(groups)

    def close(self) -> None:
        self.src.close()


def sorted_grouped(groups: dict) -> Any:
    """GroupedData with its groups in ReQL order of their keys (as RethinkDB keeps them)."""
    import functools

    from ..datum.order import compare
    from .values import GroupedData

    items = sorted(groups.items(), key=functools.cmp_to_key(lambda a, b: compare(a[1][0], b[1][0])))
    return GroupedData(dict(items))


def array_limit_error(limit: int) -> ReqlResourceLimitError:
    return ReqlResourceLimitError(
        f"Array over size limit `{limit}`.  To raise the number of allowed elements, "
        "modify the `array_limit` option to `.run` (not available in the Data Explorer), "
        "or use an index."
    )


def check_array_limit(q: Any, n: int) -> None:
    limit = q.array_limit
    if n > limit:
        raise array_limit_error(limit)


async def to_list(q: Any, stream: Stream, limit_check: bool = True) -> Any:
    """Drain a stream into a list (enforcing ``array_limit``).

    A grouped stream drains into GroupedData (arrays per group), which is what
    RethinkDB gives wherever a grouped stream is used as a value (``coerce_to``...).
    """
    if stream.is_grouped:
        return await stream.materialize(q)  # type: ignore[attr-defined]
    if stream.infinite:
        raise infinite_error(stream)
    if stream.is_array and stream.__class__ is ArrayStream:
        items = stream.remaining()  # type: ignore[attr-defined]
        stream.pos = len(stream.items)  # type: ignore[attr-defined]
        if limit_check:
            check_array_limit(q, len(items))
        return items
    out: list = []
    limit = q.array_limit
    while True:
        batch = await stream.next_batch(q, DEFAULT_HINT)
        if batch is None:
            return out
        out.extend(batch)
        if limit_check and len(out) > limit:
            raise array_limit_error(limit)


def sequence_error(value: Any) -> ReqlQueryLogicError:
    """RethinkDB's error for a value used as a sequence that is not one."""
    from ..datum.types import type_name
    from .term import print_value, type_error

    kind = getattr(value.__class__, "kind", None)
    if kind is None or kind == "SINGLE_SELECTION":
        d = value.doc if kind == "SINGLE_SELECTION" else value
        msg = f"Cannot convert {type_name(d)} to SEQUENCE"
        if d is None:
            return ReqlNonExistenceError(msg)
        return ReqlQueryLogicError(msg)
    if kind == "GROUPED_DATA":
        return ReqlQueryLogicError(f"Expected type SEQUENCE but found GROUPED_DATA:\n{print_value(value)}")
    return type_error("SEQUENCE", value)


def to_stream(q: Any, value: Any) -> Stream:
    """A stream over any sequence value (array datum, table, stream); RethinkDB's error otherwise."""
    if isinstance(value, Stream):
        return value
    cls = value.__class__
    if cls is list:
        return ArrayStream(value)
    kind = getattr(cls, "kind", None)
    if kind == "TABLE":
        return TableScan(q.store, value)
    raise sequence_error(value)


def array_items(value: Any) -> list | None:
    """The elements of an array datum or of an array in disguise (SELECTION<ARRAY>)."""
    if value.__class__ is list:
        return value
    if value.__class__ is ArrayStream and value.is_array:
        return value.remaining()
    return None


def is_sequence(value: Any) -> bool:
    return value.__class__ is list or isinstance(value, Stream) or getattr(value.__class__, "kind", None) == "TABLE"


# -- a fast path for the simplest functions ----------------------------------------------
#
# ``lambda d: d['v']``, ``r.row['v'] > 3``, ``lambda d: d['n'] % 2 == 0``: per-element
# functions made of a field access, a constant, a comparison or integer arithmetic are
# evaluated directly in Python, and anything the shortcut is unsure about (a missing field,
# a pseudo-type, mixed types, big or negative numbers...) goes through the function's real
# evaluation, which gives RethinkDB's result or error. These shapes are pure, so trying the
# shortcut first never changes a result.

_SLOW = object()
_NUM = (int, float)
_SCALAR_EQ = (str, bool, type(None))


def _native(term: Any, param: int) -> Callable[[Any], Any] | None:
    """A plain evaluator of ``term`` (the body of a one-parameter function), returning
    ``_SLOW`` where it cannot decide; None if ``term`` is not a shape it knows."""
    from ..wire.ql2 import TermType as T
    from .term import DatumTerm

    if term.__class__ is DatumTerm:
        v = term.value
        if v.__class__ in (int, float, str, bool) or v is None:
            return lambda x: v
        return None
    tt = term.tt
    args = term.args
    if term.optargs:
        return None
    if tt == T.VAR:
        if getattr(term, "var_id", None) == param:
            return lambda x: x
        return None
    if tt in (T.BRACKET, T.GET_FIELD) and len(args) == 2:
        key = args[1]
        if key.__class__ is not DatumTerm or key.value.__class__ is not str:
            return None
        inner = _native(args[0], param)
        if inner is None:
            return None
        field = key.value

        def get(x: Any) -> Any:
            o = inner(x)
            if o.__class__ is dict and field in o and "$reql_type$" not in o:
                return o[field]
            return _SLOW

        return get
    if len(args) != 2:
        return None
    fa = _native(args[0], param)
    fb = _native(args[1], param)
    if fa is None or fb is None:
        return None
    op = _BINARY.get(tt)
    if op is None:
        return None

    def binary(x: Any) -> Any:
        a = fa(x)
        if a is _SLOW:
            return a
        b = fb(x)
        if b is _SLOW:
            return b
        return op(a, b)

    return binary


def _eq(a: Any, b: Any) -> Any:
    ca = a.__class__
    cb = b.__class__
    if ca in _NUM and cb in _NUM:
        return a == b
    if ca in _SCALAR_EQ and cb in _SCALAR_EQ or (ca in _SCALAR_EQ and cb in _NUM) or (ca in _NUM and cb in _SCALAR_EQ):
        return ca is cb and a == b
    return _SLOW


def _ne(a: Any, b: Any) -> Any:
    r = _eq(a, b)
    return r if r is _SLOW else not r


def _order(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def cmp(a: Any, b: Any) -> Any:
        ca = a.__class__
        cb = b.__class__
        if (ca in _NUM and cb in _NUM) or (ca is cb and (ca is str or ca is bool)):
            return test(a, b)
        return _SLOW

    return cmp


_BIG = 2**53


def _int_op(fn: Callable[[int, int], int]) -> Callable[[Any, Any], Any]:
    def op(a: Any, b: Any) -> Any:
        if a.__class__ is int and b.__class__ is int:
            r = fn(a, b)
            if -_BIG <= r <= _BIG:
                return r
        return _SLOW

    return op


def _mod(a: Any, b: Any) -> Any:
    if a.__class__ is int and b.__class__ is int and a >= 0 and b > 0:
        return a % b
    return _SLOW


def _binary_table() -> dict:
    import operator

    from ..wire.ql2 import TermType as T

    return {
        T.EQ: _eq,
        T.NE: _ne,
        T.LT: _order(operator.lt),
        T.LE: _order(operator.le),
        T.GT: _order(operator.gt),
        T.GE: _order(operator.ge),
        T.ADD: _int_op(operator.add),
        T.SUB: _int_op(operator.sub),
        T.MUL: _int_op(operator.mul),
        T.MOD: _mod,
    }


_BINARY = _binary_table()


def fast_call1(f: Function) -> Callable[[Any, Any], Awaitable[Any]]:
    """``f.call1``, with the pure-Python shortcut when ``f``'s body allows one."""
    slow = f.call1
    if f.__class__ is not Function or len(f.params) != 1 or f.body is None:
        return slow
    native = _native(f.body, f.params[0])
    if native is None:
        return slow

    async def call(q: Any, x: Any) -> Any:
        v = native(x)
        if v is _SLOW:
            return await slow(q, x)
        return v

    return call
