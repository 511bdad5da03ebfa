"""A real uvicorn server on 127.0.0.1 for tests and benchmarks; stopped cleanly on exit.

    # a separate process, as deployed (`uvicorn --factory dangan.web.asgi:make_app`):
    with serve_instance(data_dir, db_url) as server:
        DanganClient(server.url, token).submit(...)
    # an app object, in a thread of this process:
    with serve_app(create_app(c)) as server:
        httpx.get(server.url + "/health")

The listening socket is bound here (port 0: the kernel picks a free port) and handed to
uvicorn, so two servers started at once can never race for the same port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


@dataclass
class LiveServer:
    url: str
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def log_text(self) -> str:
        """What the server process wrote (access log, tracebacks); '' for a thread server."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(2048)
    return sock


def wait_healthy(
    url: str, timeout: float = START_TIMEOUT, alive: Any = None, log: LiveServer | None = None
) -> None:
    """Poll `/health` until it answers 200; fail early if `alive()` says the server died."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            tail = log.log_text()[-4000:] if log else ""
            raise RuntimeError(f"the server exited before answering /health\n{tail}")
        try:
            if httpx.get(f"{url}/health", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"{url}/health did not answer within {timeout:.0f}s ({last})")


@contextmanager
def serve_app(app: Any, *, log_level: str = "warning") -> Iterator[LiveServer]:
    """Run an ASGI app object under uvicorn in a background thread of this process."""
    import uvicorn

    sock = _bound_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    live = LiveServer(f"http://{HOST}:{port}")
    try:
        wait_healthy(live.url, alive=thread.is_alive)
        yield live
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("uvicorn did not stop within the timeout")


def instance_env(
    data_dir: Path, db_url: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a server process needs to open the instance at `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DANGAN_")}
    env.update(
        {
            "DANGAN_DATA_DIR": str(data_dir),
            "DANGAN_DATABASE_URL": db_url,
            # No stray dangan.toml from the working directory.
            "DANGAN_CONFIG": str(data_dir / "no-such-dangan.toml"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextmanager
def serve_instance(
    data_dir: Path,
    db_url: str,
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    access_log: bool = True,
    log_path: Path | None = None,
) -> Iterator[LiveServer]:
    """Run `uvicorn --factory dangan.web.asgi:make_app` in a child process on an instance.

    The instance must already be initialised. Its output goes to `log_path` (default:
    `data_dir/../uvicorn-<port>.log`); SIGTERM stops it, SIGKILL if it does not stop in time.
    """
    sock = _bound_socket()
    port = sock.getsockname()[1]
    log_path = log_path or data_dir.parent / f"uvicorn-{port}.log"
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "dangan.web.asgi:make_app",
        "--fd",
        str(sock.fileno()),
        "--workers",
        str(workers),
        "--log-level",
        "info",
        "--timeout-graceful-shutdown",
        "20",
    ]
    if not access_log:
        argv.append("--no-access-log")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            env=instance_env(data_dir, db_url, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),),
        )
    sock.close()  # the child holds its own copy
    live = LiveServer(f"http://{HOST}:{port}", log_path, proc)
    try:
        wait_healthy(live.url, alive=lambda: proc.poll() is None, log=live)
        yield live
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)
