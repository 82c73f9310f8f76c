"""Changefeeds in the query layer: what a ``.changes()`` listens to, and the feed stream.

``changes()`` is applied to a selection; ``analyze`` takes that (unread) selection apart:
the table, what part of it (everything, one key, a primary-key or index range, a set of
keys, or the top N rows of an index ordering), and the per-document transformations
(``map``, ``filter``, ``pluck``…) applied before ``changes``. The feed subscribes to the
table in the changefeed hub, then (``include_initial``) sends the selection's current
contents, then the changes as they are committed, each transformation applied to the
old and the new value (a value the transformation drops or fails on becomes null; a
change with both sides null is not sent), as RethinkDB does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ..changefeeds.hub import DEFAULT_QUEUE_SIZE, ChangefeedHub, Subscription
from ..datum.keys import encode_key
from ..datum.order import datum_eq
from ..errors import ReqlError, ReqlQueryLogicError
from .streams import (
    ArrayStream,
    FilterStream,
    MapStream,
    NativeStream,
    SliceStream,
    Stream,
    TableScan,
)
from .term import as_datum
from .values import SingleSelection, Table

NON_DETERMINISTIC = "Cannot call `changes` after a non-deterministic function."

# Response notes (ql2.proto Response.ResponseNote)
SEQUENCE_FEED = 1
ATOM_FEED = 2
ORDER_BY_LIMIT_FEED = 3


def hub_of(store: Any) -> ChangefeedHub:
    hub = getattr(store, "feeds", None)
    if hub is None:
        hub = store.feeds = ChangefeedHub()
    return hub


def publish(q: Any, cfg: Any, changes: list[tuple[Any, Any]]) -> None:
    """The write path's change listener: hand committed changes to the hub."""
    hub = getattr(q.store, "feeds", None)
    if hub is not None and hub.has_subscribers(cfg.id):
        hub.publish(cfg.id, changes)


Transform = Callable[[Any, Any], Awaitable[list]]  # (q, value) -> [] (dropped) or [value']


