"""The geospatial index: entries (S2 cells) and the ``get_intersecting`` / ``get_nearest``
traversals.

A geo index stores, for each document, one entry per S2 cell of the covering of its
geometry (RethinkDB's ``compute_index_grid_keys``: at most ``INDEX_GOAL_CELLS`` cells,
a point's leaf cell), in the key format of ``ql/indexing.py``::

    sindex_prefix + encode_key("GC" + 16 hex digits of the cell id) + encode_key(pk) [+ tag]
        -> b"F" + encode_key(pk)

The cell strings sort like the cell ids, so the cells inside a cell C are one key range
(C's ``range_min`` .. ``range_max``). For a ``multi`` index each array element has its
own entries, told apart by a 4-byte ``tag`` (its position) after the primary key.

A query geometry is covered too (``QUERY_GOAL_CELLS``); an entry is a candidate when its
cell intersects a query cell, i.e. when it lies inside one (a key range) or is one of its
ancestors (a few exact keys). Candidates are then checked with the real predicate on the
indexed value, and each (document, tag) is emitted once, as RethinkDB does.

``get_nearest`` follows RethinkDB's ``nearest_traversal``: it searches growing rings
around the center (a shell polygon with an inradius at least the current radius, minus a
hole within the radius already done), starting at 10 m on earth and growing with the
density of what it found, until ``max_dist`` is reached or ``max_results`` documents were
found; results are sorted by distance.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from ...datum.keys import encode_key
from ...datum.types import REQL_TYPE, num, type_name
from ...errors import ReqlError, ReqlQueryLogicError, ReqlResourceLimitError
from ...storage import scan
from ..streams import Stream
from ..term import as_datum
from . import geodesy, projection
from .geometry import (
    GEOMETRY,
    INDEX_GOAL_CELLS,
    QUERY_GOAL_CELLS,
    RangeError,
    Shape,
    cell_ancestors,
    cell_range,
    covering,
    geo_error,
    intersects,
    make_polygon,
    parse,
)


def cell_key(cell: int) -> bytes:
    return encode_key(f"GC{cell:016x}")


_CELL_KEY_LEN = len(cell_key(0))


def geo_shape(value: Any) -> Shape:
    """The shape of an indexed value (RethinkDB: "Expected geometry but found X.")."""
    if value.__class__ is not dict or value.get(REQL_TYPE) != GEOMETRY:
        raise geo_error(f"Expected geometry but found {type_name(value)}.")
    return parse(value)


async def _index_value(q: Any, spec: dict, doc: Any) -> Any:
    from ..indexing import index_function

    f = await index_function(q, spec)
    return as_datum(await f.call1(q, doc))


async def geo_entries_for(q: Any, cfg: Any, spec: dict, doc: Any) -> list[tuple[bytes, bytes]]:
    """The (key, value) entries of one document in a geospatial index."""
    if doc is None:
        return []
    pk = doc.get(cfg.primary_key)
    if pk is None:
        return []
    try:
        v = await _index_value(q, spec, doc)
        if spec.get("multi") and v.__class__ is list:
            values = [(i.to_bytes(4, "big"), x) for i, x in enumerate(v)]
        else:
            values = [(b"", v)]
        cells = [(tag, covering(geo_shape(x), INDEX_GOAL_CELLS)) for tag, x in values]
    except ReqlError:
        return []  # not indexed, as when an index function fails
    from ..indexing import index_prefix

    prefix = index_prefix(cfg, spec)
    pk_enc = encode_key(pk)
    value = b"F" + pk_enc
    out: list[tuple[bytes, bytes]] = []
    seen: set[bytes] = set()
    for tag, ids in cells:
        for c in ids:
            key = prefix + cell_key(c) + pk_enc + tag
            if key not in seen:
                seen.add(key)
                out.append((key, value))
    return out


def _key_ranges(cells: list[int]) -> list[tuple[bytes, bytes]]:
    """Key ranges (start inclusive, end exclusive, after the index prefix) holding every
    entry whose cell intersects one of ``cells``."""
    spans: list[tuple[int, int]] = []
    for c in cells:
        spans.append(cell_range(c))
        spans.extend((a, a) for a in cell_ancestors(c))
    spans.sort()
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(cell_key(lo), cell_key(hi) + b"\xff") for lo, hi in merged]


class _Candidates:
    """Entries of a geo index whose cells intersect a covering, read a chunk at a time
    (one short read transaction each); yields (identity, tag, raw document)."""

    __slots__ = ("prefix", "docs_prefix", "ranges", "ri", "last", "chunk")

    def __init__(self, prefix: bytes, docs_prefix: bytes, cells: list[int]) -> None:
        self.prefix = prefix
        self.docs_prefix = docs_prefix
        self.ranges = _key_ranges(cells)
        self.ri = 0
        self.last: bytes | None = None
        self.chunk = 64

    def done(self) -> bool:
        return self.ri >= len(self.ranges)

    async def next_chunk(self, q: Any, skip: Any) -> list[tuple[tuple[bytes, bytes], bytes, bytes]]:
        prefix = self.prefix
        start, end = self.ranges[self.ri]
        n = self.chunk
        self.chunk = min(n * 4, 1000)
        out = []
        with q.store.read() as txn:
            rows = scan(txn, prefix, prefix + start, prefix + end, n, False, self.last)
            for key, value in rows:
                pk_enc = value[1:]
                tag = key[len(prefix) + _CELL_KEY_LEN + len(pk_enc):]
                ident = (pk_enc, tag)
                if skip(ident):
                    continue
                raw = txn.get(self.docs_prefix + pk_enc)
                if raw is not None:
                    out.append((ident, tag, raw))
        if len(rows) < n:
            self.ri += 1
            self.last = None
        else:
            self.last = rows[-1][0]
        await q.checkpoint()
        return out


async def _tagged_shape(q: Any, spec: dict, doc: Any, tag: bytes) -> Shape | None:
    """The shape a document has in the index under ``tag`` (None if it has none now)."""
    try:
        v = await _index_value(q, spec, doc)
        if tag:
            if v.__class__ is not list:
                return None
            i = int.from_bytes(tag, "big")
            if i >= len(v):
                return None
            v = v[i]
        return geo_shape(v)
    except ReqlError:
        return None


class GeoIntersecting(Stream):
    """``table.get_intersecting(geometry, index=...)``: a selection, each matching
    (document, multi-index element) once."""

    __slots__ = ("spec", "query", "cands", "emitted", "rejected", "closed")

    def __init__(self, q: Any, table: Any, spec: dict, query: Shape) -> None:
        from ..indexing import index_prefix

        super().__init__(table)
        self.spec = spec
        self.query = query
        cfg = table.config
        self.cands = _Candidates(index_prefix(cfg, spec), cfg.docs_prefix, covering(query, QUERY_GOAL_CELLS))
        self.emitted: set[tuple[bytes, bytes]] = set()
        self.rejected: set[tuple[bytes, bytes]] = set()
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def _skip(self, ident: tuple[bytes, bytes]) -> bool:
        return ident in self.emitted or ident in self.rejected

    async def next_batch(self, q: Any, hint: int) -> list | None:
        while not self.closed and not self.cands.done():
            out = []
            for ident, tag, raw in await self.cands.next_chunk(q, self._skip):
                if self._skip(ident):
                    continue
                doc = orjson.loads(raw)
                shape = await _tagged_shape(q, self.spec, doc, tag)
                if shape is not None and intersects(self.query, shape):
                    if len(self.emitted) >= q.array_limit:
                        raise ReqlResourceLimitError(
                            "Array size limit exceeded during geospatial index traversal."
                        )
                    self.emitted.add(ident)
                    out.append(doc)
                else:
                    self.rejected.add(ident)
            if out:
                return out
        return None


# -- nearest --------------------------------------------------------------------------

NEAREST_INITIAL_RADIUS_FRACTION = 10.0 / 6378137.0
NEAREST_MAX_GROWTH_FACTOR = 2.0
NEAREST_GOAL_BATCH_SIZE = 100.0
NEAREST_NUM_VERTICES = 8


def _nearest_query(center: tuple[float, float], processed: float, current: float,
                   e: geodesy.Ellipsoid) -> Shape:
    try:
        holes = []
        if processed > 0.0:
            holes.append(geodesy.polygon_with_exradius_at_most(center, processed, NEAREST_NUM_VERTICES, e))
        shell = geodesy.polygon_with_inradius_at_least(center, current, NEAREST_NUM_VERTICES, e)
        return parse(make_polygon(shell, holes))
    except RangeError as exc:
        raise ReqlQueryLogicError(
            "The distance has become too large for continuing the indexed nearest traversal.  "
            f"Consider specifying a smaller `max_dist` parameter.  ({exc.message})"
        ) from None


async def get_nearest(q: Any, table: Any, spec: dict, center: tuple[float, float], max_dist: float,
                      max_results: int, e: geodesy.Ellipsoid, unit: str) -> list:
    """``table.get_nearest(point, index=...)``: ``[{dist, doc}]`` sorted by distance."""
    from ..indexing import index_prefix

    cfg = table.config
    prefix = index_prefix(cfg, spec)
    center_pt = projection.point_from_degrees(center[0], center[1])
    processed = 0.0
    current = min(max_dist, NEAREST_INITIAL_RADIUS_FRACTION * e[0])
    emitted: set[tuple[bytes, bytes]] = set()
    previous_size = 0
    results: list[tuple[float, Any]] = []
    while True:
        query = _nearest_query(center, processed, current, e)
        cands = _Candidates(prefix, cfg.docs_prefix, covering(query, QUERY_GOAL_CELLS))
        batch: list[tuple[float, Any]] = []
        rejected: set[tuple[bytes, bytes]] = set()

        def skip(ident: tuple[bytes, bytes], rejected: set = rejected) -> bool:
            return ident in emitted or ident in rejected

        while not cands.done():
            for ident, tag, raw in await cands.next_chunk(q, skip):
                if skip(ident):
                    continue
                doc = orjson.loads(raw)
                shape = await _tagged_shape(q, spec, doc, tag)
                if shape is not None and intersects(query, shape):
                    dist = geodesy.distance(center_pt, shape, e)
                    if dist <= current:
                        if len(emitted) >= q.array_limit:
                            raise ReqlResourceLimitError(
                                "Array size limit exceeded during geospatial index traversal."
                            )
                        emitted.add(ident)
                        batch.append((dist, doc))
                        continue
                rejected.add(ident)
        batch.sort(key=lambda r: r[0])
        results.extend(batch)
        # Grow the radius from the density of this batch's results (RethinkDB's rule).
        found = len(emitted) - previous_size
        area = math.pi * (current * current - processed * processed)
        density = found / area if area > 0 else 0.0
        processed = current
        previous_size = len(emitted)
        if density != 0.0:
            current = math.sqrt((NEAREST_GOAL_BATCH_SIZE / math.pi / density) + (processed * processed))
        else:
            current = processed * NEAREST_MAX_GROWTH_FACTOR
        current = min(current, min(current * NEAREST_MAX_GROWTH_FACTOR, max_dist))
        if processed >= max_dist or len(emitted) >= max_results:
            break
    results.sort(key=lambda r: r[0])
    return [{"dist": num(geodesy.convert(d, "m", unit)), "doc": doc} for d, doc in results[:max_results]]
