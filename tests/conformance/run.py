"""Run RethinkDB's polyglot conformance suite against a freshly started reqlite server.

Usage (from the repository root)::

    python tests/conformance/run.py                      # every file in ../shared/conformance/rql
    python tests/conformance/run.py datum/bool.yaml -v   # some files, verbose failures
    python tests/conformance/run.py --baseline tests/conformance/passing.txt
    python tests/conformance/run.py --write-baseline tests/conformance/passing.txt

Paths are relative to the suite folder (``../shared/conformance/rql`` or
``$REQLITE_CONFORMANCE``). Every other option is passed to the runner unchanged. The
server runs on a free port with a throw-away data directory and is stopped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SUITE = os.environ.get("REQLITE_CONFORMANCE", os.path.join(os.path.dirname(ROOT), "shared", "conformance"))


def start_server(data_dir: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reqlite", "serve", "--driver-port", "0", "-d", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL if not os.environ.get("REQLITE_SERVER_LOG") else None,
        text=True,
        cwd=ROOT,
    )
    port = None
    deadline = time.time() + 30
    assert proc.stdout is not None
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if "Listening for client driver connections" in line and port is None:
            port = int(line.rsplit(" ", 1)[1])
        if "Server ready" in line:
            break
    if port is None:
        proc.kill()
        raise SystemExit("reqlite did not start")
    return proc, port


def main(argv: list[str]) -> int:
    rql = os.path.join(SUITE, "rql")
    paths = []
    opts = []
    it = iter(argv)
    for a in it:
        if a.startswith("-"):
            opts.append(a)
            if a in ("--baseline", "--write-baseline", "--json", "--timeout", "--fetch-scale"):
                opts.append(next(it))
        else:
            paths.append(a if os.path.isabs(a) else os.path.join(rql, a))
    if not paths:
        paths = [rql]
    with tempfile.TemporaryDirectory(prefix="reqlite-conformance-") as d:
        proc, port = start_server(os.path.join(d, "data"))
        try:
            cmd = [sys.executable, os.path.join(SUITE, "polyglot.py"), "--port", str(port), "--root", rql, *opts, *paths]
            return subprocess.call(cmd)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
