#!/usr/bin/env bash
# scripts/test.sh: every test of engage, from a fresh Debian 12 machine.
#
# Installs the missing Debian packages, builds with -Wall -Wextra -Werror,
# installs, starts a throwaway cluster, runs pg_regress and the other suites,
# stops the cluster, and ends with the line "N passed, N failed".  Exits
# non-zero on any failure.  .ci/run calls exactly this script.
#
# Usage: bash scripts/test.sh
#   ENGAGE_INSTALL_DIR=DIR: engage in a private installation tree (lib.sh)
#   ENGAGE_TEST_PORT=PORT: the ports of its clusters (default 54329)
#   ENGAGE_CITUS_TARBALL=FILE: the Citus 13.2 source to build when Citus is
#     not installed (without it and without Citus, the Citus suite is skipped)
#   ENGAGE_CITUS_TEST_PORT=PORT: the Citus cluster's ports (default PORT + 50)

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e	# count failures instead of stopping at the first one
set -o pipefail

TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/engage-test.XXXXXX")
# the main cluster's port; the clusters of the cron, load and faults suites
# take the ports 10, 29 and 39 above it, the Citus suite's 50 to 52
# (ENGAGE_TEST_PORT moves them all)
TEST_PORT=${ENGAGE_TEST_PORT:-54329}

cleanup() {
	stop_cluster "$TEST_DIR"
	rm -rf "$TEST_DIR"
}
trap cleanup EXIT

set -e
ensure_packages
build_and_install
chmod 755 "$TEST_DIR"
start_cluster "$TEST_DIR" "$TEST_PORT"
set +e

# 1. pg_regress (test/sql, expected/)
log "pg_regress"
cd "$ENGAGE_ROOT"
rm -f regression.diffs regression.out
make -s installcheck PG_CONFIG=$PG_CONFIG 2>&1 | tee "$TEST_DIR/regress.log"
ok=$(grep -cE '\.\.\. ok' "$TEST_DIR/regress.log")
bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$TEST_DIR/regress.log")
ran=$(grep -cE '^(test |     |parallel group)' "$TEST_DIR/regress.log")
if [ $((ok + bad)) -eq 0 ]; then bad=1; fi	# pg_regress did not run
if [ -f regression.diffs ]; then
	log "regression.diffs:"
	cat regression.diffs
fi
add_counts "suite pg_regress" "$ok" "$bad"

# run_suite NAME COMMAND...: run a suite that ends with "N passed, N
# failed"; one that exits with status 77 without that line was skipped (it
# printed why) and counts nothing
run_suite() {
	local name=$1 rc
	shift
	log "suite $name"
	"$@" 2>&1 | tee "$TEST_DIR/suite.log"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -eq 77 ] && ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$TEST_DIR/suite.log"; then
		return
	fi
	# shellcheck disable=SC2046
	add_counts "suite $name" $(suite_counts "$TEST_DIR/suite.log" "$rc")
}

# 2. C unit tests of the numerical core, and the core against scikit-learn
run_suite "unit (test/unit)" make -s -C test/unit check
run_suite "fuzz corpora replayed (test/fuzz)" make -s -C test/fuzz regress
ENGAGE_SKIP_TIMING=1 run_suite "core vs scikit-learn (test/unit/sklearn_check.py)" \
	$PYTHON test/unit/sklearn_check.py

# Scheduling with pg_cron, in its own cluster (this one has no pg_cron)
ENGAGE_CRON_TEST_PORT=$((TEST_PORT + 10)) run_suite "cron (test/cron/test_cron.sh)" bash test/cron/test_cron.sh

# 3. The SQL functions against pandas / scikit-learn, charts (test/python)
for t in test/python/test_*.py; do
	[ -f "$t" ] || continue
	run_suite "$t" $PYTHON "$t"
done

# 4. Under concurrent load (pgbench, 16 clients, 10 s; `make load` runs 60 s)
# and under faults (cancels, repeated calls, killed runs), each on its own cluster
ENGAGE_NO_BUILD=1 ENGAGE_LOAD_SECONDS=10 ENGAGE_LOAD_DIR="$TEST_DIR/load" ENGAGE_LOAD_PORT=$((TEST_PORT + 29)) \
	run_suite "load (test/load/pgbench.sh, 10 s)" bash test/load/pgbench.sh
ENGAGE_FAULTS_QUICK=1 ENGAGE_FAULTS_XDR_ROWS=150000 ENGAGE_FAULTS_DIR="$TEST_DIR/faults" ENGAGE_FAULTS_PORT=$((TEST_PORT + 39)) \
	run_suite "faults (test/faults/test_faults.sh)" bash test/faults/test_faults.sh

# 5. On Citus: a coordinator and two workers of its own, on the ports 50 to
# 52 above the main one; Citus built first from ENGAGE_CITUS_TARBALL when it
# is not installed, the suite skipped (one line says why) without either
ENGAGE_CITUS_TEST_PORT=${ENGAGE_CITUS_TEST_PORT:-$((TEST_PORT + 50))} \
	run_suite "citus (test/citus/run.sh)" bash test/citus/run.sh

finish
