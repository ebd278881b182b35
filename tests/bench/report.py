"""docs/benchmarks.md from one run's outcome: machine, method, one table per section."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tests.bench import database
from tests.bench.freshness import POLL_S
from tests.bench.load import OPERATIONS, WEIGHTS
from tests.bench.outcome import Outcome

PLOT_NAME = "benchmarks-latency.png"


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def flat(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested figures as (dotted name, value) rows, for the services' own benchmark results.

    Lists of records (e.g. one per concurrency level) are left out: :func:`record_tables` shows them.
    """
    rows: list[tuple[str, Any]] = []
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += flat(value, name + ".") if value else [(name, "-")]
        elif not _is_records(value):
            rows.append((name, value))
    return rows


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def record_tables(figures: dict[str, Any]) -> list[str]:
    """One table per list of records in the figures, a column per (dotted) field."""
    lines: list[str] = []
    for key, value in figures.items():
        if _is_records(value):
            columns = [name for name, _ in flat(value[0])]
            rows = [[dict(flat(item)).get(column) for column in columns] for item in value]
            lines += [f"`{key}`:", "", *table(columns, rows)]
    return lines


def render(outcome: Outcome) -> str:
    lines = _head(outcome)
    for number, (key, title, body) in enumerate(SECTIONS, start=1):
        lines += [f"## {number}. {title}", ""]
        figures = outcome.figures.get(key) if key else {}
        if key and not figures:
            lines += [f"Not measured in this run: {outcome.failures.get(key, 'the phase did not run')}.", ""]
        else:
            lines += body(outcome, figures or {})
    lines += _failures(outcome)
    return "\n".join(lines).rstrip() + "\n"


