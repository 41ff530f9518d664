"""A PostgreSQL cluster of the suite's own, for tests that restart the server.

Never the server of DATABASE_URL (other work uses it): a separate Debian cluster, created
on first use (``pg_createcluster``, trust authentication on 127.0.0.1) and restarted with
``pg_ctlcluster``. FAULTS_PG_PORT chooses its port (default 5437), FAULTS_PG_CLUSTER its
name. Needs root (or the postgres user) and the postgresql-common tools: ``available()``
says why not otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

PORT = int(os.environ.get("FAULTS_PG_PORT", "5437"))
NAME = os.environ.get("FAULTS_PG_CLUSTER", "chatassist_faults")


def _version() -> str | None:
    versions = sorted(Path("/etc/postgresql").glob("*")) if Path("/etc/postgresql").exists() else []
    return versions[-1].name if versions else None


def unavailable_reason() -> str | None:
    if not shutil.which("pg_createcluster") or not shutil.which("pg_ctlcluster"):
        return "no pg_createcluster/pg_ctlcluster (Debian's postgresql-common)"
    if _version() is None:
        return "no PostgreSQL installed under /etc/postgresql"
    if os.geteuid() != 0:
        return "creating and restarting a cluster needs root"
    return None


def _ctl(action: str, *extra: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", _version(), NAME, action, *extra],
        check=True,
        capture_output=True,
        timeout=120,
    )


def ready() -> bool:
    probe = subprocess.run(
        ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(PORT)], capture_output=True
    )
    return probe.returncode == 0


def wait_until_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the cluster {NAME} on port {PORT} did not come up")
        time.sleep(0.05)


def ensure_running() -> None:
    """Create the cluster if it does not exist, and start it if it is down."""
    version = _version()
    if not Path(f"/etc/postgresql/{version}/{NAME}").exists():
        subprocess.run(
            ["pg_createcluster", version, NAME, "--port", str(PORT),
             "--", "--auth-host=trust", "--auth-local=trust"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    if not ready():
        _ctl("start")
    wait_until_ready()


def restart() -> None:
    """Stop the server at once (open connections are cut, as in a crash or a failover)
    and start it again; returns when it accepts connections."""
    _ctl("restart", "-m", "fast")
    wait_until_ready()


def database_url(database: str) -> str:
    return f"postgres://postgres@127.0.0.1:{PORT}/{database}"


def recreate_database(database: str) -> None:
    for statement in (f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
                      f'CREATE DATABASE "{database}"'):  # fmt: skip
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-q", "-c", statement],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
