#!/usr/bin/env bash
# keel benchmarks on PostgreSQL 15. What is measured and why: bench/README.md.
#
#   bench/run.sh                      # builds target/release/keel, RUNS=5
#   RUNS=9 KEEL_BIN=/path/to/keel bench/run.sh
#
# Environment (relative paths are relative to the repository root):
#   RUNS          timed runs of each command (default 5)
#   WARMUP        untimed runs of each deploy before timing (default 1)
#   KEEL_BIN      keel binary; when unset, built with `cargo build --release -p keel-cli`
#                 and taken from target/release/keel
#   KEEL_CORPORA  corpora directory (default ../shared/corpora)
#   RAW_APPLY     raw baseline script (default ../shared/tools/raw_apply_pg.py)
#   PGHOST/PGPORT/PGUSER  server (default 127.0.0.1 / 5432 / postgres, trust auth)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCH=$ROOT/bench

RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
KEEL_CORPORA=${KEEL_CORPORA:-../shared/corpora}
RAW_APPLY=${RAW_APPLY:-../shared/tools/raw_apply_pg.py}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
CORPUS=$KEEL_CORPORA/triggerdotdev__trigger.dev/internal-packages/database/prisma/migrations
RESULTS=$BENCH/results/latest.md

die() { echo "bench: $*" >&2; exit 1; }

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer, got '$WARMUP'"
[[ -d $CORPUS ]] || die "corpus not found: $CORPUS
  (the trigger.dev Prisma history; set KEEL_CORPORA to the directory holding triggerdotdev__trigger.dev)"
CORPUS=$(cd "$CORPUS" && pwd)
[[ -f $RAW_APPLY ]] || die "raw baseline script not found: $RAW_APPLY (set RAW_APPLY)"
command -v psql >/dev/null || die "psql not found (apt-get install postgresql-client)"
command -v python3 >/dev/null || die "python3 not found"
NMIG=$(find "$CORPUS" -mindepth 2 -maxdepth 2 -name migration.sql | wc -l)
[[ $NMIG -gt 0 ]] || die "no */migration.sql under $CORPUS"

PSQL=(psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -X -q -v ON_ERROR_STOP=1)
SERVER_VERSION=$("${PSQL[@]}" -d postgres -Atc 'show server_version' 2>&1) \
    || die "cannot connect to PostgreSQL at $PGHOST:$PGPORT as $PGUSER: $SERVER_VERSION"
[[ $SERVER_VERSION == 15.* ]] || echo "bench: warning: server is PostgreSQL $SERVER_VERSION, the suite targets 15" >&2

# raw_apply_pg.py installs psycopg2 on first use; do it now so no timed run pays for it.
python3 -c 'import psycopg2' 2>/dev/null || python3 -m pip install -q psycopg2-binary

if [[ -z ${KEEL_BIN:-} ]]; then
    command -v cargo >/dev/null || die "cargo not found; build keel or set KEEL_BIN"
    echo "bench: cargo build --release -p keel-cli" >&2
    cargo build --release -p keel-cli
    KEEL_BIN=target/release/keel
fi
[[ -x $KEEL_BIN ]] || die "keel binary not found or not executable: $KEEL_BIN"

# --- databases: keel_bench_<pid>_<n>, all dropped on exit -------------------------------------
PREFIX=keel_bench_$$
SEQ=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-bench.XXXXXX")
LOG=$WORK/runs.jsonl