def _head(outcome: Outcome) -> list[str]:
    scale, machine = outcome.scale, outcome.machine
    when = outcome.started_at.strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` ({scale.name} run) on {when}; the run took {outcome.seconds / 60:.1f} minutes.",
        "Every figure sits next to a baseline measured in the same run on the same machine, and the",
        "ratio between them is what to read: each table says which way is better.",
        "",
        "## Machine",
        "",
        *table(
            ["", ""],
            [
                ["processor", f"{machine.get('cpu', '?')}, {machine.get('cores', '?')} cores"],
                ["memory", f"{fmt(machine.get('memory_gib'))} GiB"],
                ["system", machine.get("os")],
                ["Python", machine.get("python")],
                ["broker", f"{machine.get('broker')} (Kafka protocol), durable on a local S3 store"],
                ["database", f"{machine.get('database')}, on disk"],
                ["clients", machine.get("clients")],
                [
                    "load average (1 min)",
                    f"{machine.get('load_at_start', '?')} before the run, {machine.get('load_at_end', '?')} at the"
                    " end of the soak (the run's own processes included)",
                ],
            ],
        ),
        "The broker, the database, the four services and the load generator all share these cores. The local",
        "database is the bottleneck of every write path: it does about 900 single-document operations per",
        "second, where a real MongoDB does 10 to 50 times more, so absolute write figures are far below",
        "production's and the ratios are the portable result.",
        "",
        "## How the platform ran",
        "",
        "- The whole platform as real processes on free ports (`devkit.testing.Platform`): broker, S3 store,",
        "  database and the four services under uvicorn, `PROFILE=local`, INFO logs, in a temporary folder;",
        f"  ready in {outcome.start_s:.1f} s.",
        f"- Demo data loaded through the gateway as `make run` does, in {outcome.seed_s:.1f} s:"
        f" {', '.join(outcome.seeded) or '-'}.",
        "- The gateway's per-address rate limit is off: all load comes from 127.0.0.1 and the limit (a",
        "  flood guard, 50 requests/s per address) would measure itself. Tokens are valid for the whole run.",
        "  After a rebuild the districts service drops the replaced generation after 1 s instead of 5 s.",
        "- Load generator: async httpx clients in one process, closed loop with bounded concurrency. It needs",
        "  no extra service, records every request with its start time (for the percentiles, the plot and the",
        "  freshness probe) and speaks HTTP the way the platform's own clients do; locust would add a",
        "  gevent runtime and a second process competing for the same two cores.",
        "",
    ]
    return lines


def _gateway(outcome: Outcome, g: dict[str, Any]) -> list[str]:
    rows = [
        [
            name,
            f["gateway"]["p50_ms"],
            f["direct"]["p50_ms"],
            f["p50_ratio"],
            f["p50_added_ms"],
            f["gateway"]["p99_ms"],
            f["direct"]["p99_ms"],
            f["p99_ratio"],
            f["errors"],
        ]
        for name, f in g["latency"].items()
    ]
    t = g["throughput"]
    return [
        f"The same requests with the same token, {g['requests_per_endpoint']} times each through the gateway",
        "(`/api/v1/...`) and straight to the owning service, alternating, one at a time. Ratio = gateway ÷",
        "direct: above 1 is the gateway's cost (authentication, routing, the second HTTP hop).",
        "",
        *table(
            [
                "request",
                "gateway p50 ms",
                "direct p50 ms",
                "p50 ratio",
                "added ms",
                "gateway p99 ms",
                "direct p99 ms",
                "p99 ratio",
                "errors",
            ],
            rows,
        ),
        f"Throughput, {t['concurrency']} concurrent clients on {t['endpoint']}: gateway {fmt(t['gateway_per_s'])}",
        f"requests/s, direct {fmt(t['direct_per_s'])} requests/s, ratio **{fmt(t['ratio'])}** (below 1: the gateway",
        "process shares the two cores with the service it calls).",
        "",
    ]


def _projection(outcome: Outcome, p: dict[str, Any]) -> list[str]:
    return [
        f"The same messages of {', '.join(f'`{t}`' for t in p['topics'])}, from the beginning, in a fresh",
        "consumer group each. The projection side is the districts service's replay (`POST /districts/rebuild`):",
        "its idempotent consumer applies every event to the projections in one MongoDB transaction per batch,",
        "with the processed event ids. The baseline reads and JSON-decodes the messages and does nothing else.",
        "Both include joining the group. Ratio = projection ÷ plain events/s (1 would be free processing).",
        "",
        *table(
            ["consumer", "events", "seconds", "events/s"],
            [
                ["districts projection (replay)", p["events"], p["projection_replay_s"], p["projection_events_per_s"]],
                ["plain aiokafka loop", p["events"], p["plain_s"], p["plain_events_per_s"]],
            ],
        ),
        f"Ratio **{fmt(p['ratio'])}**. The rebuild, including the KPIs of the new generation and the switch to",
        f"it, took {fmt(p['projection_rebuild_total_s'])} s; reads answered promptly again (5 in a row under",
        f"250 ms) {fmt(p['settled_after_s'])} s after that, once the replaced generation had been dropped.",
        "",
    ]


def _nearest(outcome: Outcome, f: dict[str, Any]) -> list[str]:
    index, scan, geonear = f.get("index", {}), f.get("scan", {}), f.get("geonear")
    memory, cpu = f.get("index_memory", {}), f.get("index_cpu", {})
    rows = [
        ["in-process grid index", index.get("n"), index.get("p50_ms"), index.get("p95_ms"), index.get("p99_ms")],
        ["… its CPU time (thread)", cpu.get("n"), cpu.get("p50_ms"), cpu.get("p95_ms"), cpu.get("p99_ms")],
        ["linear scan (baseline)", scan.get("n"), scan.get("p50_ms"), scan.get("p95_ms"), scan.get("p99_ms")],
    ]
    if geonear:
        rows.append(["plain `$geoNear`", geonear["n"], geonear["p50_ms"], geonear["p95_ms"], geonear["p99_ms"]])
    return [
        f"The shops service's `NearestFinder` answering \"the {f.get('limit', '?')} nearest points offering a service",
        f'and open at a given time" over {fmt(f.get("points"))} points of {fmt(f.get("shops"))} shops across Milan',
        f"({fmt(f.get('points_offering_the_service'))} offering the service asked for), with their timetables",
        f"and {fmt(f.get('closures'))} closures (holidays, days off, days of exceptional hours, old ones), on a",
        "database server of its own, in memory (`services/shops/bench.py`). Queries: anywhere in",
        "the city, any minute of one week, open points only. Baseline: the same finder with a single cell, so",
        "every query measures the distance of every open point offering the service; it gave the same",
        "answers. Ratio = scan ÷ index latency (how many times faster the index is). The index's CPU time is",
        "what the query cost its thread: wall-clock time beyond it is the machine's other processes.",
        "",
        *table(["query path", "queries", "p50 ms", "p95 ms", "p99 ms"], rows),
        f"Ratio p50 **{fmt(f.get('p50_speedup'))}**, p99 **{fmt(f.get('p99_speedup'))}**.",
        "",
        f"Index load (documents → ready): **{fmt(f.get('index_load_s'))} s**, of which reading the documents from",
        f"the database {fmt(f.get('index_read_s'))} s (timed alone just before) and building the index",
        f"{fmt(f.get('index_build_s'))} s. Memory the loaded index keeps (tracemalloc, after the load):",
        f"**{fmt(memory.get('held_mib'))} MiB**; peak during the load {fmt(memory.get('load_peak_mib'))} MiB.",
        "",
    ]


def _backbone(outcome: Outcome, b: dict[str, Any]) -> list[str]:
    return [
        "On a broker and database of their own (in memory), so the platform's traffic does not blur them",
        "(`tests/bench/backbone.py`). The relay publishes outbox documents with acks=all and marks them",
        "sent; the baseline sends the same events with a plain producer. Write → consume is an HTTP write",
        "(state and outbox in one transaction) until an idempotent consumer has processed the event; the",
        "baseline is a plain produce (acks=all) until a plain consumer sees it.",
        "",
        *table(
            ["figure", "platform path", "raw aiokafka", "ratio"],
            [
                [
                    f"events/s ({fmt(b['events'])} events)",
                    b["relay_events_per_s"],
                    b["raw_producer_events_per_s"],
                    b["relay_vs_raw"],
                ],
                [
                    f"p50 ms, write → consume ({b['writes']} writes)",
                    b["write_to_consume_p50_ms"],
                    b["raw_produce_to_consume_p50_ms"],
                    b["e2e_p50_vs_raw"],
                ],
                [
                    "p99 ms, write → consume",
                    b["write_to_consume_p99_ms"],
                    b["raw_produce_to_consume_p99_ms"],
                    round(b["write_to_consume_p99_ms"] / b["raw_produce_to_consume_p99_ms"], 3),
                ],
            ],
        ),
        "Relay ratio: below 1 is the cost of reading and marking the outbox; write → consume ratio: above 1 is",
        "the cost of the transaction, the relay hop and the idempotent consumer's own transaction.",
        "",
    ]


def _broker_store(outcome: Outcome, b: dict[str, Any]) -> list[str]:
    rows = [
        [
            fmt(size["batches"]),
            fmt(size.get("objects", "")),
            "compacted at start" if size.get("guard") == "compacted" else "as written",
            *(["starved: nothing received in 10 s", "", "", ""] if size.get("starved") else
              [size["p50_ms"], size["p99_ms"], size["vs_empty_p50"], size["vs_empty_p99"]]),
            " / ".join(fmt(size.get(f"{name}_cpu_pct", "")) for name in ("kafka", "s3")),
            " / ".join(fmt(size.get(f"{name}_rss_mb", "")) for name in ("kafka", "s3")),
        ]
        for size in b["sizes"]
    ]  # fmt: skip
    compactions = [
        f"{fmt(size['objects_before'])} objects to {fmt(size['objects'])} in {size['compaction_s']} s"
        for size in b["sizes"]
        if size.get("guard") == "compacted"
    ]
    return [
        "The local broker on its S3 store (`tests/bench/broker_store.py`): one record at a time, from the",
        "producer's send to a consumer waiting at the end of the partition (fetch wait",
        f"{b['fetch_wait_ms']} ms), {b['samples']} samples per length; the baseline is the same partition empty,",
        "in the same run. The broker lists every batch object of a partition on each fetch that has something",
        "to read; each length is measured as written (one object per batch) and after the compaction a start",
        "of the stack runs (old batches merged, the newest kept: docs/decisions/0003).",
        "",
        *table(
            [
                "batches in the partition",
                "objects",
                "store",
                "p50 ms",
                "p99 ms",
                "p50 vs empty",
                "p99 vs empty",
                "CPU % broker / store",
                "RSS MB broker / store",
            ],
            rows,
        ),
        "",
        *([f"Compaction (broker stopped): {'; '.join(compactions)}.", ""] if compactions else []),
    ]


OPERATION_COLUMNS = ["operation", "requests", "per s", "error rate", "errors by status", "p50 ms", "p95 ms",
                     "p99 ms", "alone p50 ms", "p50 ratio"]  # fmt: skip


def _operations_table(ops: dict[str, Any], single: dict[str, Any]) -> list[str]:
    return table(OPERATION_COLUMNS, _operation_rows(ops, single))


def _operation_rows(ops: dict[str, Any], single: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for op, f in ops.items():
        if op == "all":
            continue
        alone = single.get(op, {}).get("p50_ms", float("nan"))
        rows.append(
            [
                f"{op} — {OPERATIONS.get(op, op)}",
                f["requests"],
                f["per_s"],
                f["error_rate"],
                _by_status(f["errors_by_status"]),
                f["p50_ms"],
                f["p95_ms"],
                f["p99_ms"],
                alone,
                round(f["p50_ms"] / alone, 2) if alone and not math.isnan(alone) else float("nan"),
            ]
        )
    total = ops["all"]
    rows.append(["**all**", total["requests"], total["per_s"], total["error_rate"],
                 _by_status(total["errors_by_status"]), total["p50_ms"],
                 total["p95_ms"], total["p99_ms"], None, None])  # fmt: skip
    return rows


def _by_status(errors: dict[str, int]) -> str:
    return ", ".join(f"{status}: {count}" for status, count in errors.items()) or "-"


def _load(outcome: Outcome, m: dict[str, Any]) -> list[str]:
    mix = ", ".join(f"{name} {weight}%" for name, weight in WEIGHTS.items())
    return [
        f"{m['concurrency']} concurrent clients for {fmt(m['seconds'])} s through the gateway, each sending its next request",
        f"as soon as the last answered; the next operation is drawn by weight ({mix}; a service edit adds",
        "a service the shop does not offer yet or removes the one it added). Each stall and each shop is used by one client at",
        "a time, so every refused write counts as an error. Baseline: the same mix from a single client just",
        "before; ratio = p50 under load ÷ p50 alone.",
        "",
        *_operations_table(m["operations"], m["single_client"]),
        *_server_side(m),
    ]


def _phase_name(name: str, figures: dict[str, Any]) -> str:
    """``steady load (4 clients, 20.1 req/s)``: the load beside which the probe ran."""
    rate = (figures.get("operations") or {}).get("all", {}).get("per_s")
    clients = figures.get("concurrency")
    if clients is None or rate is None:
        return name
    return f"{name} ({clients} clients, {fmt(rate)} req/s)"


def _freshness(outcome: Outcome, _: dict[str, Any]) -> list[str]:
    phases = [
        (_phase_name(name, outcome.figures[key]), outcome.figures[key]["freshness"])
        for key, name in (
            ("idle", "idle"),
            ("writers", "writing clients"),
            ("many_writers", "writing clients"),
            ("steady", "steady load"),
            ("load", "mixed load"),
            ("soak", "soak"),
        )
        if outcome.figures.get(key)
    ]
    measured = [(name, f) for name, f in phases if "skipped" not in f]
    if not measured:
        why = phases[0][1]["skipped"] if phases else outcome.failures.get("load", "the load did not run")
        return [f"Not measured in this run: {why}.", ""]
    first = measured[0][1]
    rows, notes = [], []
    for name, f in measured:
        for path, key in (
            ("write → district KPI visible", "write_to_kpi"),
            ("write → event on the topic", "write_to_event"),
            ("raw produce (acks=all) → seen", "raw_produce_to_seen"),
        ):
            p = f[key]
            rows.append([name, path, p["n"], p["p50_ms"], p["p95_ms"], p["p99_ms"], p["max_ms"]])
        notes.append(
            f"- {name}: ratio p50 **{fmt(f['p50_ratio'])}**, p99 **{fmt(f['p99_ratio'])}**; writes refused"
            f" {f['refused']}, not visible within 30 s {f['not_visible_in_30s']}, events not seen {f['events_not_seen']}."
        )
    return [
        "With nothing else running (idle), beside four and then sixteen clients writing stall status as fast as",
        "they are answered, beside a light steady load (a few clients of the mix, the platform well within its",
        "capacity), the mixed load and the soak, a probe writes a stall status (office token, stalls",
        f"{', '.join(first['stalls'])}) and polls `GET /api/v1/districts/{first['district']}` every {POLL_S * 1000:g} ms until",
        "`stalls_open` shows it, one change at a time (the load flips stalls of another market only;",
        f"the probe adds at most {1 / POLL_S:g} reads per second to the load while it waits).",
        "Baseline: the same write until its event is seen on `markets.events` by a plain aiokafka reader",
        "fetching as the services do. Ratio = KPI ÷ event: what the projection, the KPI refresh and the",
        "read add to the broker's delivery. After each write the probe also produces one message straight to",
        "a topic of its own, read back by the same reader: the broker alone at that moment.",
        "",
        "On this local stack the broker keeps every produced batch as an object on a local S3 server (a",
        "single Python process), lists a partition's objects on every fetch and takes two disk syncs for",
        "every write: under this load the store, the local database and the services share two cores. The",
        "S3 server answers listings from an index in memory and syncs on a thread of its own (see",
        "`devkit/stack/s3_store.py`). A production Kafka and MongoDB do not have these limits. The",
        "baseline reader shares the load generator's process: where its figure exceeds the KPI's, it is the",
        "reader that fell behind, and that ratio says nothing. Where the time goes is in the services'",
        "pipeline figures below each load table (event age at commit, batch and refresh times).",
        "",
        *table(["phase", "path", "writes", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows),
        *notes,
        "",
    ]


def _server_side(figures: dict[str, Any]) -> list[str]:
    server = figures.get("server_side")
    if not server:
        return []
    rows = [[r["service"], r["route"], r["requests"], r["mean_ms"], r["busy_s"]] for r in server["routes"]]
    queues = "; ".join(
        f"{service}: " + ", ".join(f"{name} {fmt(value)}" for name, value in sorted(found.items()))
        for service, found in server["queues_at_end"].items()
    )
    return [
        "The services' own view of the same time (their `/metrics`, before and after): the routes that kept",
        "them busiest, with the server-side mean, and what was still queued at the end.",
        "",
        *table(["service", "route", "requests", "mean ms", "busy s"], rows),
        f"Queued at the end: {queues}.",
        "",
        *_pipeline(server.get("pipeline") or {}),
    ]


def _pipeline(found: dict[str, dict[str, Any]]) -> list[str]:
    if not found:
        return []
    rows = [
        [
            service,
            f.get("published", "-"),
            f.get("publish_age_mean_ms", "-"),
            f.get("events", "-"),
            f.get("event_age_mean_ms", "-"),
            f.get("batches", "-"),
            f.get("batch_mean_ms", "-"),
            f.get("refreshes", "-"),
            f.get("refresh_mean_ms", "-"),
        ]
        for service, f in sorted(found.items())
    ]
    return [
        "The relays and consumers over the same time: events each service published and their mean age",
        "when the broker acknowledged them (from their write to the outbox); events applied, their mean age",
        "when their batch committed (from the event's write at its source), the batches' mean transaction",
        "time and, for the districts projection, the KPI refreshes that follow them.",
        "",
        *table(
            [
                "service",
                "published",
                "mean age at ack ms",
                "applied",
                "mean age at commit ms",
                "batches",
                "batch mean ms",
                "KPI refreshes",
                "refresh mean ms",
            ],
            rows,
        ),
        "",
    ]


def _soak(outcome: Outcome, s: dict[str, Any]) -> list[str]:
    total = s["operations"]["all"]
    rows = [
        [
            name,
            f["start_mb"],
            f["end_mb"],
            f["peak_mb"],
            f["growth_mb"],
            f["end_vs_start"],
            f["second_half_growth_mb"],
            f["flat"],
            f["cpu_first_half_pct"],
            f["cpu_second_half_pct"],
        ]
        for name, f in s["memory"].items()
    ]
    windows = outcome.soak.windows(max(outcome.scale.window_s, s["seconds"] / 20))
    drift = [
        [op, points[0][2], points[-1][2], round(points[-1][2] / points[0][2], 2) if points[0][2] else None]
        for op, points in windows.items()
        if points
    ]
    single = (outcome.figures.get("load") or {}).get("single_client", {})
    return [
        f"The same mixed load for {fmt(s['seconds'])} s ({s['concurrency']} clients): {fmt(total['requests'])} requests,",
        f"{fmt(total['per_s'])}/s, error rate {fmt(total['error_rate'])} ({_by_status(total['errors_by_status'])}).",
        "Ratio = p50 ÷ the single-client p50 of the mixed-load phase.",
        "",
        *_operations_table(s["operations"], single),
        "Resident memory (VmRSS from `/proc/<pid>/status`) and CPU time of every process, sampled",
        f"every {fmt(outcome.scale.rss_sample_s)} s. Baseline: each process's own RSS at the start of the soak;",
        "ratio = end ÷ start. Flat = grew by at most 5% of its start in the second half. CPU is the share of",
        "one core the process used in each half (the machine has two).",
        "",
        *table(
            [
                "process",
                "start MB",
                "end MB",
                "peak MB",
                "growth MB",
                "end ÷ start",
                "2nd-half growth MB",
                "flat",
                "CPU % 1st half",
                "CPU % 2nd half",
            ],
            rows,
        ),
        "Latency drift over the soak: p99 of the first and the last time window (ratio = last ÷ first).",
        "",
        *table(["operation", "first p99 ms", "last p99 ms", "ratio"], drift),
        *_server_side(s),
        f"![Latency, memory and CPU over time]({PLOT_NAME})",
        "",
    ]


SERVICE_BENCHES = (
    (
        "markets",
        "Markets: stall status updates (`services/markets/bench.py`)",
        "The operator's stalls toggled through the gateway with `If-Match`, as fast as they answer, and each"
        " change's event timed on `markets.events` by a plain reader; stalls are restored afterwards.",
    ),
    (
        "write_path",
        "Markets: write path against bare PyMongo (`services/markets/bench.py`)",
        "The operator's stalls toggled straight on the markets service (HTTP, token, `If-Match`, its use case"
        " in one transaction with the outbox) by concurrent writers, each on a stall of its own, against a bare"
        " PyMongo loop doing the same transaction (read the stall, update it guarded by its version, insert its"
        " history line and its outbox event) with as many writers, in a scratch database of the same server,"
        " right after, first with one command a write, then with the three writes in one `bulkWrite` as the"
        " service sends them (`shared.mongo.write`). Ratio = service ÷ bare writes/s (goal ≥ 0.7 of the first)."
        " Then the service and the first bare loop again with the districts service stopped (`districts_stopped_`):"
        " its projection of these writes' events runs transactions on the same database process, which the bare"
        " loop does not have to share.",
    ),
    (
        "spunta",
        "Markets: the daily spunta (`services/markets/bench.py`)",
        "The spunta's use cases on a database of their own on the platform's database server: a market of 40"
        " stalls (20 free, 20 assigned, 10 of whose holders open in time), 60 traders registered on each of three"
        " past days, then each day assigned (one transaction: stalls, history, presences, result, event).",
    ),
    (
        "gateway_bench",
        "Gateway: relaying cost and capacity (`services/gateway/bench.py`)",
        "A gateway process of the benchmark's own, relaying one stall read to the platform's markets service:"
        " sequential overhead (ratio = relayed ÷ direct) and closed-loop clients at rising concurrency, with the"
        " most requests/s served under the p99 budget (ratio = relayed ÷ direct).",
    ),
    (
        "districts_bench",
        "Districts: live projection consumer on synthetic events, and the DUC report (`services/districts/bench.py`)",
        "An in-process districts service on fresh topics and a fresh database of the platform's broker and"
        " database server: its live consumer projects a mix of shop, service and stall events against a plain"
        " aiokafka loop in a fresh group (ratio = projection ÷ plain events/s), then produce → KPI visible; then"
        " the DUC report (`GET /districts/{code}/report`) of the district with the most active businesses over a"
        " full 90-day series, PDF and HTML, against `GET /districts/{code}` (ratio = PDF ÷ JSON p50).",
    ),
)


def _service_benches(outcome: Outcome, _: dict[str, Any]) -> list[str]:
    lines = [
        "Each service ships a benchmark module; `make bench` runs them against the same platform, in the same",
        "run, and lists their figures as they report them.",
        "",
    ]
    for key, title, what in SERVICE_BENCHES:
        figures = outcome.figures.get(key)
        lines += [f"### {title}", "", what, ""]
        if not figures:
            why = outcome.failures.get(key) or (
                "the service's own tests run it" if not outcome.scale.service_benches else "the phase did not run"
            )
            lines += [f"Not measured in this run: {why}.", ""]
            continue
        lines += [*table(["figure", "value"], flat(figures)), *record_tables(figures)]
    return lines


def _failures(outcome: Outcome) -> list[str]:
    if not outcome.failures:
        return []
    return ["## Phases that failed", "", *table(["phase", "error"], outcome.failures.items())]


def _database(outcome: Outcome, d: dict[str, Any]) -> list[str]:
    return [
        "A durable local database of its own (`python -m tests.bench.database`; decision 10). A drop in one "
        "statement holds the server's storage lock for all of its work, so every other statement waits; "
        "the platform empties a collection a batch at a time first (`shared.mongo.drop_gradually`). Every "
        "transaction statement walks all the sessions the server has seen.",
        "",
        database.render(d),
        "",
    ]


# (key of the phase's figures, or None for a section that reads several; title; body)
SECTIONS: tuple[tuple[str | None, str, Callable[[Outcome, dict[str, Any]], list[str]]], ...] = (
    ("gateway", "Gateway vs direct service call", _gateway),
    ("projection", "Districts projection consumer vs a plain aiokafka consume loop", _projection),
    ("nearest", "Nearest open point at city scale: in-process index vs a linear scan", _nearest),
    ("backbone", "Event backbone: outbox relay and write → consume vs raw aiokafka", _backbone),
    ("broker_store", "Broker store: fetch latency as a partition grows", _broker_store),
    ("database", "Local database: a drop beside other transactions, and the sessions it has seen", _database),
    ("load", "Mixed load", _load),
    (None, "End-to-end freshness: stall write → district KPI", _freshness),
    ("soak", "Soak: memory over time", _soak),
    (None, "The services' own benchmarks", _service_benches),
)
