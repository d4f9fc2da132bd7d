#!/usr/bin/env python3
"""schema.prisma benchmarks (issue #16), on trigger.dev's 3,369-line schema and history.

  python3 bench/prisma.py [KEEL_BIN]        # default target/release/keel

1. Reading and mapping schema.prisma: half of `keel diff --from schema=FILE --to schema=FILE`
   (no database is opened; the schema read twice and diffed with itself) minus `keel diff
   --from empty --to empty` (the same process without it), best of 4 x RUNS. Target: <= 20 ms. For scale, Prisma's own `migrate diff --from-empty
   --to-schema-datamodel` through tools/prisma-peer when it runs.
2. `keel check` (history replayed in a shadow, compared with schema.prisma; the target holds
   the whole history, so nothing is pending) / `keel diff --from empty --to migrations` (one
   shadow replay). Target: <= 1.10.
Environment: RUNS (default 5), KEEL_CORPORA (default ../shared/corpora), PGHOST/PGUSER.
"""
import os, subprocess, sys, time, uuid

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
keel = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "target/release/keel")
corpora = os.environ.get("KEEL_CORPORA", os.path.join(root, "../shared/corpora"))
runs = int(os.environ.get("RUNS", "5"))
host = os.environ.get("PGHOST", "127.0.0.1")
user = os.environ.get("PGUSER", "postgres")
prisma = os.path.join(corpora, "triggerdotdev__trigger.dev/internal-packages/database/prisma")
schema = os.path.join(prisma, "schema.prisma")
migrations = os.path.join(prisma, "migrations")


def best(cmd, env=None, n=runs):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t) * 1000)
        if r.returncode not in (0, 2):
            sys.exit(f"{cmd} failed: {r.stderr.decode()[-400:]}")
    return min(times)


def psql(db, sql):
    subprocess.run(["psql", "-h", host, "-U", user, "-d", db, "-qXc", sql], check=True,
                   stdout=subprocess.DEVNULL)


env = dict(os.environ, DATABASE_URL=f"postgres://{user}@{host}:5432/keel_bench_never_opened")
twice = best([keel, "diff", "--from", f"schema={schema}", "--to", f"schema={schema}"], env, runs * 4)
without = best([keel, "diff", "--from", "empty", "--to", "empty"], env, runs * 4)
lines = sum(1 for _ in open(schema))
print(f"read and map schema.prisma ({lines} lines): {(twice - without) / 2:.1f} ms "
      f"(half of: `diff --from schema=F --to schema=F` {twice:.1f} ms - `diff --from empty "
      f"--to empty` {without:.1f} ms; target <= 20 ms)")

peer = os.path.join(corpora, "../tools/prisma-peer/diff-datamodel.sh")
db = f"keel_bench_prisma_{uuid.uuid4().hex[:8]}"
psql("postgres", f"create database {db}")
try:
    url = f"postgres://{user}@{host}:5432/{db}"
    if os.path.exists(peer):
        t = time.perf_counter()
        r = subprocess.run([peer, "--from-empty", schema], env=dict(os.environ, DATABASE_URL=url),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            print(f"Prisma 6.19 migrate diff --from-empty (peer, one run): "
                  f"{(time.perf_counter() - t) * 1000:.0f} ms")
    env = dict(os.environ, DATABASE_URL=url)
    subprocess.run([keel, "--migrations", migrations, "deploy"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    n = max(1, runs // 2)
    replay = best([keel, "--migrations", migrations, "diff", "--from", "empty", "--to", "migrations"], env, n)
    check = best([keel, "--migrations", migrations, "check", "--schema", schema], env, n)
    print(f"keel check {check:.0f} ms / one shadow replay {replay:.0f} ms = {check / replay:.2f} "
          f"(target <= 1.10)")
finally:
    psql("postgres", f"drop database if exists {db} with (force)")
