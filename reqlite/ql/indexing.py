"""Secondary indexes: their entries, their maintenance on every write, building, and reads.

An index is a ReQL function of a document. Its value(s) for a document — every element
for a ``multi`` index — become LMDB entries::

    sindex_prefix(db, table, index id) + encode_key(value)[:SKEY_LIMIT] + encode_key(pk)
        -> b"F" or b"T" (value truncated) + encode_key(pk)

so an index read is a cursor walk over a key range, in (value, primary key) order.
Values whose encoding reaches ``SKEY_LIMIT`` bytes are truncated (LMDB keys are at most
511 bytes, as RethinkDB's are 250) and marked ``T``: reads re-evaluate the index
function on those documents to filter exactly, as RethinkDB does. Documents for which
the function fails, or gives null, an object, ``r.minval``/``r.maxval`` (anything that
cannot be a key), are simply not indexed.

Maintenance happens in the single write path (``writes.INDEX_MAINTAINERS``): the entries
of the old and the new document are computed next to the document's compare-and-set, so
index and document change in the same LMDB transaction. A new index is built in the
background by scanning the table in batches; writes that happen meanwhile maintain it
themselves, and the builder only writes entries for documents still unchanged.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import trio

from ..datum.keys import encode_key
from ..datum.order import compare, datum_eq
from ..datum.types import is_extreme
from ..errors import ReqlError
from ..storage import TableConfig, layout, scan
from ..storage.catalog import index_entries_job, index_ready_job
from .streams import Stream
from .term import as_datum
from .values import Function, Table

SKEY_LIMIT = 238  # bytes of encoded secondary value kept in a key (see module docstring)
BUILD_BATCH = 256  # documents per index-build write job
# `function` blobs in index_status: this prefix + JSON {function, multi, geo}. Like
# RethinkDB's, the blob carries the whole index definition, so `index_create(name, blob)`
# (which RethinkDB's restore and index-rebuild tools use) recreates multi and geo indexes.
BLOB_MAGIC = b"reqlite-sindex-v2:"
BLOB_MAGIC_V1 = b"reqlite-sindex-v1:"  # the function term alone (multi/geo not kept)

# index id -> (documents done, documents to do), while the index is being built
BUILD_PROGRESS: dict[str, tuple[int, int]] = {}
_FUNCTIONS: dict[str, Function] = {}


def default_function(field: str) -> list:
    """The raw term of ``lambda row: row[field]`` (``index_create(name)`` without a function)."""
    return [69, [[2, [1]], [31, [[10, [1]], field]]]]


def function_blob(spec: dict) -> dict:
    """The opaque `function` value index_status shows (and index_create accepts back)."""
    import base64

    body = {"function": spec["function"], "multi": bool(spec.get("multi")), "geo": bool(spec.get("geo"))}
    data = BLOB_MAGIC + orjson.dumps(body)
    return {"$reql_type$": "BINARY", "data": base64.b64encode(data).decode("ascii")}


def definition_from_blob(blob: dict) -> dict | None:
    """``{function, multi, geo}`` from a blob made by ``function_blob``, or None."""
    import base64

    try:
        data = base64.b64decode(blob.get("data", ""))
    except Exception:  # noqa: BLE001 - not ours
        return None
    try:
        if data.startswith(BLOB_MAGIC):
            body = orjson.loads(data[len(BLOB_MAGIC) :])
            if body.__class__ is dict and "function" in body:
                return {"function": body["function"], "multi": bool(body.get("multi")), "geo": bool(body.get("geo"))}
            return None
        if data.startswith(BLOB_MAGIC_V1):
            return {"function": orjson.loads(data[len(BLOB_MAGIC_V1) :]), "multi": False, "geo": False}
    except orjson.JSONDecodeError:
        return None
    return None


async def index_function(q: Any, spec: dict) -> Function:
    f = _FUNCTIONS.get(spec["id"])
    if f is None:
        from .compile import compile_term
        from .term import as_function

        f = as_function(await compile_term(spec["function"]).eval(q, {}))
        _FUNCTIONS[spec["id"]] = f
    return f


async def index_values(q: Any, spec: dict, doc: Any) -> list:
    """The key values a document has in an index ([] if it is not indexed)."""
    f = await index_function(q, spec)
    try:
        v = as_datum(await f.call1(q, doc))
    except ReqlError:
        return []
    if spec.get("multi") and v.__class__ is list:
        return v
    return [v]


def ready_spec(table: Table, index: str, geo: bool = False) -> dict:
    """The spec of a built index of ``table``, or RethinkDB's error for a missing/unbuilt one
    (and, unless ``geo``, for a geospatial index: only the geo terms read those)."""
    from ..errors import ReqlOpFailedError, ReqlQueryLogicError

    spec = table.config.indexes.get(index)
    if spec is None:
        raise ReqlOpFailedError(f"Index `{index}` was not found on table `{table.display_name()}`.")
    if not spec.get("ready"):
        raise ReqlOpFailedError(
            f"Index `{index}` on table `{table.display_name()}` was accessed before its "
            "construction was finished."
        )
    if spec.get("geo") and not geo:
        raise ReqlQueryLogicError(
            f"Index `{index}` is a geospatial index.  Only get_nearest and get_intersecting "
            "can use a geospatial index."
        )
    return spec


def index_prefix(cfg: TableConfig, spec: dict) -> bytes:
    return layout.sindex_prefix(cfg.database_id, cfg.id, spec["id"])


def _has_extreme(value: Any) -> bool:
    if value.__class__ is list:
        return any(_has_extreme(v) for v in value)
    return is_extreme(value)


def encode_value(value: Any) -> tuple[bytes, bool] | None:
    """(encoded and possibly truncated value, truncated?) — None if it cannot be a key
    (RethinkDB: "Cannot use `r.minval` or `r.maxval` in an index key.", null, objects…)."""
    if _has_extreme(value):
        return None
    try:
        enc = encode_key(value)
    except ReqlError:
        return None
    if len(enc) >= SKEY_LIMIT:
        return enc[:SKEY_LIMIT], True
    return enc, False


async def entries_for(q: Any, cfg: TableConfig, spec: dict, doc: Any) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of one document in one index."""
    if spec.get("geo"):  # S2 cells: see ql/geo/index.py
        from .geo.index import geo_entries_for

        return await geo_entries_for(q, cfg, spec, doc)
    if doc is None:
        return []
    pk = doc.get(cfg.primary_key)
    if pk is None:
        return []
    pk_enc = encode_key(pk)
    prefix = index_prefix(cfg, spec)
    out: list[tuple[bytes, bytes]] = []
    seen: set[bytes] = set()
    for value in await index_values(q, spec, doc):
        ev = encode_value(value)
        if ev is None:
            continue
        enc, truncated = ev
        key = prefix + enc + pk_enc
        if key in seen:
            continue
        seen.add(key)
        out.append((key, (b"T" if truncated else b"F") + pk_enc))
    return out


