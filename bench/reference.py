"""The reference: pgbench running the same work in raw SQL, on the same database.

Three scripts, weighted like the HTTP workload (7 new customers : 2 follow-ups :
1 redelivery), each the least SQL that does that delivery's work:

* new customer: insert the session, pick the staff member next in line with a row lock
  (``ORDER BY ... LIMIT 1 FOR UPDATE``), stamp them, assign the session, insert the message
  with its stored answer;
* follow-up: lock the customer's open session, touch it, insert the message;
* redelivery: look the message up.

It does less than the application (no signature, no JSON, no HTTP, no assignment event, no
store-wide lock: the row lock above is the cheap trap that hands the same staff member to
simultaneous sessions), so it is the database's own ceiling for this work. Prepared
statements (``-M prepared``): the best case.
"""

from __future__ import annotations

import glob
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

FOLLOW_UP_CUSTOMERS = 1000

NEW_CUSTOMER = """\
BEGIN;
INSERT INTO assignment_chatsession
    (channel, customer_id, customer_name, status, created_at, last_message_at)
    VALUES ('pgbench', 'pgb-c' || nextval('bench_pgbench_seq'), 'Customer', 'open', now(), now())
    RETURNING id AS session_id \\gset
SELECT id AS staff_id FROM staff_staff
    WHERE active AND working_time_id = :on_duty
      AND (max_open_sessions IS NULL OR open_sessions < max_open_sessions)
    ORDER BY last_assigned_at ASC NULLS FIRST, id LIMIT 1 FOR UPDATE \\gset
UPDATE staff_staff SET last_assigned_at = now(), open_sessions = open_sessions + 1
    WHERE id = :staff_id;
UPDATE assignment_chatsession SET assigned_staff_id = :staff_id, assigned_at = now()
    WHERE id = :session_id;
INSERT INTO assignment_message
    (message_id, session_id, author, customer_name, text, sent_at, received_at, content_digest,
     response)
    SELECT 'pgb-m' || :session_id::bigint, :session_id, 'customer', 'Customer',
        'Hello! Where is my order?',
        now(), now(), md5(:session_id::text) || md5(s.email),
        jsonb_build_object('message_id', 'pgb-m' || :session_id::bigint, 'session',
            jsonb_build_object('id', :session_id::bigint, 'created', true, 'status', 'open',
            'assignment', 'assigned', 'assigned_to',
            jsonb_build_object('id', s.id, 'name', s.name, 'email', s.email)))
    FROM staff_staff s WHERE s.id = :staff_id;
END;
"""

FOLLOW_UP = """\
\\set k random(1, :follow_up_customers)
BEGIN;
SELECT id AS session_id FROM assignment_chatsession
    WHERE channel = 'pgbench' AND customer_id = 'pgb-f' || :k::int AND status = 'open'
    FOR UPDATE \\gset
UPDATE assignment_chatsession SET last_message_at = now() WHERE id = :session_id;
INSERT INTO assignment_message
    (message_id, session_id, author, customer_name, text, sent_at, received_at, content_digest,
     response)
    SELECT 'pgb-fm' || nextval('bench_pgbench_seq'), c.id, 'customer', '', 'Any news?', NULL,
        now(),
        md5(c.customer_id) || md5('follow-up'),
        jsonb_build_object('message_id', 'pgb-fm', 'session', jsonb_build_object(
            'id', c.id, 'created', false, 'status', 'open', 'assignment', 'existing',
            'assigned_to', NULL))
    FROM assignment_chatsession c WHERE c.id = :session_id;
END;
"""

REDELIVERY = """\
\\set k random(1, :follow_up_customers)
SELECT content_digest, response, session_id FROM assignment_message
    WHERE message_id = 'pgb-f' || :k::int;
"""

PREPARE = f"""
CREATE SEQUENCE IF NOT EXISTS bench_pgbench_seq;
INSERT INTO assignment_chatsession
    (channel, customer_id, customer_name, status, created_at, last_message_at)
    SELECT 'pgbench', 'pgb-f' || k, '', 'open', now(), now()
    FROM generate_series(1, {FOLLOW_UP_CUSTOMERS}) AS k;
INSERT INTO assignment_message
    (message_id, session_id, author, customer_name, text, received_at, content_digest, response)
    SELECT customer_id, id, 'customer', '', 'Hi', now(), md5(customer_id), '{{}}'::jsonb
    FROM assignment_chatsession WHERE channel = 'pgbench';
"""


@dataclass(frozen=True)
class ReferenceResult:
    clients: int
    transactions: int
    tps: float
    latency_ms: dict[str, float]
    failed: int
    command: str


def pgbench_path() -> str | None:
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return candidates[-1] if candidates else None


def connection_args(database_url: str) -> tuple[list[str], dict[str, str]]:
    parts = urlsplit(database_url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", unquote(parts.username)]
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    return args, {**env, "PGDATABASE": parts.path.lstrip("/")}


def prepare(cursor) -> None:
    """Sessions and messages for the follow-up and redelivery scripts to find."""
    cursor.execute(PREPARE)


def run_pgbench(
    *,
    database_url: str,
    clients: int,
    transactions: int,
    on_duty_working_time_id: int,
    time_limit: float,
    threads: int,
) -> ReferenceResult:
    executable = pgbench_path()
    if executable is None:
        raise RuntimeError("pgbench not found (it comes with PostgreSQL)")
    per_client = max(1, math.ceil(transactions / clients))
    args, env = connection_args(database_url)
    with tempfile.TemporaryDirectory(prefix="bench-pgbench-") as workdir:
        scripts = {
            "new.sql": NEW_CUSTOMER,
            "follow_up.sql": FOLLOW_UP,
            "redelivery.sql": REDELIVERY,
        }
        for name, text in scripts.items():
            Path(workdir, name).write_text(text)
        command = [
            executable,
            *args,
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            f"--jobs={min(clients, threads)}",
            f"--transactions={per_client}",
            f"--define=on_duty={on_duty_working_time_id}",
            f"--define=follow_up_customers={FOLLOW_UP_CUSTOMERS}",
            f"--file={workdir}/new.sql@7",
            f"--file={workdir}/follow_up.sql@2",
            f"--file={workdir}/redelivery.sql@1",
            "--log",
            f"--log-prefix={workdir}/tx",
        ]
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=time_limit,
            cwd=workdir,
            env={**os.environ, **env},
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"pgbench failed:\n{completed.stderr[-2000:]}")
        latencies = _logged_latencies(workdir)
    tps = float(re.search(r"tps = ([0-9.]+)", completed.stdout)[1])
    failed_match = re.search(r"number of failed transactions: ([0-9]+)", completed.stdout)
    return ReferenceResult(
        clients=clients,
        transactions=len(latencies),
        tps=tps,
        latency_ms=percentiles_ms(latencies),
        failed=int(failed_match[1]) if failed_match else 0,
        command=" ".join(command[:1] + ["..."] + command[len(args) + 1 : -2]),
    )


def _logged_latencies(workdir: str) -> list[float]:
    """Per-transaction latencies (seconds) from pgbench's --log files."""
    latencies: list[float] = []
    for path in glob.glob(f"{workdir}/tx*"):
        with open(path) as log:
            for line in log:
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1e6)
    return latencies


def percentiles_ms(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"p50": math.nan, "p95": math.nan, "p99": math.nan}
    ordered = sorted(latencies)

    def rank(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)] * 1000

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99)}
