#!/usr/bin/env bash
# bench/run.sh: engage's benchmarks, one command, engage and its competitor
# side by side in the same run.
#
# Usage: bash bench/run.sh [engagement_agg] [kmeans] [analysis] [scale] [options] [core] [citus] ...
#   (no argument: every benchmark but core and citus)
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
# citus (bench/citus.py) times run_analysis on a local Citus cluster
# (issue 12): a coordinator and two workers on 127.0.0.1, started by
# scripts/lib.sh's start_citus_cluster in ENGAGE_BENCH_CITUS_DIR (default
# /tmp/engage-bench-citus) on ENGAGE_BENCH_CITUS_PORT (default 54331) and
# the two ports above it, database postgres; Citus 13.2 must be installed
# or ENGAGE_CITUS_TARBALL name its source (ensure_citus).  The three
# servers share the machine: each gets shared_buffers
# ENGAGE_BENCH_CITUS_SHARED_BUFFERS (default 3GB, 9 GB in all on a 24 GiB
# machine; the one-node cluster's 8GB would not fit three times) and
# work_mem ENGAGE_BENCH_WORK_MEM in its configuration (the workers run the
# shard queries with their own settings, not the coordinator session's).
# Its own variables are ENGAGE_BENCH_CITUS_* (see bench/README.md).
#
# Sets up like the demo (packages, build, install), starts a private cluster
# in ENGAGE_BENCH_DIR (default /tmp/engage-bench, port 54321) with
# shared_buffers large enough to keep the tables in memory (citus: its
# Citus cluster instead, see above), generates the data sets once (reused
# by later runs) and writes each benchmark's table to
# bench/results/<name>.md.
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
CITUS_DIR=${ENGAGE_BENCH_CITUS_DIR:-/tmp/engage-bench-citus}
CITUS_PORT=${ENGAGE_BENCH_CITUS_PORT:-54331}
export ENGAGE_BENCH_ROWS=${ENGAGE_BENCH_ROWS:-10000000}
export ENGAGE_BENCH_REPS=${ENGAGE_BENCH_REPS:-5}
export ENGAGE_BENCH_WORK_MEM=${ENGAGE_BENCH_WORK_MEM:-256MB}
benches=${*:-engagement_agg kmeans analysis scale options}

# the pandas pipeline of the analysis and scale benchmarks draws its chart
# with matplotlib, which the demo and the tests do not need
EXTRA_PACKAGES="${EXTRA_PACKAGES:-} python3-matplotlib"
ensure_packages
build_and_install

# A server that writes millions of result rows a day sets max_wal_size well
# above the default 1GB: there, a 10 M-row run_analysis (about 1.8 GB of
# per-user rows and their WAL) would trigger three checkpoints whose writes
# land in its own steps.  Set here for clusters made before this line too.
# fresh_engage: that and a fresh CREATE EXTENSION engage in PGDATABASE (the
# per-run distributed tables of a Citus run, which DROP EXTENSION keeps,
# dropped first: run ids start again at 1).
fresh_engage() {
	psql -qX -d postgres -c "ALTER SYSTEM SET max_wal_size = '16GB'" -c "SELECT pg_reload_conf()" >/dev/null
	psql -qX -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
DO $$
DECLARE
	r record;
BEGIN
	IF to_regclass('engage.run_distributed') IS NOT NULL THEN
		FOR r IN SELECT user_engagement, user_cluster FROM engage.run_distributed LOOP
			EXECUTE format('DROP TABLE IF EXISTS %s, %s', r.user_engagement, r.user_cluster);
		END LOOP;
	END IF;
END
$$;
DROP EXTENSION IF EXISTS engage CASCADE;
CREATE EXTENSION engage;
SQL
}

# bench_citus: the citus benchmark on its own Citus cluster
bench_citus() {
	local conf p
	ensure_citus || { log "citus: ${CITUS_SKIPPED:-Citus 13.2 could not be built}"; return 1; }
	conf="shared_buffers = ${ENGAGE_BENCH_CITUS_SHARED_BUFFERS:-3GB}
work_mem = $ENGAGE_BENCH_WORK_MEM
max_parallel_workers_per_gather = 2
effective_cache_size = 8GB"
	start_citus_cluster "$CITUS_DIR" "$CITUS_PORT" "$conf" || return 1
	for p in $((CITUS_PORT + 1)) $((CITUS_PORT + 2)); do
		psql -qX -h 127.0.0.1 -p $p -d postgres -c "ALTER SYSTEM SET max_wal_size = '16GB'" \
			-c "SELECT pg_reload_conf()" >/dev/null
	done
	export PGDATABASE=postgres
	export ENGAGE_BENCH_CITUS_WORKER_PORTS="$((CITUS_PORT + 1)) $((CITUS_PORT + 2))"
	fresh_engage
	$PYTHON "$ENGAGE_ROOT/bench/citus.py" | tee "$ENGAGE_ROOT/bench/results/citus.md"
	log "Citus cluster left running in $CITUS_DIR; stop it with: source scripts/lib.sh; stop_citus_cluster $CITUS_DIR"
}

mkdir -p "$ENGAGE_ROOT/bench/results"
one_node=""
for b in $benches; do
	case $b in
	core | citus) ;;
	*) one_node=1 ;;
	esac
done
if [ -n "$one_node" ]; then
	start_cluster "$BENCH_DIR" "$BENCH_PORT" "shared_buffers = 8GB
max_parallel_workers_per_gather = 2
effective_cache_size = 16GB"
	psql -qX -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'engage_bench'" | grep -q 1 ||
		psql -qX -d postgres -c "CREATE DATABASE engage_bench"
	export PGDATABASE=engage_bench
	fresh_engage
fi

for b in $benches; do
	log "benchmark $b"
	case $b in
	core)
		bash "$ENGAGE_ROOT/bench/core.sh" | tee "$ENGAGE_ROOT/bench/results/core.md"
		;;
	citus)
		(bench_citus)
		;;
	*)
		PGHOST=$BENCH_DIR PGPORT=$BENCH_PORT PGDATABASE=engage_bench \
			$PYTHON "$ENGAGE_ROOT/bench/$b.py" | tee "$ENGAGE_ROOT/bench/results/$b.md"
		;;
	esac
done
if [ -n "$one_node" ]; then
	log "cluster left running in $BENCH_DIR; stop it with: $PG_BIN/pg_ctl -D $BENCH_DIR/data stop (as $(cluster_owner))"
fi
