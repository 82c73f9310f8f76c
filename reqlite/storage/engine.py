"""The LMDB environment: opening a data directory, reads, and the single write path.

Reads happen on the caller's thread in short read-only transactions (LMDB's MVCC
readers never block and are never blocked). A read transaction is never held across
an ``await``: callers open one, read, and close it in one synchronous step.

Every write goes through one writer thread (``WriteQueue``). Callers submit a job (a
function of a write transaction), and the thread applies all jobs waiting at that
moment in one LMDB transaction — group commit — so concurrent writers share one
commit and one fsync. Durability:

* the environment is opened with ``sync=True, metasync=False``: each commit flushes
  its data pages, and LMDB guarantees the environment stays consistent after a crash
  (only the last commit may be undone by a power loss, never corrupted);
* ``soft`` writes are acknowledged after their commit, before the meta-page sync;
* ``hard`` writes are acknowledged only after ``env.sync(True)`` has also flushed the
  meta page, so they survive a crash of the machine, and trivially a ``kill -9``.

When LMDB reports the map full, the group is aborted, the map is doubled (on the
event-loop thread, where no read transaction can be open at that moment) and the
group is retried: a write never fails because of the initial map size.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import lmdb

from . import layout

DEFAULT_MAP_SIZE = 1 << 30  # 1 GiB of address space to start; grows by doubling
MAX_GROUP_JOBS = 256  # jobs folded into one commit (bounds a group's latency)
SOFT_SYNC_INTERVAL = 1.0  # seconds: soft writes reach the disk within this


class StorageError(Exception):
    """The data directory cannot be used (locked by another server, unreadable, foreign)."""


class WriteJob:
    """One unit of work for the writer thread.

    ``fn(txn)`` runs inside the group's write transaction and returns the job's result.
    It must not raise for expected conditions (report them in its result instead); an
    unexpected exception aborts the group, and every job of the group is then retried
    alone so that one bad job cannot fail its neighbours.
    """

    __slots__ = ("fn", "hard", "catalog", "result", "error", "done", "_notify")

    def __init__(self, fn: Callable[[Any], Any], hard: bool, catalog: bool) -> None:
        self.fn = fn
        self.hard = hard
        self.catalog = catalog
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self._notify: Callable[[], None] | None = None


class ReadTxn:
    """A read-only LMDB transaction that gives its reader slot back when the block ends.

    py-lmdb keeps a transaction's reader slot for as long as the Python object lives,
    even after it ended; a coroutine frame that still names ``txn`` while it waits for
    something else would hold a slot, and a few thousand such waiting queries exhaust
    LMDB's reader table. So callers get this wrapper, which drops its one reference to
    the transaction on exit.
    """

    __slots__ = ("_txn",)

    def __init__(self, txn: lmdb.Transaction) -> None:
        self._txn = txn

    def __enter__(self) -> ReadTxn:
        return self

    def __exit__(self, *exc: object) -> None:
        txn = self._txn
        self._txn = None
        if txn is not None:
            txn.abort()

    def get(self, key: bytes, default: Any = None) -> Any:
        return self._txn.get(key, default)

    def cursor(self) -> lmdb.Cursor:
        """A cursor on this transaction: do not keep it past the ``with`` block either."""
        return self._txn.cursor()


class Engine:
    """An open reqlite data directory."""

    def __init__(self, path: str, map_size: int = DEFAULT_MAP_SIZE) -> None:
        self.path = os.path.abspath(path)
        self._lock_fd = self._acquire_directory(self.path)
        try:
            self.env = lmdb.open(
                self.path,
                map_size=map_size,
                subdir=True,
                sync=True,
                metasync=False,
                max_dbs=0,
                max_readers=1024,
                lock=True,
                readahead=False,
            )
        except lmdb.Error as exc:
            os.close(self._lock_fd)
            raise StorageError(f"Cannot open data directory {self.path}: {exc}") from exc
        self.fresh = self._check_format()
        self.catalog_version = 0
        self._closed = False
        self._resize_request: Callable[[Callable[[], None]], None] | None = None
        self._queue: queue.SimpleQueue[WriteJob | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._writer_loop, name="reqlite-writer", daemon=True)
        self._last_sync = time.monotonic()
        self._unsynced = False
        self._sync_lock = threading.Lock()
        self._thread.start()

    # -- opening ---------------------------------------------------------------

    @staticmethod
    def _acquire_directory(path: str) -> int:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"Cannot create data directory {path}: {exc}") from exc
        if not os.path.isdir(path):
            raise StorageError(f"{path} is not a directory")
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise StorageError(f"Data directory {path} is not readable and writable")
        lock_path = os.path.join(path, "reqlite.lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(f"Cannot create lock file {lock_path}: {exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StorageError(
                f"Data directory {path} is in use by another reqlite process "
                f"(lock file {lock_path} is held)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return fd

    def _check_format(self) -> bool:
        """Stamp a new directory with our format marker; refuse foreign ones. True if new."""
        entries = [e for e in os.listdir(self.path) if e not in ("data.mdb", "lock.mdb", "reqlite.lock")]
        with self.env.begin(write=True) as txn:
            fmt = txn.get(layout.FORMAT_KEY)
            if fmt is None:
                cur = txn.cursor()
                if cur.first() or entries:
                    foreign = cur.key() if cur.key() else entries[0]
                    raise StorageError(
                        f"{self.path} does not look like a reqlite data directory "
                        f"(found {foreign!r} but no format marker)"
                    )
                txn.put(layout.FORMAT_KEY, layout.FORMAT_VERSION)
                return True
            elif fmt != layout.FORMAT_VERSION:
                raise StorageError(
                    f"{self.path} holds data format {fmt.decode(errors='replace')}, "
                    f"this reqlite reads {layout.FORMAT_VERSION.decode()}"
                )
        return False

    # -- reads -----------------------------------------------------------------

    def read(self) -> ReadTxn:
        """A short read-only transaction; use it in a ``with`` block, never across awaits."""
        return ReadTxn(self.env.begin(write=False, buffers=False))

    # -- writes ----------------------------------------------------------------

    def set_resize_handler(self, handler: Callable[[Callable[[], None]], None] | None) -> None:
        """Install how the writer asks the event-loop thread to run a map resize.

        ``handler(fn)`` must run ``fn`` on the thread that performs reads, at a moment
        when it holds no read transaction (for Trio: ``token.run_sync_soon``). Without a
        handler (embedded, single-threaded use), the writer resizes directly.
        """
        self._resize_request = handler

    def submit(self, job: WriteJob, notify: Callable[[], None]) -> None:
        """Queue a job; ``notify()`` is called from the writer thread once it is done."""
        if self._closed:
            raise StorageError("storage is closed")
        job._notify = notify
        self._queue.put(job)

    def write_blocking(self, fn: Callable[[Any], Any], hard: bool = True, catalog: bool = False) -> Any:
        """Run one job and wait for it on the calling thread (startup, tools, tests)."""
        done = threading.Event()
        job = WriteJob(fn, hard, catalog)
        self.submit(job, done.set)
        done.wait()
        if job.error is not None:
            raise job.error
        return job.result

    def _writer_loop(self) -> None:
        q = self._queue
        while True:
            try:
                first = q.get(timeout=SOFT_SYNC_INTERVAL if self._unsynced else None)
            except queue.Empty:
                self._sync()
                continue
            if first is None:
                break
            group = [first]
            stop = False
            while len(group) < MAX_GROUP_JOBS:
                try:
                    nxt = q.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                group.append(nxt)
            self._run_group(group)
            if stop:
                break
        self._sync()

    def _run_group(self, group: list[WriteJob]) -> None:
        try:
            self._commit_jobs(group)
            committed = group
        except Exception:
            # One job misbehaved (or the group is too big): retry each job alone.
            committed = []
            for job in group:
                try:
                    self._commit_jobs([job])
                    committed.append(job)
                except Exception as exc:  # noqa: BLE001 - reported to the job's caller
                    job.error = exc
                    self._finish([job])
        soft = [j for j in committed if not j.hard]
        hard = [j for j in committed if j.hard]
        if soft:
            self._finish(soft)
        if hard:
            self._sync()
            self._finish(hard)
        elif time.monotonic() - self._last_sync >= SOFT_SYNC_INTERVAL:
            self._sync()

    def _commit_jobs(self, group: list[WriteJob]) -> None:
        while True:
            txn = self.env.begin(write=True)
            try:
                results = [job.fn(txn) for job in group]
                txn.commit()
            except lmdb.MapFullError:
                txn.abort()
                self._grow_map()
                continue
            except BaseException:
                txn.abort()
                raise
            break
        self._unsynced = True
        if any(job.catalog for job in group):
            self.catalog_version += 1
        for job, result in zip(group, results):
            job.result = result

    def _sync(self) -> None:
        if self._unsynced:
            self.env.sync(True)
            self._unsynced = False
        self._last_sync = time.monotonic()

    def _finish(self, jobs: list[WriteJob]) -> None:
        for job in jobs:
            job.done = True
            notify = job._notify
            job._notify = None
            if notify is not None:
                notify()

    def _grow_map(self) -> None:
        new_size = self.env.info()["map_size"] * 2
        if self._resize_request is None:
            self.env.set_mapsize(new_size)
            return
        done = threading.Event()

        def resize() -> None:
            try:
                self.env.set_mapsize(new_size)
            finally:
                done.set()

        self._resize_request(resize)
        done.wait()

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Finish queued writes, sync, and close the environment (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join()
        self.env.sync(True)
        self.env.close()
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            os.close(self._lock_fd)
