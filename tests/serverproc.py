"""A real reqlite server process for tests: start it, find its port, stop it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class ServerProcess:
    proc: subprocess.Popen
    port: int
    data_dir: str
    output: list[str]

    def stop(self, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(data_dir: str, *extra: str, port: int = 0) -> ServerProcess:
    """Start ``reqlite serve`` and wait for "Server ready"; returns the process and its port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reqlite", "serve", "--driver-port", str(port), "-d", data_dir, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    out: list[str] = []
    found_port = None
    for line in proc.stdout:
        out.append(line)
        if "Listening for client driver connections" in line and found_port is None:
            found_port = int(line.rsplit(" ", 1)[1])
        if "Server ready" in line:
            break
    else:
        proc.wait()
        raise RuntimeError("server did not start:\n" + "".join(out))
    assert found_port is not None
    return ServerProcess(proc, found_port, data_dir, out)
