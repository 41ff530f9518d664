"""The benchmark's results as Markdown tables (printed, and pasted into docs/BENCHMARKS.md)."""

from __future__ import annotations

import math


def http_line(cell: dict) -> str:
    latency = cell["latency_ms"]
    return (
        f"  C={cell['clients']:>2}: {cell['throughput']:7.0f} req/s  "
        f"p50 {latency['p50']:5.1f}  p95 {latency['p95']:5.1f}  p99 {latency['p99']:5.1f} ms  "
        f"statuses {cell['statuses']}  fairness spread {cell['fairness']['spread']}  "
        f"loadgen CPU {cell['cpu_share']['loadgen']:.0%}"
        + (f"  ERRORS {cell['errors']}" if cell["errors"] else "")
    )


def reference_line(ref: dict, cell: dict) -> str:
    return (
        f"        pgbench {ref['tps']:7.0f} tps  p99 {ref['latency_ms']['p99']:5.1f} ms  "
        f"-> ours {cell['throughput'] / ref['tps']:.0%} of it"
    )


def render(results: dict) -> str:
    parts = [_http_table(results), _query_table(results)]
    if "drain" in results:
        parts.append(_drain_line(results["drain"]))
    parts.append(_machine_line(results))
    return "\n\n".join(parts)


def _http_table(results: dict) -> str:
    references = {(ref["staff"], ref["clients"]): ref for ref in results["reference"]}
    rows = [
        "| S staff | C | req/s | p50 ms | p95 ms | p99 ms | pgbench tps | ratio | pgbench p99 ms "
        "| statuses (expected) | fairness max-min | loadgen CPU | app CPU | machine busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for cell in results["http"]:
        ref = references.get((cell["staff"], cell["clients"]))
        latency, share = cell["latency_ms"], cell["cpu_share"]
        statuses = " ".join(f"{code}:{count}" for code, count in cell["statuses"].items())
        expected = " ".join(f"{code}:{count}" for code, count in cell["expected_statuses"].items())
        rows.append(
            f"| {cell['staff']:,} | {cell['clients']} | {cell['throughput']:,.0f} "
            f"| {latency['p50']:.1f} | {latency['p95']:.1f} | {latency['p99']:.1f} "
            f"| {_number(ref and ref['tps'])} | {_ratio(cell, ref)} "
            f"| {_decimal(ref and ref['latency_ms']['p99'])} "
            f"| {statuses}{'' if statuses == expected else f' ({expected})'} "
            f"| {cell['fairness']['spread']} | {share['loadgen']:.0%} | {share['app']:.0%} "
            f"| {share['machine_busy']:.0%} |"
        )
    return "\n".join(rows)


def _query_table(results: dict) -> str:
    sizes = list(results["queries"])
    if not sizes:
        return ""
    cases = list(results["queries"][sizes[0]])
    header = "| webhook case | " + " | ".join(f"S = {int(size):,}" for size in sizes) + " |"
    rows = [header, "|---|" + "---:|" * len(sizes)]
    for case in cases:
        cells = []
        for size in sizes:
            count = results["queries"][size][case]
            cells.append(f"{count['statements']} ({count['round_trips']})")
        rows.append(f"| {case} | " + " | ".join(cells) + " |")
    note = (
        "SQL statements Django runs per delivery (in brackets: round trips to the server, "
        "including BEGIN, COMMIT and the connection health check)."
    )
    return note + "\n\n" + "\n".join(rows)


def _drain_line(drain: dict) -> str:
    return (
        f"assign_waiting drain: {drain['assigned']:,} of {drain['sessions']:,} waiting sessions "
        f"over {drain['staff']} staff in {drain['seconds']:.1f} s "
        f"({drain['per_second']:,.0f}/s, {drain['ms_each']:.2f} ms each; "
        f"per staff {drain['per_staff_min']}-{drain['per_staff_max']}, "
        f"{drain['still_waiting']} left)."
    )


def _machine_line(results: dict) -> str:
    m, config = results["machine"], results["config"]
    before, after = results["load_before"], results.get("load_after", [math.nan] * 3)
    return (
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, PostgreSQL "
        f"{m['postgresql']}, Python {m['python']}, Django {m['django']}. "
        f"gunicorn: {_gunicorn(config['gunicorn'])}; W = {config['requests']:,} per cell after "
        f"{config['warmup']} warm-up{_repeats(config)}. Load average before {before[0]:.2f}, after "
        f"{after[0]:.2f}. Command: `{results['command']}`."
    )


def _repeats(config: dict) -> str:
    repeat = config.get("repeat", 1)
    return f", each cell run {repeat} times (median kept)" if repeat > 1 else ""


def _gunicorn(config: dict) -> str:
    source = config.get("config_file") or "flags"
    return (
        f"{config.get('workers')} workers x {config.get('threads')} threads "
        f"({config.get('worker_class')}, keepalive {config.get('keepalive')} s, "
        f"max_requests {config.get('max_requests')}; {source})"
    )


def _ratio(cell: dict, ref: dict | None) -> str:
    return f"{cell['throughput'] / ref['tps']:.0%}" if ref else "-"


def _number(value: float | None) -> str:
    return f"{value:,.0f}" if value else "-"


def _decimal(value: float | None) -> str:
    return f"{value:.1f}" if value else "-"
