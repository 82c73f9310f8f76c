"""Documents: point reads, range scans, and the compare-and-set write job.

Document writes are computed by the query layer (which evaluates ReQL functions on the
event-loop thread, where they may yield) and applied here as compare-and-set
operations: each ``DocWrite`` names the value it expects to replace. If the document
changed since it was read, the write is not applied and the current value is
returned, so the caller recomputes and retries. That keeps every single-document
write atomic without evaluating ReQL inside a write transaction, and keeps this layer
free of any knowledge of ReQL.
"""

from __future__ import annotations

from typing import Any

from . import layout

ANY = object()
"""Expectation that matches whatever the document currently holds (blind write)."""


class DocWrite:
    """Replace the value at ``key`` with ``new`` (None deletes) if it still equals ``expect``.

    ``index_del`` are secondary-index keys to remove and ``index_put`` ``(key, value)``
    entries to add when the write applies; the query layer derives them from the
    expected and the new document.
    """

    __slots__ = ("key", "expect", "new", "index_del", "index_put")

    def __init__(
        self,
        key: bytes,
        expect: Any,
        new: bytes | None,
        index_del: list[bytes] | None = None,
        index_put: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.key = key
        self.expect = expect
        self.new = new
        self.index_del = index_del
        self.index_put = index_put


def write_docs_job(table_id: str, writes: list[DocWrite]):
    """Job applying ``writes`` to one table; result: per write ``(applied, current)``.

    ``current`` is the value found (before the write) — for an applied write, the old
    value; for a conflict, what the caller must recompute against.
    """
    count_key = layout.doc_count_key(table_id)

    def job(txn) -> list[tuple[bool, bytes | None]]:
        results: list[tuple[bool, bytes | None]] = []
        delta = 0
        get = txn.get
        put = txn.put
        delete = txn.delete
        for w in writes:
            current = get(w.key)
            if w.expect is not ANY and current != w.expect:
                results.append((False, current))
                continue
            if w.new is None:
                if current is not None:
                    delete(w.key)
                    delta -= 1
            else:
                put(w.key, w.new)
                if current is None:
                    delta += 1
            if w.index_del:
                for k in w.index_del:
                    delete(k)
            if w.index_put:
                for k, v in w.index_put:
                    put(k, v)
            results.append((True, current))
        if delta:
            raw = get(count_key)
            put(count_key, str((int(raw) if raw else 0) + delta).encode())
        return results

    return job


def items_with_prefix(txn, prefix: bytes) -> list[tuple[bytes, bytes]]:
    """Every (key, value) whose key starts with ``prefix``, in key order."""
    items = []
    cur = txn.cursor()
    if cur.set_range(prefix):
        for k, v in cur:
            if not k.startswith(prefix):
                break
            items.append((k, v))
    return items


def get_doc(txn, key: bytes) -> bytes | None:
    return txn.get(key)


def scan(
    txn,
    prefix: bytes,
    start: bytes | None,
    end: bytes | None,
    limit: int,
    reverse: bool = False,
    after: bytes | None = None,
) -> list[tuple[bytes, bytes]]:
    """Up to ``limit`` (key, value) pairs with ``prefix``, in key order.

    ``start`` (inclusive) and ``end`` (exclusive) are full keys bounding the range
    (None: the prefix's bounds). ``after`` resumes a scan strictly past a key already
    returned (before it, when ``reverse``).
    """
    lo = start if start is not None else prefix
    hi = end if end is not None else layout.prefix_end(prefix)
    out: list[tuple[bytes, bytes]] = []
    cur = txn.cursor()
    if not reverse:
        seek = lo
        if after is not None and after >= lo:
            seek = after
        if not cur.set_range(seek):
            return out
        if after is not None and cur.key() == after:
            if not cur.next():
                return out
        for key, value in cur:
            if key >= hi:
                break
            out.append((key, value))
            if len(out) >= limit:
                break
        return out
    # reverse: position at the last key < bound
    bound = hi
    if after is not None and after < hi:
        bound = after
    if cur.set_range(bound):
        if not cur.prev():
            return out
    elif not cur.last():
        return out
    while True:
        key = cur.key()
        if key < lo:
            break
        if key < bound:
            out.append((key, cur.value()))
            if len(out) >= limit:
                break
        if not cur.prev():
            break
    return out
