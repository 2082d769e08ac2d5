#!/usr/bin/env bash
# test/citus/run.sh: engage on a local Citus cluster.
#
# Makes sure Citus 13.2 is there (ensure_citus in scripts/lib.sh: installed
# already, or built from the tarball that ENGAGE_CITUS_TARBALL names), starts
# a coordinator and two workers on 127.0.0.1 (ports ENGAGE_CITUS_TEST_PORT,
# default 54379, and the two above it) in a temporary directory, creates
# engage on the coordinator (Citus propagates it to the workers) and runs
# every test/citus/test_*.py (Debian's python3) and test_*.sh against the
# coordinator's database: PGHOST, PGPORT, PGUSER and PGDATABASE reach it,
# ENGAGE_CITUS_WORKER_PORTS lists the workers' ports (host 127.0.0.1).  Each
# test ends with "N passed, N failed"; this ends with their sum and exits
# non-zero on any failure.  Always stops the cluster.
#
# Without Citus and without ENGAGE_CITUS_TARBALL it prints one line,
# "citus: skipped (...)", counts nothing and exits with status 77, which
# scripts/test.sh reads as a skipped suite.
#
# Usage: bash test/citus/run.sh  (the engage build must be installed)
#   ENGAGE_CITUS_KEEP=1: leave the cluster running (its directory is printed)

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
set +e

CITUS_PORT=${ENGAGE_CITUS_TEST_PORT:-54379}

ensure_citus
case $? in
0) ;;
2)
	echo "citus: skipped ($CITUS_SKIPPED)"
	exit 77
	;;
*)
	not_ok "Citus 13.2 installed (ensure_citus)" "see the log above"
	finish
	;;
esac

CITUS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/engage-citus.XXXXXX")
chmod 755 "$CITUS_DIR"
cleanup() {
	if [ -n "${ENGAGE_CITUS_KEEP:-}" ]; then
		log "citus: cluster kept running in $CITUS_DIR (stop_citus_cluster $CITUS_DIR)"
		return
	fi
	stop_citus_cluster "$CITUS_DIR"
	rm -rf "$CITUS_DIR"
}
trap cleanup EXIT

if ! start_citus_cluster "$CITUS_DIR" "$CITUS_PORT"; then
	not_ok "a coordinator and two workers start (ports $CITUS_PORT..$((CITUS_PORT + 2)))" \
		"see $CITUS_DIR/*/postgresql.log"
	for f in "$CITUS_DIR"/*/postgresql.log; do
		[ -f "$f" ] && tail -n 20 "$f"
	done
	finish
fi
export PGDATABASE=postgres
export ENGAGE_CITUS_WORKER_PORTS="$((CITUS_PORT + 1)) $((CITUS_PORT + 2))"
check "the coordinator has two active workers" 2 \
	"$(psql -X -q -At -c 'SELECT count(*) FROM citus_get_active_worker_nodes()' 2>&1)"

# engage on the coordinator, propagated to every worker
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION engage' \
	-c "SELECT count(*) FROM pg_dist_object WHERE classid = 'pg_extension'::regclass
	    AND objid = (SELECT oid FROM pg_extension WHERE extname = 'engage')" 2>&1)
check "CREATE EXTENSION engage on the coordinator, a distributed object" 1 "$out"
version="SELECT extversion FROM pg_extension WHERE extname = 'engage'"
for p in $ENGAGE_CITUS_WORKER_PORTS; do
	check "engage propagated to the worker on port $p (the coordinator's version)" \
		"$(psql -X -q -At -c "$version")" "$(psql -X -q -At -h 127.0.0.1 -p "$p" -c "$version" 2>&1)"
done

# The tests, each counted as a suite of its own
for t in "$(dirname "${BASH_SOURCE[0]}")"/test_*.py "$(dirname "${BASH_SOURCE[0]}")"/test_*.sh; do
	[ -f "$t" ] || continue
	log "citus: $t"
	case $t in
	*.py) runner=$PYTHON ;;
	*) runner=bash ;;
	esac
	$runner "$t" 2>&1 | tee "$CITUS_DIR/test.log"
	rc=${PIPESTATUS[0]}
	# shellcheck disable=SC2046
	add_counts "citus: $t" $(suite_counts "$CITUS_DIR/test.log" "$rc")
done

# No server of the cluster restarted or crashed
for n in coordinator worker1 worker2; do
	check "no crash in the $n's log" 0 \
		"$(grep -cE 'terminated by signal|PANIC|server process .* was terminated' "$CITUS_DIR/$n/postgresql.log")"
done

finish
