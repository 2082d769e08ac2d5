#!/usr/bin/env bash
# scripts/demo.sh: the engage demo, from a fresh Debian 12 machine.
#
# Installs the missing Debian packages, builds and installs engage, starts a
# private PostgreSQL 15 cluster, generates a TellCo-sized xDR data set
# (150,001 rows), runs the engagement analysis with engage.run_analysis
# (per-user engagement, top 10s, K-means clusters and their statistics,
# application usage, the elbow), prints a summary from the result views and
# writes it to report/engagement.txt, and writes the HTML report
# (engage.report_html) to report/engagement.html.  Running it again reuses the
# cluster and the data.
#
# Usage: bash scripts/demo.sh         run the demo
#        bash scripts/demo.sh stop    stop the demo cluster
#        bash scripts/demo.sh psql    open psql on the demo database
#
# Environment: ENGAGE_DEMO_DIR (cluster directory, default
# /tmp/engage-demo), ENGAGE_DEMO_PORT (default 54320), ENGAGE_DEMO_ROWS
# (default 150001), ENGAGE_DEMO_SEED (default 42).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO_DIR=${ENGAGE_DEMO_DIR:-/tmp/engage-demo}
DEMO_PORT=${ENGAGE_DEMO_PORT:-54320}
DEMO_ROWS=${ENGAGE_DEMO_ROWS:-150001}
DEMO_SEED=${ENGAGE_DEMO_SEED:-42}
DEMO_DB=engage_demo

case "${1:-run}" in
stop)
	stop_cluster "$DEMO_DIR"
	log "demo cluster in $DEMO_DIR stopped (remove the directory to start afresh)"
	exit 0
	;;
psql)
	export PGHOST=$DEMO_DIR PGPORT=$DEMO_PORT PGUSER=$(cluster_owner)
	exec psql -d "$DEMO_DB"
	;;
run) ;;
*)
	echo "usage: bash scripts/demo.sh [run|stop|psql]" >&2
	exit 2
	;;
esac

ensure_packages
build_and_install
start_cluster "$DEMO_DIR" "$DEMO_PORT"

psql -qX -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DEMO_DB'" | grep -q 1 ||
	psql -qX -d postgres -c "CREATE DATABASE $DEMO_DB"

# A fresh copy of the extension: the demo's results are rebuilt every run
psql -qX -d "$DEMO_DB" -v ON_ERROR_STOP=1 <<SQL
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS engage CASCADE;
CREATE EXTENSION engage;
SQL

# The data: generated once, reused while its size and seed are the same
have=$(psql -qX -d "$DEMO_DB" -tAc "SELECT obj_description('public.xdr'::regclass)" 2>/dev/null || true)
want="engage.generate_xdr rows=$DEMO_ROWS seed=$DEMO_SEED"
if [ "$have" != "$want" ]; then
	log "generating $DEMO_ROWS xDR rows (seed $DEMO_SEED) into public.xdr"
	psql -qX -d "$DEMO_DB" -v ON_ERROR_STOP=1 <<SQL
DROP TABLE IF EXISTS public.xdr;
SELECT engage.generate_xdr('public.xdr', $DEMO_ROWS, seed => $DEMO_SEED);
COMMENT ON TABLE public.xdr IS '$want';
VACUUM ANALYZE public.xdr;
SQL
fi

mkdir -p "$ENGAGE_ROOT/report"
out="$ENGAGE_ROOT/report/engagement.txt"
html="$ENGAGE_ROOT/report/engagement.html"
log "running the analysis"
psql -qX -d "$DEMO_DB" -v ON_ERROR_STOP=1 -f "$ENGAGE_ROOT/scripts/demo.sql" | tee "$out"
# The HTML report: the raw text of report_html(), unaligned and tuples only
psql -qXAt -d "$DEMO_DB" -v ON_ERROR_STOP=1 -c "SELECT engage.report_html(name => 'public.xdr')" >"$html.tmp"
mv "$html.tmp" "$html"
log "report written to $out"
log "HTML report written to $html"
log "the cluster keeps running: bash scripts/demo.sh psql to explore, bash scripts/demo.sh stop to stop it"
