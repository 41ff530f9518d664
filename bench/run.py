"""The benchmark: signed webhook to assigned session, over real HTTP, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/chatassist_bench python bench/run.py
    make bench BENCH_ARGS="--workers 4 --threads 1"      # the same through make

Against the PostgreSQL of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
chatassist_bench; the database is dropped and created again, so its name must contain
"bench"), for each store size S and each number of concurrent senders C:

1. seeds S staff (half off duty now, 1 in 100 of the others away), auto-assignment on;
2. counts the SQL of each webhook case in this process (``bench.queries``);
3. starts the app under gunicorn with the production settings (DEBUG off, fresh secrets);
4. sends W signed deliveries (7 new customers : 2 follow-ups : 1 redelivery) from C
   keep-alive connections and reports throughput, latency, status codes, fairness;
5. runs pgbench with the same work in raw SQL and the same C (``bench.reference``);

then times ``policy.assign_oldest_waiting`` draining a queue. Prints a table, writes JSON to
bench/results/. Every loop is bounded by a count and a time limit.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import platform
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/chatassist_bench"
RESULTS = ROOT / "bench" / "results"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--staff", default="10,1000,10000", help="store sizes S")
    parser.add_argument("--clients", default="1,4,16", help="concurrent senders C")
    parser.add_argument("--requests", type=int, default=3000, help="deliveries W per cell")
    parser.add_argument("--warmup", type=int, default=300, help="deliveries before each cell")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per cell, ours and pgbench's; medians kept"
    )
    parser.add_argument("--cell-time-limit", type=float, default=120.0, help="seconds")
    parser.add_argument("--drain-sessions", type=int, default=10_000)
    parser.add_argument("--drain-staff", type=int, default=20)
    parser.add_argument("--drain-time-limit", type=float, default=180.0, help="seconds")
    parser.add_argument("--no-reference", action="store_true", help="skip pgbench")
    parser.add_argument("--no-drain", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="a short run: S=10,10000, C=1,16, W=600"
    )
    parser.add_argument("--output", type=Path, help="JSON file (default bench/results/...)")
    args = parser.parse_args(argv)
    if args.quick:
        args.staff, args.clients = "10,10000", "1,16"
        args.requests, args.warmup, args.drain_sessions = 600, 100, 2000
    args.database_url = args.database_url or DEFAULT_DATABASE_URL
    args.staff_sizes = [int(value) for value in args.staff.split(",")]
    args.client_counts = [int(value) for value in args.clients.split(",")]
    if not urlsplit(args.database_url).scheme.startswith("postgres"):
        parser.error("the benchmark needs PostgreSQL: DATABASE_URL=postgres://...")
    if "bench" not in urlsplit(args.database_url).path:
        parser.error("the database is dropped and recreated: its name must contain 'bench'")
    return args


def command_line(database_url: str, argv: list[str]) -> str:
    """How to run this again (without the database password)."""
    parts = urlsplit(database_url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        database_url = urlunsplit(parts._replace(netloc=netloc))
    return " ".join([f"DATABASE_URL={database_url}", ".venv/bin/python", "bench/run.py", *argv])


def reset_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def production_environment(database_url: str) -> dict[str, str]:
    """The settings a deployment sets; fresh secrets for this run."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatassist.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "WEBHOOK_SECRET": secret,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Production's defaults, whatever a development .env says (variables set here win
        # over the .env that settings and gunicorn.conf.py read).
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "SECURE_SSL_REDIRECT": "false",
        "GUNICORN_ACCESS_LOG": "false",
    }


def machine() -> dict:
    from django.db import connection

    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    import django

    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "postgresql": server_version,
        "python": platform.python_version(),
        "django": django.get_version(),
        "kernel": platform.release(),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def percentiles_ms(latencies: list[float]) -> dict[str, float]:
    from bench.reference import percentiles_ms as ranks

    return ranks(latencies)


def run_http_cell(*, args, secret, port: int, server_pid: int, store, clients: int) -> dict:
    from bench import loadgen, seed, server, workload

    seed.reset_traffic()
    warm = workload.build_workload(
        secret=secret,
        host="127.0.0.1",
        port=port,
        senders=clients,
        total=args.warmup,
        prefix=f"warm-s{store.staff}-c{clients}",
    )
    loadgen.run_senders(host="127.0.0.1", port=port, plans=warm.plans, time_limit=30)
    work = workload.build_workload(
        secret=secret,
        host="127.0.0.1",
        port=port,
        senders=clients,
        total=args.requests,
        prefix=f"run-s{store.staff}-c{clients}",
    )
    app_before = server.process_tree_cpu_seconds(server_pid)
    busy_before, total_before = server.machine_busy_seconds()
    result = loadgen.run_senders(
        host="127.0.0.1", port=port, plans=work.plans, time_limit=args.cell_time_limit
    )
    busy_after, total_after = server.machine_busy_seconds()
    app_cpu = server.process_tree_cpu_seconds(server_pid) - app_before
    nproc = os.cpu_count() or 1
    machine_seconds = result.wall_seconds * nproc
    per_staff = seed.sessions_per_staff(store.always_on_active_ids)
    latencies = result.latencies
    return {
        "staff": store.staff,
        "clients": clients,
        "requests": len(latencies),
        "throughput": len(latencies) / result.wall_seconds,
        "latency_ms": percentiles_ms(latencies),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else math.nan,
        "statuses": dict(sorted(Counter(result.statuses).items())),
        "expected_statuses": dict(sorted(work.expected_statuses.items())),
        "kinds": dict(work.kinds),
        "fairness": {
            "always_on_staff": len(per_staff),
            "min": min(per_staff.values()),
            "max": max(per_staff.values()),
            "spread": max(per_staff.values()) - min(per_staff.values()),
        },
        "cpu_share": {
            "loadgen": result.cpu_seconds / machine_seconds,
            "app": app_cpu / machine_seconds,
            "machine_busy": (busy_after - busy_before) / max(total_after - total_before, 1e-9),
        },
        "reconnects": sum(sender.reconnects for sender in result.senders),
        "unsent": sum(sender.unsent for sender in result.senders),
        "errors": [error for sender in result.senders for error in sender.errors][:10],
    }


