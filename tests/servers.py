"""The app as a real server: ``uvicorn`` in a subprocess on the test database, for crash and replica tests."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_SECRET

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 20.0
STOP_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``uvicorn app.main:create_app --factory`` on a free port, with its workers on.

    ``env`` adds or overrides settings (``HOTLINE_...``). The process gets no
    ``PROMETHEUS_MULTIPROC_DIR`` unless ``env`` names one: its counters are its own, as a replica's are.
    Whoever starts a server must ``stop()`` it (also on failure).
    """

    def __init__(self, database_url: str, **env: str) -> None:
        self.port = free_port()
        inherited = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
        self.env = {
            **inherited,
            "HOTLINE_DATABASE_URL": database_url,
            "HOTLINE_BOOTSTRAP_ADMIN_KEY": ADMIN_SECRET,
            "HOTLINE_RUN_WORKERS": "true",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "warning"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env)

    async def start(self) -> None:
        """Spawn the server and wait (bounded) until it answers ``/healthz``."""
        self.spawn()
        assert self.process is not None
        deadline = time.monotonic() + START_SECONDS
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"the server exited at start-up with code {self.process.returncode}")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_SECONDS)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