async def maintain(q: Any, cfg: TableConfig, old: Any, new: Any) -> tuple[list[bytes], list[tuple[bytes, bytes]]]:
    """Index entries to delete and to put when ``old`` becomes ``new`` (the write path hook)."""
    dels: list[bytes] = []
    puts: list[tuple[bytes, bytes]] = []
    for spec in cfg.indexes.values():
        old_entries = await entries_for(q, cfg, spec, old) if old is not None else []
        new_entries = await entries_for(q, cfg, spec, new) if new is not None else []
        if old_entries == new_entries:
            continue
        new_keys = {k for k, _ in new_entries}
        dels.extend(k for k, _ in old_entries if k not in new_keys)
        old_set = set(old_entries)
        puts.extend(e for e in new_entries if e not in old_set)
    return dels, puts


# -- reading -------------------------------------------------------------------------


class IndexScan(Stream):
    """Documents whose index value lies in a key range, in (index value, pk) order.

    ``accept(values)`` decides, for documents whose entry was truncated, whether one of
    the document's index values really is in the requested range.
    """

    __slots__ = ("q", "cfg", "spec", "prefix", "start", "end", "reverse", "accept", "last_key",
                 "done", "batch", "kind_name_", "index", "sorting", "bounded")

    def __init__(
        self,
        q: Any,
        table: Table,
        spec: dict,
        start: bytes,
        end: bytes,
        reverse: bool,
        accept: Any,
        type_name: str,
        index: str,
    ) -> None:
        super().__init__(table)
        self.q = q
        self.cfg = table.config
        self.spec = spec
        self.prefix = index_prefix(table.config, spec)
        self.start = self.prefix + start
        self.end = self.prefix + end
        self.reverse = reverse
        self.accept = accept
        self.last_key: bytes | None = None
        self.done = self.start >= self.end
        self.batch = 16
        self.kind_name_ = type_name
        self.index = index
        self.sorting = "DESCENDING" if reverse else "ASCENDING"
        self.bounded = False  # True for between() slices

    def type_of_name(self) -> str:
        return self.kind_name_

    def close(self) -> None:
        self.done = True  # a stopped cursor or a satisfied limit reads no further

    async def next_batch(self, q: Any, hint: int) -> list | None:
        docs_prefix = self.cfg.docs_prefix
        while not self.done:
            n = max(1, min(max(hint, self.batch), 1000))
            self.batch = min(self.batch * 4, 1000)
            with q.store.read() as txn:
                rows = scan(txn, self.prefix, self.start, self.end, n, self.reverse, self.last_key)
                found = []
                for _key, value in rows:
                    raw = txn.get(docs_prefix + value[1:])
                    if raw is not None:
                        found.append((value[:1] == b"T", raw))
            if len(rows) < n:
                self.done = True
            if rows:
                self.last_key = rows[-1][0]
            await q.checkpoint()
            out = []
            for truncated, raw in found:
                doc = orjson.loads(raw)
                if truncated and not any(self.accept(v) for v in await index_values(q, self.spec, doc)):
                    continue
                out.append(doc)
            if out:
                return out
        return None