class FeedSource:
    """What a changefeed listens to (see ``analyze``)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.kind = "table"  # table | point | range | keys | top
        self.key: Any = None  # point feeds
        self.accept_doc: Callable[[Any], Awaitable[bool]] | None = None  # range/keys: is a doc in?
        self.transforms: list[Transform] = []
        self.initial: Stream | None = None  # the selection as given (for include_initial)
        self.limit = 0  # top feeds
        self.rescan: Callable[[], Stream] | None = None  # top feeds: a fresh ordered scan


async def _doc_in_range(q: Any, scan: Any) -> Callable[[Any], Awaitable[bool]]:
    from . import indexing

    if isinstance(scan, TableScan):
        prefix = scan.prefix
        start = scan.start
        end = scan.end
        pk = scan.table.primary_key

        async def accept(doc: Any) -> bool:
            key = prefix + encode_key(doc[pk])
            return (start is None or key >= start) and (end is None or key < end)

        return accept
    spec = scan.spec
    accept_value = scan.accept
    lo = scan.start[len(scan.prefix):]
    hi = scan.end[len(scan.prefix):]

    async def accept_idx(doc: Any) -> bool:
        for v in await indexing.index_values(q, spec, doc):
            ev = indexing.encode_value(v)
            if ev is None:
                continue
            enc, truncated = ev
            if truncated:
                if accept_value(v):
                    return True
            elif lo <= enc < hi:
                return True
        return False

    return accept_idx


async def analyze(q: Any, value: Any) -> FeedSource:
    """Take a selection apart into a FeedSource, or raise RethinkDB's error."""
    from . import indexing

    if isinstance(value, Table):
        src = FeedSource(value)
        src.initial = TableScan(q.store, value)
        return src
    if isinstance(value, SingleSelection):
        src = FeedSource(value.table)
        src.kind = "point"
        src.key = value.key
        return src
    if not isinstance(value, Stream):
        raise ReqlQueryLogicError("Cannot call `changes` on an eager stream.")
    transforms: list[Transform] = []
    node = value
    top_limit = None
    while True:
        if isinstance(node, MapStream):
            f = node.func
            if f.term is not None and not f.term.is_deterministic():
                raise ReqlQueryLogicError(NON_DETERMINISTIC)

            async def do_map(q_: Any, x: Any, f: Any = f) -> list:
                return [as_datum(await f.call1(q_, x))]

            transforms.append(do_map)
            node = node.src
        elif isinstance(node, FilterStream):
            pred = node.pred
            if not _pred_deterministic(node):
                raise ReqlQueryLogicError(NON_DETERMINISTIC)

            async def do_filter(q_: Any, x: Any, pred: Any = pred) -> list:
                return [x] if await pred(q_, x) else []

            transforms.append(do_filter)
            node = node.src
        elif isinstance(node, NativeStream):
            fn = node.fn
            transforms.append(fn)
            node = node.src
        elif isinstance(node, SliceStream) and not transforms and node.skip == 0 and node.left is not None:
            top_limit = node.left
            node = node.src
        else:
            break
    transforms.reverse()
    refusal = getattr(node, "changes_refusal", None)  # a source with its own message (r.http)
    if refusal is not None:
        raise ReqlQueryLogicError(refusal)
    table = node.table
    if table is None:
        raise ReqlQueryLogicError("Cannot call `changes` on an eager stream.")
    src = FeedSource(table)
    src.transforms = transforms
    src.initial = value
    ordered = isinstance(node, (TableScan, indexing.IndexScan)) and node.type_of_name() == "TABLE_SLICE" and (
        getattr(node, "sorted_by", None) is not None or isinstance(node, indexing.IndexScan)
    )
    if top_limit is not None:
        if not ordered:
            raise ReqlQueryLogicError("Cannot call `changes` on an eager stream.")
        src.kind = "top"
        src.limit = top_limit
        template = node

        def rescan() -> Stream:
            return SliceStream(_fresh(q, template), 0, top_limit)

        src.rescan = rescan
        return src
    if isinstance(node, TableScan):
        if node.bounded:
            src.kind = "range"
            src.accept_doc = await _doc_in_range(q, node)
        return src
    if isinstance(node, indexing.IndexScan):
        src.kind = "range"
        src.accept_doc = await _doc_in_range(q, node)
        return src
    if isinstance(node, indexing.ChainStream):
        parts = [p for p in node.parts if isinstance(p, indexing.IndexScan)]
        checks = [await _doc_in_range(q, p) for p in parts]

        async def in_any(doc: Any) -> bool:
            for c in checks:
                if await c(doc):
                    return True
            return False

        src.kind = "keys"
        src.accept_doc = in_any
        return src
    if isinstance(node, ArrayStream) and not node.is_array:
        pk = table.primary_key
        keys = [encode_key(d[pk]) for d in node.items if isinstance(d, dict) and pk in d]
        wanted = set(keys)

        async def in_keys(doc: Any) -> bool:
            return encode_key(doc[pk]) in wanted

        src.kind = "keys"
        src.accept_doc = in_keys
        return src
    raise ReqlQueryLogicError("Cannot call `changes` on an eager stream.")


def _pred_deterministic(node: FilterStream) -> bool:
    """Whether a filter's predicate is deterministic (it may wrap the ReQL function)."""
    return _closure_deterministic(node.pred, 0)


def _closure_deterministic(obj: Any, depth: int) -> bool:
    from .values import Function

    if depth > 4:
        return True
    if isinstance(obj, Function):
        return obj.term is None or obj.term.is_deterministic()
    owner = getattr(obj, "__self__", None)
    if owner is not None and not isinstance(owner, type):
        return _closure_deterministic(owner, depth + 1)
    for cell in getattr(obj, "__closure__", None) or ():
        try:
            v = cell.cell_contents
        except ValueError:
            continue
        if not _closure_deterministic(v, depth + 1):
            return False
    return True


def _fresh(q: Any, scan: Any) -> Stream:
    from . import indexing

    if isinstance(scan, TableScan):
        return scan.copy()
    assert isinstance(scan, indexing.IndexScan)
    s = indexing.IndexScan(
        q,
        scan.table,
        scan.spec,
        scan.start[len(scan.prefix):],
        scan.end[len(scan.prefix):],
        scan.reverse,
        scan.accept,
        scan.kind_name_,
        scan.index,
    )
    return s


