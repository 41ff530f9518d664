"""The app under gunicorn, on 127.0.0.1, with the production settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "gunicorn.conf.py"
HOST = "127.0.0.1"
DEFAULT_WORKERS, DEFAULT_THREADS = 3, 4  # without gunicorn.conf.py
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def gunicorn_command(*, port: int, workers: int | None, threads: int | None) -> list[str]:
    """gunicorn with the repository's gunicorn.conf.py when there is one, else flags.

    With the file, worker and thread counts are its own (from WEB_CONCURRENCY and
    GUNICORN_THREADS, which ``server_environment`` sets only when asked to). Without it,
    gthread workers: they keep HTTP connections alive, as a proxy in front would.
    """
    command = [sys.executable, "-m", "gunicorn"]
    if CONF.exists():
        command += ["--config", str(CONF)]
    else:
        command += [
            f"--workers={workers or DEFAULT_WORKERS}",
            f"--threads={threads or DEFAULT_THREADS}",
            "--worker-class=gthread",
        ]
    return command + [f"--bind={HOST}:{port}", "chatassist.wsgi:application"]


def server_environment(
    base: dict[str, str], *, workers: int | None, threads: int | None
) -> dict[str, str]:
    env = {**base, "PYTHONPATH": str(ROOT)}
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    return env


def effective_config(env: dict[str, str], *, workers: int | None, threads: int | None) -> dict:
    """What gunicorn will run with (``--print-config``): the counts, the worker class..."""
    command = gunicorn_command(port=0, workers=workers, threads=threads)
    printed = subprocess.run(
        [*command[:-1], "--print-config", command[-1]],
        cwd=ROOT,
        env=server_environment(env, workers=workers, threads=threads),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=True,
    ).stdout
    wanted = ("workers", "threads", "worker_class", "keepalive", "max_requests", "accesslog")
    config = {}
    for line in printed.splitlines():
        name, _, value = line.partition("=")
        if name.strip() in wanted:
            config[name.strip()] = value.strip()
    config["config_file"] = str(CONF.relative_to(ROOT)) if CONF.exists() else None
    return config


@contextmanager
def running_server(
    *, env: dict[str, str], workers: int | None, threads: int | None, log_path: Path
):
    """Start gunicorn, wait until /healthz answers 200, yield the port; stop it after."""
    port = free_port()
    command = gunicorn_command(port=port, workers=workers, threads=threads)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=server_environment(env, workers=workers, threads=threads),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_healthy(port, process)
            yield port, process.pid
        finally:
            _stop(process)


def _wait_until_healthy(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /healthz within {START_TIMEOUT:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of gunicorn: the master, its live workers, and the workers that
    have exited (gunicorn replaces each after max_requests), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
        if member == pid:
            total += int(fields[13]) + int(fields[14])  # cutime, cstime: exited workers
    return total / ticks


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks
