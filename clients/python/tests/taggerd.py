"""Starts the real taggerd binary on loopback for the tests.

The binary is $DOCTAGGER_TAGGERD when set (CI builds it once), otherwise it
is built here with `go build` into a temporary directory (about a minute).
"""

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
_built = None


def binary() -> str:
    global _built
    path = os.environ.get("DOCTAGGER_TAGGERD")
    if path:
        return path
    if _built is None:
        tmp = tempfile.mkdtemp(prefix="doctagger-py-")
        atexit.register(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "taggerd")
        subprocess.run(["go", "build", "-o", out, "./cmd/taggerd"], cwd=REPO, check=True, timeout=600)
        _built = out
    return _built


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Taggerd:
    """A taggerd process serving gRPC on 127.0.0.1 (HTTP off)."""

    def __init__(self, *flags: str, env: dict = None):
        self.flags, self.extra_env = list(flags), dict(env or {})
        self.proc = None
        self.target = ""

    def start(self, timeout: float = 30.0) -> "Taggerd":
        # Nothing of the caller's DOCTAGGER_* environment (a token, say).
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCTAGGER_")}
        env.update(self.extra_env)
        last = ""
        for _ in range(3):  # the free port may be taken in between: retry
            port = _free_port()
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(
                [binary(), f"--grpc-addr=127.0.0.1:{port}", "--http-addr=", "--log-level=warn", *self.flags],
                env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    self.target = f"127.0.0.1:{port}"
                    return self
                except OSError:
                    time.sleep(0.05)
            last = self.output()
            self.stop()
        raise RuntimeError(f"taggerd did not start listening within {timeout}s:\n{last}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()