def _range_accept(lo: Any, hi: Any, left_closed: bool, right_closed: bool):
    def accept(v: Any) -> bool:
        c = compare(v, lo)
        if c < 0 or (c == 0 and not left_closed):
            return False
        c = compare(v, hi)
        return c < 0 or (c == 0 and right_closed)

    return accept


def range_scan(
    q: Any,
    table: Table,
    index: str,
    spec: dict,
    lo: Any,
    hi: Any,
    left_closed: bool = True,
    right_closed: bool = False,
    reverse: bool = False,
    type_name: str = "TABLE_SLICE",
) -> IndexScan:
    """Documents with an index value between ``lo`` and ``hi`` (r.minval/r.maxval allowed)."""
    lo_enc = encode_key(lo)[:SKEY_LIMIT]
    hi_enc = encode_key(hi)[:SKEY_LIMIT]
    # Entries of exactly `v` continue with a primary key, whose tag byte is below 0xFF;
    # entries of values that extend `v` (strings with a NUL after it) continue with 0xFF.
    start = lo_enc if left_closed or len(lo_enc) == SKEY_LIMIT else lo_enc + b"\xff"
    end = hi_enc + b"\xff" if right_closed or len(hi_enc) == SKEY_LIMIT else hi_enc
    return IndexScan(q, table, spec, start, end, reverse, _range_accept(lo, hi, left_closed, right_closed),
                     type_name, index)


