"""Start ``streamlit run`` on a free port for a benchmark, and read its process's memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(script: str, store: Path, *, port: int, wait_s: float = 120) -> subprocess.Popen:
    """Start ``streamlit run script`` on ``store`` and return once its health check answers."""
    streamlit = Path(sys.executable).parent / "streamlit"
    env = {**os.environ, "RISKMAP_STORE": str(Path(store).resolve())}
    server = subprocess.Popen(
        [str(streamlit), "run", script, "--server.headless=true", f"--server.port={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    return server


def stop(server: subprocess.Popen) -> None:
    """Stop a server started by :func:`start`."""
    server.terminate()
    server.wait(timeout=30)


def peak_rss_mb(pid: int) -> float | None:
    """Return the high-water mark of a process's resident memory (Linux ``VmHWM``)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, ValueError):
        pass
    return None
