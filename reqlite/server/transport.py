"""A lean socket stream for the query path.

Trio's ``SocketStream`` yields to the scheduler on every receive and send, even when the
kernel could answer at once; with small request/response frames those scheduler rounds
dominate a point read. This stream tries the non-blocking system call first and only
parks in ``trio.lowlevel.wait_readable``/``wait_writable`` when the kernel says it would
block. Fairness is kept by the caller (the connection checkpoints every few frames) and by
the query tasks themselves.

Sends from concurrent queries on one connection never interleave: the fast path is only
taken when no other send is in progress, and a partial send takes the lock before it
first waits.
"""

from __future__ import annotations

import errno
import socket

import trio

_WOULD_BLOCK = (BlockingIOError, InterruptedError)


class FastSocketStream:
    """Bytes in and out of one connected TCP socket (owned by this object)."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self._send_lock = trio.Lock()
        self._closed = False
        self._drained = False

    @classmethod
    def from_trio(cls, stream: trio.SocketStream) -> FastSocketStream:
        tsock = stream.socket
        fd = tsock.detach()
        return cls(socket.socket(tsock.family, tsock.type, tsock.proto, fileno=fd))

    def getpeername(self) -> tuple:
        return self.sock.getpeername()

    async def receive_some(self, max_bytes: int = 65536) -> bytes:
        """Up to ``max_bytes`` bytes; b"" at end of stream."""
        sock = self.sock
        if self._drained:
            # The last read emptied the kernel buffer: a client waiting for our answer
            # has sent nothing more, so wait first instead of a recv() that would fail.
            await trio.lowlevel.wait_readable(sock)
        while True:
            if self._closed:
                raise trio.ClosedResourceError("stream closed")
            try:
                data = sock.recv(max_bytes)
                self._drained = len(data) < max_bytes
                return data
            except _WOULD_BLOCK:
                await trio.lowlevel.wait_readable(sock)
            except OSError as exc:
                if exc.errno in (errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT):
                    return b""
                raise trio.BrokenResourceError(str(exc)) from exc

    async def send_all(self, data: bytes) -> None:
        sock = self.sock
        lock = self._send_lock
        view = memoryview(data)
        if not lock.locked():
            try:
                n = sock.send(view)
            except _WOULD_BLOCK:
                n = 0
            except OSError as exc:
                raise trio.BrokenResourceError(str(exc)) from exc
            if n == len(view):
                return
            view = view[n:]
            lock.acquire_nowait()  # free: we have not yielded since checking
        else:
            await lock.acquire()
        total = len(data)
        try:
            while view:
                if self._closed:
                    raise trio.ClosedResourceError("stream closed")
                try:
                    n = sock.send(view)
                except _WOULD_BLOCK:
                    await trio.lowlevel.wait_writable(sock)
                    continue
                except OSError as exc:
                    raise trio.BrokenResourceError(str(exc)) from exc
                view = view[n:]
        except BaseException:
            if 0 < len(view) < total:
                # Interrupted (cancelled) mid-frame: the byte stream is no longer framed
                # correctly, so end the connection rather than send garbage after it.
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            raise
        finally:
            lock.release()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            trio.lowlevel.notify_closing(self.sock)
        except Exception:  # noqa: BLE001 - not registered
            pass
        self.sock.close()
        await trio.lowlevel.checkpoint()