def equal_scan(q: Any, table: Table, index: str, spec: dict, value: Any) -> IndexScan:
    """Documents with index value ``value`` (``get_all(value, index=...)``)."""
    enc = encode_key(value)

    def accept(v: Any) -> bool:
        return datum_eq(v, value)

    if len(enc) >= SKEY_LIMIT:
        enc = enc[:SKEY_LIMIT]
        return IndexScan(q, table, spec, enc, enc + b"\xff", False, accept, "SELECTION<STREAM>", index)
    return IndexScan(q, table, spec, enc, enc + b"\xff", False, accept, "SELECTION<STREAM>", index)


class ChainStream(Stream):
    """Several selection streams of one table, one after the other."""

    __slots__ = ("parts",)

    def __init__(self, table: Table, parts: list[Stream]) -> None:
        super().__init__(table)
        self.parts = parts

    def close(self) -> None:
        for p in self.parts:
            p.close()
        self.parts = []

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while self.parts:
            b = await self.parts[0].next_batch(q, hint)
            if b is not None:
                return b
            self.parts.pop(0)
        return None


# -- building ------------------------------------------------------------------------


async def build_index(store: Any, cfg: TableConfig, spec: dict) -> None:
    """Index every existing document, then mark the index ready.

    Runs in the background (the server's nursery). Entries go in with a check that the
    document is unchanged; documents written meanwhile were indexed by their writers.
    """
    from .context import QueryContext

    q = QueryContext(store)
    index_id = spec["id"]
    total = store.catalog.doc_count(cfg)
    BUILD_PROGRESS[index_id] = (0, total)
    done = 0
    last: bytes | None = None
    try:
        while True:
            with store.read() as txn:
                rows = scan(txn, cfg.docs_prefix, None, None, BUILD_BATCH, False, last)
            if not rows:
                break
            items = []
            for key, raw in rows:
                items.append((key, raw, await entries_for(q, cfg, spec, orjson.loads(raw))))
            if not await store.write(index_entries_job(cfg.id, index_id, items), hard=False):
                return  # dropped meanwhile
            last = rows[-1][0]
            done += len(rows)
            BUILD_PROGRESS[index_id] = (done, max(total, done))
            await trio.lowlevel.checkpoint()
        await store.write(index_ready_job(cfg.id, index_id), catalog=True)
    finally:
        BUILD_PROGRESS.pop(index_id, None)


def start_build(store: Any, cfg: TableConfig, spec: dict) -> None:
    """Build in the server's background nursery (or, without one, leave it to the caller)."""
    nursery = getattr(store, "nursery", None)
    if nursery is not None:
        BUILD_PROGRESS[spec["id"]] = (0, store.catalog.doc_count(cfg))
        nursery.start_soon(build_index, store, cfg, spec)


def resume_builds(store: Any) -> None:
    """After a restart: finish building every index that was not ready."""
    for cfg in store.catalog.all_tables():
        for spec in cfg.indexes.values():
            if not spec.get("ready") and spec["id"] not in BUILD_PROGRESS:
                start_build(store, cfg, spec)


async def wait_ready(q: Any, table: Table, names: list[str]) -> None:
    """Block until the named indexes are built (polling the catalog; builds are short)."""
    while True:
        cfg = q.catalog.get_table(table.db.name, table.name)
        if cfg is None:
            return
        pending = [n for n in names if n in cfg.indexes and not cfg.indexes[n].get("ready")]
        if not pending:
            table.config = cfg
            return
        if getattr(q.store, "nursery", None) is None:
            for n in pending:  # no background builder: build here
                await build_index(q.store, cfg, cfg.indexes[n])
            continue
        await trio.sleep(0.01)


def new_spec(function: Any, multi: bool, geo: bool) -> dict:
    import uuid

    return {
        "id": str(uuid.uuid4()),
        "function": function,
        "multi": multi,
        "geo": geo,
        "ready": False,
        "created_at": time.time(),
    }


def _register() -> None:
    from .terms import writes

    if maintain not in writes.INDEX_MAINTAINERS:
        writes.INDEX_MAINTAINERS.append(maintain)


_register()