def run_reference_cell(*, args, store, clients: int) -> dict:
    from django.db import connection

    from bench import reference, seed

    seed.reset_traffic()
    with connection.cursor() as cursor:
        reference.prepare(cursor)
    result = reference.run_pgbench(
        database_url=args.database_url,
        clients=clients,
        transactions=args.requests,
        on_duty_working_time_id=store.on_duty_working_time_id,
        time_limit=args.cell_time_limit,
        threads=os.cpu_count() or 1,
    )
    return {
        "staff": store.staff,
        "clients": clients,
        "transactions": result.transactions,
        "tps": result.tps,
        "latency_ms": result.latency_ms,
        "failed": result.failed,
        "command": result.command,
    }


def median_run(runs: list[dict], key: str) -> dict:
    """The run with the median ``key`` (the lower middle one of an even count), with every
    run's ``key`` alongside: one consistent set of percentiles rather than mixed medians."""
    ordered = sorted(runs, key=lambda run: run[key])
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["runs"] = [run[key] for run in runs]
    return chosen


def run_drain(*, args) -> dict:
    from assignment import policy
    from bench import seed

    staff_ids = seed.seed_waiting_queue(staff_count=args.drain_staff, sessions=args.drain_sessions)
    assigned = 0
    started = time.perf_counter()
    while assigned < args.drain_sessions and time.perf_counter() - started < args.drain_time_limit:
        if not policy.assign_oldest_waiting().assigned:
            break
        assigned += 1
    elapsed = time.perf_counter() - started
    per_staff = seed.sessions_per_staff(staff_ids)
    return {
        "sessions": args.drain_sessions,
        "staff": args.drain_staff,
        "assigned": assigned,
        "seconds": elapsed,
        "per_second": assigned / elapsed if elapsed else math.nan,
        "ms_each": elapsed / assigned * 1000 if assigned else math.nan,
        "per_staff_min": min(per_staff.values()),
        "per_staff_max": max(per_staff.values()),
        "still_waiting": policy.waiting_sessions().count(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env = production_environment(args.database_url)
    os.environ.update(env)
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    reset_database(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command

    from assignment.signatures import WebhookSecret
    from bench import queries, report, seed, server

    call_command("migrate", verbosity=0, interactive=False)
    secret = WebhookSecret.parse(env["WEBHOOK_SECRET"])
    results: dict = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "command": command_line(args.database_url, argv if argv is not None else sys.argv[1:]),
        "machine": machine(),
        "config": {
            "staff": args.staff_sizes,
            "clients": args.client_counts,
            "requests": args.requests,
            "warmup": args.warmup,
            "repeat": args.repeat,
            "gunicorn": server.effective_config(env, workers=args.workers, threads=args.threads),
        },
        "load_before": load_before,
        "http": [],
        "reference": [],
        "queries": {},
    }
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    log_path = RESULTS / f"gunicorn-{stamp}.log"
    with server.running_server(
        env=env, workers=args.workers, threads=args.threads, log_path=log_path
    ) as (port, server_pid):
        for staff_count in args.staff_sizes:
            print(f"\n== S = {staff_count:,} staff: seeding", flush=True)
            store = seed.seed_store(staff_count=staff_count)
            counts = queries.count_webhook_cases(secret, prefix=f"q{staff_count}")
            results["queries"][str(staff_count)] = {
                case: {"status": c.status, "statements": c.statements, "round_trips": c.round_trips}
                for case, c in counts.items()
            }
            results.setdefault("queries_sql", {})[str(staff_count)] = {
                case: c.sql for case, c in counts.items()
            }
            for clients in args.client_counts:
                cells, refs = [], []
                for _ in range(args.repeat):
                    cell = run_http_cell(
                        args=args,
                        secret=secret,
                        port=port,
                        server_pid=server_pid,
                        store=store,
                        clients=clients,
                    )
                    cells.append(cell)
                    print(report.http_line(cell), flush=True)
                    if not args.no_reference:
                        ref = run_reference_cell(args=args, store=store, clients=clients)
                        refs.append(ref)
                        print(report.reference_line(ref, cell), flush=True)
                results["http"].append(median_run(cells, "throughput"))
                if refs:
                    results["reference"].append(median_run(refs, "tps"))
    if not args.no_drain:
        print("\n== draining the waiting queue", flush=True)
        results["drain"] = run_drain(args=args)
    results["load_after"] = os.getloadavg()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = report.render(results)
    print("\n" + text)
    output = args.output or RESULTS / f"bench-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, default=str))
    (RESULTS / "latest.md").write_text(text + "\n")
    print(f"\nJSON: {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}")
    print(f"gunicorn log: {log_path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
