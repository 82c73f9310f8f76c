"""The changefeed hub: who listens to which table, and the queue of each listener.

The write path publishes every committed batch of document changes here
(``ChangefeedHub.publish(table_id, changes)``, on the event-loop thread, right after the
commit). Each subscription keeps its own bounded queue, so a slow feed never slows
writers or other feeds: past ``queue_size`` pending changes it drops the backlog and
reports how many it skipped (RethinkDB's "Changefeed cache over array size limit"), and
with ``squash`` it folds several changes of one document into one.

This module only moves datums; applying a feed's ReQL transformations is the query
layer's business (``reqlite/ql/feeds.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import trio

DEFAULT_QUEUE_SIZE = 100_000  # RethinkDB's changefeed_queue_size default

Change = tuple[Any, Any]  # (old_val, new_val); None for a missing side


class Subscription:
    """One changefeed's view of one table.

    ``accept(old, new)`` (optional) pre-selects the changes this feed can care about
    (a point feed's key, a range) so the queue holds only relevant ones.
    """

    def __init__(
        self,
        hub: ChangefeedHub,
        table_id: str,
        key_of: Callable[[Change], Any],
        accept: Callable[[Any, Any], bool] | None,
        squash: bool,
        queue_size: int,
    ) -> None:
        self.hub = hub
        self.table_id = table_id
        self.key_of = key_of
        self.accept = accept
        self.squash = squash
        self.queue_size = max(1, queue_size)
        self.pending: OrderedDict[Any, Change] = OrderedDict()
        self.seq = 0
        self.skipped = 0
        self.closed = False
        self._wakeup = trio.Event()

    def offer(self, old: Any, new: Any) -> None:
        if self.closed or (self.accept is not None and not self.accept(old, new)):
            return
        if self.squash:
            key = self.key_of((old, new))
            prev = self.pending.get(key)
            if prev is not None:
                first_old = prev[0]
                if first_old is None and new is None:
                    del self.pending[key]  # created and deleted between two reads: nothing
                else:
                    self.pending[key] = (first_old, new)
                    self.pending.move_to_end(key)
                return
        else:
            self.seq += 1
            key = self.seq
        self.pending[key] = (old, new)
        if len(self.pending) > self.queue_size:
            # RethinkDB drops the whole backlog and reports how much it dropped.
            self.skipped += len(self.pending)
            self.pending.clear()
        self._wakeup.set()

    def take(self) -> tuple[list[Change], int]:
        """Everything queued now, and how many changes were skipped since the last take."""
        changes = list(self.pending.values())
        self.pending.clear()
        skipped = self.skipped
        self.skipped = 0
        if self._wakeup.is_set():
            self._wakeup = trio.Event()
        return changes, skipped

    async def wait(self) -> None:
        """Until at least one change (or a skip) is queued, or the feed is closed.

        Always a checkpoint, so a reader looping on a closed or busy feed still lets
        every other task run.
        """
        await trio.lowlevel.checkpoint()
        while not self.pending and not self.skipped and not self.closed:
            await self._wakeup.wait()
            if not self.pending and not self.skipped:
                self._wakeup = trio.Event()

    async def wait_for_backlog(self, seconds: float) -> None:
        """Squashing: wait ``seconds``, or less once the queue is more than half full
        (RethinkDB sends early then, so a long squash cannot overflow the queue)."""
        with trio.move_on_after(seconds):
            while len(self.pending) <= self.queue_size // 2 and not self.skipped and not self.closed:
                self._wakeup = trio.Event()
                await self._wakeup.wait()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.hub.unsubscribe(self)
            self._wakeup.set()


class ChangefeedHub:
    """All subscriptions of one server, by table id."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(
        self,
        table_id: str,
        key_of: Callable[[Change], Any],
        accept: Callable[[Any, Any], bool] | None = None,
        squash: bool = False,
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> Subscription:
        sub = Subscription(self, table_id, key_of, accept, squash, queue_size)
        self._subs.setdefault(table_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.table_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.table_id]

    def has_subscribers(self, table_id: str) -> bool:
        return table_id in self._subs

    def publish(self, table_id: str, changes: list[Change]) -> None:
        subs = self._subs.get(table_id)
        if not subs:
            return
        for sub in list(subs):
            for old, new in changes:
                sub.offer(old, new)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subs.values())
