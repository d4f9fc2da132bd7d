#!/usr/bin/env python3
"""Benchmarks for keel's instruments (issue #3), on PostgreSQL 15 at 127.0.0.1:5432.

(c) introspection: a schema of 5,000 tables (10 columns, 2 indexes and a foreign key each) read
    by `keel diff --from empty --to URL --exit-code` (connect, introspect, diff, summarize)
    against `pg_dump --schema-only` of the same database. Ratio of medians.
(d) `keel diff --from migrations=DIR --to schema=FILE` on trigger.dev (820 migrations replayed in
    a shadow database, the pg15 dump applied to another, both introspected and diffed) against
    the raw replay of the same history (raw_apply_pg.py). Ratio of medians.

Usage: python3 bench/measure_diff.py  (env: RUNS=5, KEEL_BIN=target/release/keel,
       KEEL_CORPORA=../shared/corpora). Prints a markdown table and writes bench/results/diff.md.
"""
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("RUNS", "5"))
KEEL = os.environ.get("KEEL_BIN", os.path.join(ROOT, "target/release/keel"))
CORPORA = os.environ.get("KEEL_CORPORA", os.path.join(ROOT, "..", "shared", "corpora"))
RAW = os.path.join(ROOT, "..", "shared", "tools", "raw_apply_pg.py")
BASE = "postgres://postgres@127.0.0.1:5432"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1"]


def psql(db, sql):
    subprocess.run(PSQL + ["-d", db, "-c", sql], check=True, stdout=subprocess.DEVNULL)


def timed(cmd, ok=(0,)):
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t) * 1000
    if p.returncode not in ok:
        sys.exit(f"bench: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr.decode()[-2000:]}")
    return ms, p.stdout.decode()


def median(xs):
    return statistics.median(xs)


def main():
    if not os.path.exists(KEEL):
        sys.exit(f"bench: {KEEL} not found (cargo build --release -p keel-cli, or set KEEL_BIN)")
    rows = []
    db = f"keel_bench_5000_{os.getpid()}"
    psql("postgres", f"CREATE DATABASE {db}")
    try:
        ddl = []
        for i in range(5000):
            ref = f", CONSTRAINT t{i}_fk FOREIGN KEY (parent_id) REFERENCES t{i-1} (id)" if i else ""
            cols = ", ".join(f"c{j} text" for j in range(7))
            ddl.append(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, parent_id bigint, {cols}, n int NOT NULL DEFAULT 0{ref});")
            ddl.append(f"CREATE INDEX t{i}_a ON t{i} (c0); CREATE INDEX t{i}_b ON t{i} (parent_id, n);")
        subprocess.run(PSQL + ["-d", db], input="\n".join(ddl).encode(), check=True, stdout=subprocess.DEVNULL)
        url = f"{BASE}/{db}"
        keel, dump = [], []
        for _ in range(RUNS):
            ms, out = timed([KEEL, "--database-url", url, "diff", "--from", "empty", "--to", url, "--exit-code"], ok=(2,))
            keel.append(ms)
            ms, _ = timed(["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--schema-only", db])
            dump.append(ms)
        rows.append(("(c) introspect 5,000 tables: `keel diff --from empty --to URL`", median(keel), min(keel), max(keel)))
        rows.append(("(c) `pg_dump --schema-only` (denominator)", median(dump), min(dump), max(dump)))
        rows.append(("**(c) keel / pg_dump**", median(keel) / median(dump), None, None))
    finally:
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")

    corpus = os.path.join(CORPORA, "triggerdotdev__trigger.dev/internal-packages/database/prisma/migrations")
    dump_file = os.path.join(CORPORA, "triggerdotdev__trigger.dev/_applied/triggerdev.pg15.schema.sql")
    if os.path.isdir(corpus):
        # pg_dump output carries psql meta-commands (\\restrict): keep the SQL only.
        clean = f"/tmp/keel_bench_schema_{os.getpid()}.sql"
        with open(dump_file, encoding="utf-8") as src, open(clean, "w", encoding="utf-8") as dst:
            dst.writelines(l for l in src if not l.startswith("\\"))
        dump_file = clean
        target = f"keel_bench_diff_{os.getpid()}"
        psql("postgres", f"CREATE DATABASE {target}")
        try:
            url = f"{BASE}/{target}"
            keel, raw = [], []
            for n in range(RUNS):
                ms, out = timed([KEEL, "--database-url", url, "diff", "--from", f"migrations={corpus}", "--to", f"schema={dump_file}"])
                keel.append(ms)
                rdb = f"keel_bench_raw_{os.getpid()}_{n}"
                psql("postgres", f"CREATE DATABASE {rdb}")
                try:
                    _, out = timed(["python3", RAW, f"{BASE}/{rdb}", corpus])
                    raw.append(float(out.strip().splitlines()[-1].split()[0]))
                finally:
                    psql("postgres", f"DROP DATABASE IF EXISTS {rdb} WITH (FORCE)")
            rows.append(("(d) `keel diff --from migrations --to schema=dump` (trigger.dev)", median(keel), min(keel), max(keel)))
            rows.append(("(d) raw replay of the history, raw_apply_pg.py (denominator)", median(raw), min(raw), max(raw)))
            rows.append(("**(d) keel diff / raw replay**", median(keel) / median(raw), None, None))
        finally:
            psql("postgres", f"DROP DATABASE IF EXISTS {target} WITH (FORCE)")
    else:
        print(f"bench: (d) skipped, corpus not found at {corpus}")

    lines = ["| measurement | median | min – max |", "|---|---|---|"]
    for label, med, lo, hi in rows:
        if lo is None:
            lines.append(f"| {label} | **{med:.2f}×** | |")
        else:
            lines.append(f"| {label} | {med:,.0f} ms | {lo:,.0f} – {hi:,.0f} |")
    table = "\n".join(lines)
    print(table)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "diff.md"), "w") as f:
        f.write(f"# keel diff benchmarks ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, RUNS={RUNS})\n\n{table}\n")


if __name__ == "__main__":
    main()
