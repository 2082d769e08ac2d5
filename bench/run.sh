#!/usr/bin/env bash
# bench/run.sh: engage's benchmarks, one command, engage and its competitor
# side by side in the same run.
#
# Usage: bash bench/run.sh [engagement_agg] [kmeans] [analysis] [scale] [options] [core] ...
#   (no argument: every benchmark but core)
#
# options (bench/options.py) times issue 14's window function kmeans and the
# quality indexes against scikit-learn.
#
# scale (bench/scale.py) times run_analysis at 2 M and 10 M rows against the
# plain-SQL floor and the pandas pipeline (issue 11's goals); its own
# variables are ENGAGE_BENCH_SCALE_* (see bench/README.md).
#
# core (bench/core.sh) times the numerical core at a git ref against the
# working tree and needs no server: "bash bench/run.sh core" runs only it.
#
# Sets up like the demo (packages, build, install), starts a private cluster
# in ENGAGE_BENCH_DIR (default /tmp/engage-bench, port 54321) with
# shared_buffers large enough to keep the tables in memory, generates the
# data sets once (reused by later runs) and writes each benchmark's table
# to bench/results/<name>.md.
#
# Environment: ENGAGE_BENCH_ROWS (default 10000000), ENGAGE_BENCH_REPS
# (default 5), ENGAGE_BENCH_WORK_MEM (default 256MB); ENGAGE_BENCH_DIR and
# ENGAGE_BENCH_PORT (the cluster); ENGAGE_INSTALL_DIR (a private install,
# see scripts/lib.sh).

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

if [ "$*" = core ]; then
	mkdir -p "$ENGAGE_ROOT/bench/results"
	bash "$ENGAGE_ROOT/bench/core.sh" | tee "$ENGAGE_ROOT/bench/results/core.md"
	exit
fi

BENCH_DIR=${ENGAGE_BENCH_DIR:-/tmp/engage-bench}
BENCH_PORT=${ENGAGE_BENCH_PORT:-54321}
export ENGAGE_BENCH_ROWS=${ENGAGE_BENCH_ROWS:-10000000}
export ENGAGE_BENCH_REPS=${ENGAGE_BENCH_REPS:-5}
export ENGAGE_BENCH_WORK_MEM=${ENGAGE_BENCH_WORK_MEM:-256MB}

# the pandas pipeline of the analysis and scale benchmarks draws its chart
# with matplotlib, which the demo and the tests do not need
EXTRA_PACKAGES="${EXTRA_PACKAGES:-} python3-matplotlib"
ensure_packages
build_and_install
start_cluster "$BENCH_DIR" "$BENCH_PORT" "shared_buffers = 8GB
max_parallel_workers_per_gather = 2
effective_cache_size = 16GB"
# A server that writes millions of result rows a day sets max_wal_size well
# above the default 1GB: there, a 10 M-row run_analysis (about 1.8 GB of
# per-user rows and their WAL) would trigger three checkpoints whose writes
# land in its own steps.  Set here for clusters made before this line too.
psql -qX -d postgres -c "ALTER SYSTEM SET max_wal_size = '16GB'" -c "SELECT pg_reload_conf()" >/dev/null
psql -qX -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'engage_bench'" | grep -q 1 ||
	psql -qX -d postgres -c "CREATE DATABASE engage_bench"
export PGDATABASE=engage_bench
psql -qX -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS engage CASCADE;
CREATE EXTENSION engage;
SQL

mkdir -p "$ENGAGE_ROOT/bench/results"
benches=${*:-engagement_agg kmeans analysis scale options}
for b in $benches; do
	log "benchmark $b"
	if [ "$b" = core ]; then
		bash "$ENGAGE_ROOT/bench/core.sh" | tee "$ENGAGE_ROOT/bench/results/core.md"
		continue
	fi
	$PYTHON "$ENGAGE_ROOT/bench/$b.py" | tee "$ENGAGE_ROOT/bench/results/$b.md"
done
log "cluster left running in $BENCH_DIR; stop it with: $PG_BIN/pg_ctl -D $BENCH_DIR/data stop (as $(cluster_owner))"