class FeedStream(Stream):
    """An infinite stream of change notifications for one FeedSource."""

    __slots__ = (
        "q", "src", "sub", "squash", "include_initial", "include_states", "include_types",
        "include_offsets", "phase", "top", "pk", "note", "ready",
    )
    is_feed = True

    def __init__(
        self,
        q: Any,
        src: FeedSource,
        squash: Any,
        queue_size: int,
        include_initial: bool,
        include_states: bool,
        include_types: bool,
        include_offsets: bool,
    ) -> None:
        super().__init__(None)
        self.q = q
        self.src = src
        self.squash = squash
        self.include_initial = include_initial
        self.include_states = include_states
        self.include_types = include_types
        self.include_offsets = include_offsets
        self.pk = src.table.primary_key
        self.phase = "start"
        self.top: list[Any] = []
        # Set once the initial part (states, initial values) has been handed out: the
        # server then answers the START even if no change has arrived yet.
        self.ready = trio.Event()
        self.note = (
            ATOM_FEED if src.kind == "point" else ORDER_BY_LIMIT_FEED if src.kind == "top" else SEQUENCE_FEED
        )
        pk = self.pk

        def key_of(change: tuple[Any, Any]) -> Any:
            doc = change[1] if change[1] is not None else change[0]
            try:
                return encode_key(doc[pk])
            except (KeyError, TypeError, ReqlError):
                return id(change)

        accept = None
        if src.kind == "point":
            key = src.key

            def accept(old: Any, new: Any) -> bool:
                doc = new if new is not None else old
                return doc is not None and datum_eq(doc.get(pk), key)

        self.sub: Subscription = hub_of(q.store).subscribe(
            src.table.config.id, key_of, accept, bool(squash), queue_size
        )

    @property
    def infinite(self) -> bool:  # type: ignore[override]
        return True

    def type_of_name(self) -> str:
        return "STREAM"

    def close(self) -> None:
        self.sub.close()

    # -- formatting ----------------------------------------------------------------

    def _item(self, old: Any, new: Any, kind: str | None, with_old: bool = True) -> dict:
        item: dict[str, Any] = {"new_val": new}
        if with_old:
            item["old_val"] = old
        if self.include_types and kind is not None:
            item["type"] = kind
        return item

    def _state(self, state: str) -> dict:
        item: dict[str, Any] = {"state": state}
        if self.include_types:
            item["type"] = "state"
        return item

    async def _apply(self, q: Any, value: Any) -> Any:
        """The value after the feed's transformations; None if dropped or failed."""
        if value is None:
            return None
        for t in self.src.transforms:
            try:
                out = await t(q, value)
            except ReqlError:
                return None
            if not out:
                return None
            value = out[0]
        return value

    def _virtual_table(self) -> bool:
        spec = getattr(self.src.table, "spec", None)
        return spec is not None and getattr(spec, "virtual", False)

    # -- reading -------------------------------------------------------------------

    async def next_batch(self, q: Any, hint: int) -> list | None:
        if self.phase == "start":
            self.phase = "changes"
            out = await self._initial(q)
            if out:
                return out
        while True:
            self.ready.set()
            if self.sub.closed:
                return None  # the cursor was closed (STOP, connection gone): the feed ends
            if self._virtual_table():
                # A system table changes with the catalog, not through writes: look again
                # every half second (the comparison publishes what changed).
                with trio.move_on_after(0.5):
                    await self.sub.wait()
                if not self.sub.pending and not self.sub.skipped:
                    from .terms.admin import materialize

                    await materialize(q, self.src.table)
                    continue
            else:
                await self.sub.wait()
            if self.squash and not isinstance(self.squash, bool) and self.squash > 0:
                await self.sub.wait_for_backlog(float(self.squash))
            changes, skipped = self.sub.take()
            out: list = []
            if skipped:
                out.append(
                    {"error": f"Changefeed cache over array size limit, skipped {skipped} elements."}
                )
            if self.src.kind == "top":
                out.extend(await self._top_changes(q))
            else:
                for old, new in changes:
                    item = await self._change(q, old, new)
                    if item is not None:
                        out.append(item)
            if out:
                return out

    async def _change(self, q: Any, old: Any, new: Any) -> dict | None:
        accept = self.src.accept_doc
        if accept is not None:
            if old is not None and not await accept(old):
                old = None
            if new is not None and not await accept(new):
                new = None
        old_v = await self._apply(q, old)
        new_v = await self._apply(q, new)
        if old_v is None and new_v is None:
            return None
        if self.src.kind != "point" and old_v is not None and new_v is not None and datum_eq(old_v, new_v):
            if not datum_eq(old, new):
                return None  # the transformed values did not change
        kind = "add" if old_v is None else "remove" if new_v is None else "change"
        return self._item(old_v, new_v, kind)

    async def _initial(self, q: Any) -> list:
        out: list = []
        if self.include_states and self.include_initial:
            out.append(self._state("initializing"))
        src = self.src
        if src.kind == "point":
            if self.include_initial:
                from .terms.db_table import read_doc

                doc = read_doc(q, src.table, src.key)
                out.append(self._item(None, await self._apply(q, doc), "initial", with_old=False))
        elif src.kind == "top":
            self.top = await self._read_top(q)
            if self.include_initial:
                for i, doc in enumerate(self.top):
                    item = self._item(None, await self._apply(q, doc), "initial", with_old=False)
                    if self.include_offsets:
                        item["new_offset"] = i
                    out.append(item)
        elif self.include_initial and src.initial is not None:
            stream = src.initial
            while True:
                batch = await stream.next_batch(q, 1000)
                if batch is None:
                    break
                for v in batch:
                    out.append(self._item(None, v, "initial", with_old=False))
        if self.include_states:
            out.append(self._state("ready"))
        return out

    async def _read_top(self, q: Any) -> list:
        assert self.src.rescan is not None
        stream = self.src.rescan()
        docs: list = []
        while True:
            b = await stream.next_batch(q, self.src.limit)
            if b is None:
                return docs
            docs.extend(b)

    async def _top_changes(self, q: Any) -> list:
        """Diff the top N before and after the latest changes."""
        before = self.top
        after = await self._read_top(q)
        self.top = after
        pk = self.pk

        def key(d: Any) -> bytes:
            return encode_key(d[pk])

        before_by = {key(d): (i, d) for i, d in enumerate(before)}
        after_by = {key(d): (i, d) for i, d in enumerate(after)}
        removed = [(i, d) for k, (i, d) in before_by.items() if k not in after_by]
        added = [(i, d) for k, (i, d) in after_by.items() if k not in before_by]
        out: list = []
        for k, (i, d) in after_by.items():
            if k in before_by and not datum_eq(before_by[k][1], d):
                out.append(self._offsets(self._item(before_by[k][1], d, "change"), before_by[k][0], i))
        while removed or added:
            r_ = removed.pop(0) if removed else None
            a_ = added.pop(0) if added else None
            item = self._item(r_[1] if r_ else None, a_[1] if a_ else None,
                              "change" if r_ and a_ else "remove" if r_ else "add")
            out.append(self._offsets(item, r_[0] if r_ else None, a_[0] if a_ else None))
        return out

    def _offsets(self, item: dict, old_i: int | None, new_i: int | None) -> dict:
        if self.include_offsets:
            item["old_offset"] = old_i
            item["new_offset"] = new_i
        return item


def make_feed(q: Any, src: FeedSource, squash: Any, queue_size: int | None, include_initial: bool,
              include_states: bool, include_types: bool, include_offsets: bool) -> FeedStream:
    size = queue_size if queue_size is not None else _run_queue_size(q)
    return FeedStream(q, src, squash, size, include_initial, include_states, include_types, include_offsets)


def _run_queue_size(q: Any) -> int:
    v = q.optargs.get("changefeed_queue_size") if isinstance(q.optargs, dict) else None
    if v.__class__ in (int, float) and v >= 1:
        return int(v)
    return DEFAULT_QUEUE_SIZE


def _register() -> None:
    from .terms import writes

    if publish not in writes.CHANGE_LISTENERS:
        writes.CHANGE_LISTENERS.append(publish)


_register()
