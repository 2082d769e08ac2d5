#!/usr/bin/env bash
# test/faults/test_faults.sh: engage under cancellation, termination and
# repeated calls (test/faults/faults.py says what is checked).
#
# Starts a throwaway cluster (ENGAGE_FAULTS_DIR, default /tmp/engage-faults;
# port ENGAGE_FAULTS_PORT, default 54369), runs faults.py against it with
# Debian's python3 and psycopg2 (the server log in ENGAGE_FAULTS_LOG: it
# names where a terminated backend was), then checks the server log:
# cancels and terminations are expected there, a crash (a backend
# terminated by a signal, a PANIC, a restart of the cluster) is not.
# Prints one line per check and ends with "N passed, N failed"; exits
# non-zero on any failure.  Stops its cluster at the end
# (ENGAGE_FAULTS_KEEP=1 keeps it running).
#
# Every fault waits for the call to reach a named step and lands inside it
# (faults.py says how), so the suite neither passes without faulting nor
# fails because the machine is slow or busy.  The cancellation latencies
# are printed, not checked.
#
# Needs about 4 GB of memory (K-means of 10 million points) and 2 cores for
# the probe that slows a worker thread down.  ENGAGE_FAULTS_POINTS sets the
# points of the big K-means (default 10,000,000), ENGAGE_FAULTS_HANG_LIMIT
# the longest wait for a step or for a call to end after its fault (default
# 300 s: a guard against a hang, not a performance limit).
#
# Usage: bash test/faults/test_faults.sh  (the engage build must be installed,
#        or ENGAGE_INSTALL_DIR name a private installation tree: scripts/lib.sh)

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
set +e
set -o pipefail

FAULTS_DIR=${ENGAGE_FAULTS_DIR:-/tmp/engage-faults}
FAULTS_PORT=${ENGAGE_FAULTS_PORT:-54369}
DB=engage_faults

cleanup() {
	if [ "${ENGAGE_FAULTS_KEEP:-0}" != 1 ]; then stop_cluster "$FAULTS_DIR"; fi
}
trap cleanup EXIT

stop_cluster "$FAULTS_DIR"
rm -rf "$FAULTS_DIR"
if ! start_cluster "$FAULTS_DIR" "$FAULTS_PORT"; then
	not_ok "start a cluster on port $FAULTS_PORT"
	finish
fi
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null

PGDATABASE=$DB ENGAGE_FAULTS_LOG=$FAULTS_DIR/postgresql.log $PYTHON "$ENGAGE_ROOT/test/faults/faults.py" |
	tee "$FAULTS_DIR/faults.out"
# shellcheck disable=SC2046
add_counts faults.py $(suite_counts "$FAULTS_DIR/faults.out" "${PIPESTATUS[0]}")

# The server log: no crash, no PANIC, no restart.  A parallel worker of a
# cancelled or terminated query (run_analysis's per-user step runs in
# parallel workers) ends with an error, exit code 1, which the postmaster
# logs: that is no crash; a signal or any other exit code is.
crash=$(grep -E 'PANIC|terminated by signal|was terminated|exited with exit code|terminating any other active server processes|database system was interrupted' \
	"$FAULTS_DIR/postgresql.log" |
	grep -vE 'background worker "parallel worker" \(PID [0-9]+\) exited with exit code 1$')
if [ -z "$crash" ]; then
	ok "server log: no crash, no PANIC, no restart"
else
	not_ok "server log" "$crash"
fi
echo "# server log: $(grep -c 'canceling statement due to' "$FAULTS_DIR/postgresql.log") statements cancelled," \
	"$(grep -c 'terminating connection due to administrator command' "$FAULTS_DIR/postgresql.log") backends terminated"

finish