cleanup() {
    local status=$? db
    trap - EXIT INT TERM
    for db in $("${PSQL[@]}" -d postgres -Atc \
            "select datname from pg_database where datname ~ '^${PREFIX}_[0-9]+\$'" 2>/dev/null); do
        "${PSQL[@]}" -d postgres -c "drop database if exists \"$db\" with (force)" >/dev/null 2>&1 \
            || echo "bench: could not drop database $db" >&2
    done
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

new_db() {   # sets DB and URL to a fresh, empty database
    SEQ=$((SEQ + 1))
    DB=${PREFIX}_$SEQ
    "${PSQL[@]}" -d postgres -c "create database \"$DB\""
    URL=postgres://$PGUSER@$PGHOST:$PGPORT/$DB
}
drop_db() {
    "${PSQL[@]}" -d postgres -c "drop database if exists \"$1\" with (force)"
}
# Tables, indexes and enum types in the database, without the ledgers: keel and raw must agree.
shape() {
    "${PSQL[@]}" -d "$1" -Atc "
      select (select count(*) from pg_tables where schemaname = 'public'
                and tablename not in ('_prisma_migrations', '_keel_migrations'))
          || ' tables, ' ||
             (select count(*) from pg_indexes where schemaname = 'public'
                and tablename not in ('_prisma_migrations', '_keel_migrations'))
          || ' indexes, ' ||
             (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace
               where n.nspname = 'public' and t.typtype = 'e')
          || ' enums'"
}

timeit() { python3 "$BENCH/timeit.py" run --log "$LOG" "$@"; }
keel_deploy() {   # $1 = label or "-" for an untimed run
    local log=$LOG
    [[ $1 == - ]] && log=/dev/null
    python3 "$BENCH/timeit.py" run --log "$log" --label keel_deploy --rss \
        -- "$KEEL_BIN" deploy --database-url "$URL" --migrations "$CORPUS"
}
raw_deploy() {
    local log=$LOG
    [[ $1 == - ]] && log=/dev/null
    python3 "$BENCH/timeit.py" run --log "$log" --label raw_deploy \
        -- python3 "$RAW_APPLY" "$URL" "$CORPUS"
}

echo "bench: PostgreSQL $SERVER_VERSION at $PGHOST:$PGPORT; corpus: $NMIG migrations; keel: $KEEL_BIN; runs: $RUNS" >&2

# --- (a) deploy into a fresh database: keel vs raw, interleaved -----------------------------------
for ((i = 1; i <= WARMUP; i++)); do
    echo "bench: warm-up $i/$WARMUP" >&2
    new_db; keel_deploy -; drop_db "$DB"
    new_db; raw_deploy -; drop_db "$DB"
done

KEEL_SHAPE= RAW_SHAPE= STATUS_DB=
for ((i = 1; i <= RUNS; i++)); do
    echo "bench: (a) deploy run $i/$RUNS" >&2
    new_db; keel_deploy timed
    KEEL_SHAPE=$(shape "$DB")
    if ((i == RUNS)); then STATUS_DB=$DB; STATUS_URL=$URL; else drop_db "$DB"; fi
    new_db; raw_deploy timed
    RAW_SHAPE=$(shape "$DB")
    drop_db "$DB"
    [[ $KEEL_SHAPE == "$RAW_SHAPE" ]] || die "keel and raw produced different schemas:
  keel: $KEEL_SHAPE
  raw:  $RAW_SHAPE"
done
echo "bench: schema after deploy (both): $KEEL_SHAPE" >&2

# --- (b) status on the fully applied database: keel vs psql select 1 ------------------------------
timeit --label warmup_status -- "$KEEL_BIN" status --database-url "$STATUS_URL" --migrations "$CORPUS" \
    || die "keel status on the applied database exited non-zero"
for ((i = 1; i <= RUNS; i++)); do
    echo "bench: (b) status run $i/$RUNS" >&2
    timeit --label keel_status -- "$KEEL_BIN" status --database-url "$STATUS_URL" --migrations "$CORPUS"
    timeit --label psql_select1 -- psql -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$STATUS_DB" -X -c 'select 1'
done

# --- report -----------------------------------------------------------------------------------------
if [[ -x /usr/bin/time ]]; then RSS_VIA="/usr/bin/time -f %M"; else RSS_VIA="os.wait4 rusage"; fi
python3 "$BENCH/timeit.py" report --log "$LOG" --out "$RESULTS" \
    --meta "corpus=trigger.dev ($NMIG migrations)" \
    --meta "keel=$KEEL_BIN ($("$KEEL_BIN" --version 2>/dev/null | head -n1 || true))" \
    --meta "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo none)" \
    --meta "server=PostgreSQL $SERVER_VERSION at $PGHOST:$PGPORT" \
    --meta "machine=$(nproc) CPUs, $(uname -sr)" \
    --meta "runs=$RUNS (+$WARMUP warm-up per deploy), schema after deploy: $KEEL_SHAPE" \
    --meta "peak RSS via=$RSS_VIA"
echo "bench: written to ${RESULTS#"$ROOT"/}" >&2
