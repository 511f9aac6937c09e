"""A real ``fieldapp serve`` in a subprocess, for HTTP, browser, fault and load tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``fieldapp serve`` on 127.0.0.1 against ``database_url``; stop() or kill() it."""

    def __init__(self, database_url: str, instance: Path, workers: int = 2,
                 port: int | None = None, extra_env: dict[str, str] | None = None,
                 threads: int | None = None) -> None:
        self.database_url = database_url
        self.instance = instance
        self.workers = workers
        self.threads = threads
        self.port = port or free_port()
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = instance / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        self.instance.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "FIELDAPP_DATABASE_URL": self.database_url,
            "FIELDAPP_INSTANCE_PATH": str(self.instance),
            "FIELDAPP_SECRET_KEY": "live-test-secret-key",
            **self.extra_env,
        })
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fieldapp.cli", "serve", "--port", str(self.port),
             "--workers", str(self.workers), *(["--threads", str(self.threads)] if self.threads else []),
             "--quiet"],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text(errors='replace')}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers), as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Quick shutdown (gunicorn's SIGINT): tests need no graceful draining."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
