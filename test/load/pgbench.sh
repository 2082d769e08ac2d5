#!/usr/bin/env bash
# test/load/pgbench.sh: engage under concurrent load, with pgbench.
#
# Starts a throwaway cluster (ENGAGE_LOAD_DIR, default /tmp/engage-load;
# port ENGAGE_LOAD_PORT, default 54359), generates an xDR table of
# ENGAGE_LOAD_ROWS rows (default 10,000) and runs pgbench with
# ENGAGE_LOAD_CLIENTS clients (default 16, 2 threads) for
# ENGAGE_LOAD_SECONDS seconds (default 60) over a weighted mix of the
# scripts in test/load/: whole analyses (run_analysis), inserts into the
# xDR table, ingest-and-refresh transactions and a materialized view
# refreshed concurrently, direct calls of kmeans_cluster, elbow_inertia and
# engagement_agg, BI reads of every result view and of report_html, and
# readers that check in one snapshot that all views show the same run.
#
# The load goes on in rounds of that length until every script has run at
# least once (ENGAGE_LOAD_ROUNDS rounds at most, default 10): how many
# transactions fit in a round depends on the machine.  Then checks:
# pgbench ran every script with no failed transaction and no aborted
# client; the server log has no ERROR, FATAL, PANIC, deadlock or
# crash (autovacuum tasks cancelled by a lock conflict are counted,
# not failures: PostgreSQL cancels them by design); engage.run has no
# failed run and one run per analysis transaction, serialised; every kept
# run has complete, self-consistent results and pruned runs none; no
# inserted row was lost; nothing is left locked.  Finally one more run
# after the load, whose every view must equal a plain-SQL recomputation on
# the final table (test/load/plain.sql).
#
# Prints one line per check and the pgbench figures, and ends with
# "N passed, N failed"; exits non-zero on any failure.  Stops its cluster
# at the end (ENGAGE_LOAD_KEEP=1 keeps it running).  Builds and installs
# engage first unless ENGAGE_NO_BUILD=1.  A statement of the load that runs
# for ENGAGE_LOAD_STATEMENT_TIMEOUT seconds (default 300) is cancelled, which
# fails the test: a guard against hangs, not a performance limit.
#
# Usage: bash test/load/pgbench.sh      (or: make load)
#        ENGAGE_LOAD_SECONDS=10 bash test/load/pgbench.sh

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
set +e
set -o pipefail

LOAD_DIR=${ENGAGE_LOAD_DIR:-/tmp/engage-load}
LOAD_PORT=${ENGAGE_LOAD_PORT:-54359}
CLIENTS=${ENGAGE_LOAD_CLIENTS:-16}
DURATION=${ENGAGE_LOAD_SECONDS:-60}
ROWS=${ENGAGE_LOAD_ROWS:-10000}
USERS=$(( (ROWS * 7 + 9) / 10 ))
# a hang guard, not a performance limit: a statement stuck this long fails
STATEMENT_TIMEOUT=${ENGAGE_LOAD_STATEMENT_TIMEOUT:-300}
# rounds of load at most, until every script has run (a guard, not a limit)
ROUNDS=${ENGAGE_LOAD_ROUNDS:-10}
DB=engage_load
HERE=$ENGAGE_ROOT/test/load
# script@weight: what one pgbench transaction does, and how often
SCRIPTS="analysis.sql@2 refresh.sql@1 insert.sql@10 direct.sql@4 bi_read.sql@10 bi_snapshot.sql@10"

cleanup() {
	if [ "${ENGAGE_LOAD_KEEP:-0}" != 1 ]; then stop_cluster "$LOAD_DIR"; fi
}
trap cleanup EXIT

# q SQL: one query on the load database, unaligned output
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $DB -c "$1" 2>&1; }

# 0. Build, a fresh cluster, the database
if [ "${ENGAGE_NO_BUILD:-0}" != 1 ]; then
	ensure_packages && build_and_install || { not_ok "build and install engage"; finish; }
fi
stop_cluster "$LOAD_DIR"
rm -rf "$LOAD_DIR"
if ! start_cluster "$LOAD_DIR" "$LOAD_PORT" "max_connections = 50"; then
	not_ok "start a cluster on port $LOAD_PORT" "$(tail -20 "$LOAD_DIR/postgresql.log" 2>/dev/null)"
	finish
fi
LOG=$LOAD_DIR/postgresql.log
psql -X -q -d postgres -c "CREATE DATABASE $DB" >/dev/null
if ! out=$(psql -X -q -At -v ON_ERROR_STOP=1 -v rows=$ROWS -v users=$USERS -d $DB -f "$HERE/setup.sql" 2>&1); then
	not_ok "set up the load database" "$out"
	finish
fi
ok "set up: $ROWS xDR rows, $USERS subscribers, first run"
FIRST_RUN=$(q "SELECT max(run_id) FROM engage.run")

# 1. The load, in rounds of DURATION s until every script has run at least
# once (how many transactions fit in DURATION s depends on the machine; a
# mix that left a script out would test less than it says), ROUNDS rounds
# at most
args=()
for s in $SCRIPTS; do args+=(-f "$HERE/$s"); done
declare -A N
TX=0
FAILED=0
aborted=""
round=0
cd "$LOAD_DIR" || finish
while :; do
	round=$((round + 1))
	P=$LOAD_DIR/pgbench.$round.out
	log "pgbench round $round: $CLIENTS clients, 2 threads, $DURATION s: $SCRIPTS"
	PGOPTIONS="-c statement_timeout=${STATEMENT_TIMEOUT}s" $PG_BIN/pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" -P 10 \
		--failures-detailed "${args[@]}" $DB >"$P" 2>"$LOAD_DIR/pgbench.$round.err"
	rc=$?
	grep -vE '^progress: ' "$P"
	if [ $rc -ne 0 ] || grep -q 'aborted' "$P" "$LOAD_DIR/pgbench.$round.err"; then
		aborted="$aborted round $round: exit status $rc $(grep -vE '^progress: ' "$LOAD_DIR/pgbench.$round.err" | head -20)"
	fi
	tx=$(awk -F': ' '/^number of transactions actually processed/ {print $2}' "$P")
	failed=$(awk '/^number of failed transactions/ {print $5}' "$P")
	TX=$((TX + ${tx:-0}))
	if [[ ${failed:-x} =~ ^[0-9]+$ ]] && [[ $FAILED =~ ^[0-9]+$ ]]; then FAILED=$((FAILED + failed)); else FAILED=missing; fi
	echo "# pgbench round $round: ${tx:-?} transactions, tps $(awk '/^tps = / {print $3}' "$P"), latency average $(awk '/^latency average = / {print $4, $5}' "$P"), failed ${failed:-?}"
	# transactions of each script, by file name
	while read -r name n; do N[$name]=$(( ${N[$name]:-0} + n )); done < <(awk '
		/^SQL script [0-9]+: / { name = $NF; sub(".*/", "", name) }
		/^ - [0-9]+ transactions/ { print name, $2 }' "$P")
	missing=""
	for s in $SCRIPTS; do
		f=${s%@*}
		[ "${N[$f]:-0}" -gt 0 ] || missing="$missing $f"
	done
	if [ -z "$missing" ] || [ $round -ge "$ROUNDS" ] || [ -n "$aborted" ]; then break; fi
	log "not run yet:$missing: one more round"
done
cd "$ENGAGE_ROOT" || finish
if [ -z "$aborted" ]; then
	ok "pgbench ran $round round(s) of $DURATION s with $CLIENTS clients and no aborted client"
else
	not_ok "pgbench" "$aborted"
fi
check "no failed transaction (deadlock or serialization failure)" 0 "$FAILED"
check "every script ran at least once" "" "$missing"
echo "# pgbench: $TX transactions in $round round(s) of $DURATION s, failed $FAILED"
for s in $SCRIPTS; do echo "#   ${s%@*}: ${N[${s%@*}]:-0} transactions"; done

# 2. The server log: no error of any client, no deadlock, no crash
bad=$(grep -E 'ERROR|FATAL|PANIC|WARNING|deadlock|terminated by signal|server process .* was terminated' "$LOG" |
	grep -v 'canceling autovacuum task')
check "server log: no ERROR, WARNING, FATAL, PANIC, deadlock or crash" "" "$bad"
echo "# autovacuum tasks cancelled by lock conflicts (not failures): $(grep -c 'canceling autovacuum task' "$LOG")"

# 3. The run log
check "engage.run: no failed or unfinished run" 0 \
	"$(q "SELECT count(*) FROM engage.run WHERE status NOT IN ('ok', 'pruned')")"
runs=$(q "SELECT count(*) FROM engage.run WHERE run_id > $FIRST_RUN")
check "one run per analysis and refresh transaction" "$(( ${N[analysis.sql]:-0} + ${N[refresh.sql]:-0} ))" "$runs"
echo "# runs during the load: $runs"
check "runs serialised: each starts after the previous ended, reading no fewer rows" 0 "$(q "
	SELECT count(*) FROM (SELECT started < lag(ended) OVER w AS overlap, rows_read < lag(rows_read) OVER w AS fewer
	                      FROM engage.run WINDOW w AS (ORDER BY run_id)) r
	WHERE overlap OR fewer")"
check "the last 3 successful runs are kept (keep_runs), the others pruned" 3 \
	"$(q "SELECT count(*) FROM engage.run WHERE status = 'ok'")"
# every kept run: rows in every result table (pruned runs: none), and the
# same users, sessions, clusters and inertia in each
check "every kept run has rows in every engage.result_* table, pruned runs none" "" \
	"$(q "SELECT string_agg(x, '; ') FROM loadtest.incomplete_runs() x")"
check "every kept run's results agree with its engage.run row and each other" "" "$(q "
	SELECT string_agg(format('run %s: %s', r.run_id, concat_ws(', ',
	         CASE WHEN ue.n <> r.users OR ue.s <> r.rows_read - r.rows_without_subscriber
	              THEN format('%s users, %s sessions', ue.n, ue.s) END,
	         CASE WHEN uc.n <> r.users THEN format('%s clustered users', uc.n) END,
	         CASE WHEN cs.n <> r.k OR cs.u <> r.users OR cs.s <> ue.s OR abs(cs.i - r.inertia) > 1e-9 * r.inertia
	              THEN format('cluster_stats: %s rows, %s users, %s sessions, inertia %s', cs.n, cs.u, cs.s, cs.i) END,
	         CASE WHEN tu.n <> 30 THEN format('%s top users', tu.n) END,
	         CASE WHEN at.n <> 7 THEN format('%s application totals', at.n) END,
	         CASE WHEN tp.n <> 70 THEN format('%s top users per application', tp.n) END,
	         CASE WHEN el.n <> LEAST((r.parameters ->> 'k_max')::integer, r.users) THEN format('%s elbow rows', el.n) END)), '; ')
	FROM engage.run r,
	     LATERAL (SELECT count(*) AS n, sum(sessions) AS s FROM engage.result_user_engagement x WHERE x.run_id = r.run_id) ue,
	     LATERAL (SELECT count(*) AS n FROM engage.result_user_cluster x WHERE x.run_id = r.run_id AND NOT r.clusters_on_read) uc0,
	     LATERAL (SELECT uc0.n + count(*) AS n FROM engage.result_user_engagement x
	              WHERE x.run_id = r.run_id AND r.clusters_on_read
	                AND (engage.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster BETWEEN 1 AND r.k) uc,
	     LATERAL (SELECT count(*) AS n, sum(users) AS u, sum(sessions_total) AS s, sum(inertia) AS i
	              FROM engage.result_cluster_stats x WHERE x.run_id = r.run_id) cs,
	     LATERAL (SELECT count(*) AS n FROM engage.result_top_users x WHERE x.run_id = r.run_id) tu,
	     LATERAL (SELECT count(*) AS n FROM engage.result_app_totals x WHERE x.run_id = r.run_id) at,
	     LATERAL (SELECT count(*) AS n FROM engage.result_top_users_per_app x WHERE x.run_id = r.run_id) tp,
	     LATERAL (SELECT count(*) AS n FROM engage.result_elbow x WHERE x.run_id = r.run_id) el
	WHERE r.status = 'ok'
	  AND (ue.n <> r.users OR ue.s <> r.rows_read - r.rows_without_subscriber OR uc.n <> r.users
	       OR cs.n <> r.k OR cs.u <> r.users OR cs.s <> ue.s OR abs(cs.i - r.inertia) > 1e-9 * r.inertia
	       OR tu.n <> 30 OR at.n <> 7 OR tp.n <> 70
	       OR el.n <> LEAST((r.parameters ->> 'k_max')::integer, r.users))")"

# 4. Data and locks
inserted=$(q "SELECT COALESCE(sum(n), 0) FROM loadtest.inserted")
check "no inserted row lost: the xDR table has $ROWS + $inserted rows" "$((ROWS + inserted))" \
	"$(q "SELECT count(*) FROM public.xdr")"
check "insert transactions all logged their rows" "$(( 11 * ${N[insert.sql]:-0} + 5 * ${N[refresh.sql]:-0} ))" "$inserted"
check "nothing left locked or in a transaction" "0 0" "$(q "
	SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory') || ' ' ||
	       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
	                                                 AND state IS DISTINCT FROM 'idle')")"

# 5. One more run on the final table; its views against plain SQL (without
# the warm start: the previous run's centroids, on rows the load changed,
# may win over the restarts, and the plain recomputation has no start)
final=$(q "SELECT engage.run_analysis('public.xdr', k => 3, seed => 7, k_max => 4, warm_start => false)")
check "a run after the load succeeds" "ok" "$(q "SELECT status FROM engage.run WHERE run_id = ${final:-0}")"
if ! out=$(psql -X -q -v ON_ERROR_STOP=1 -d $DB -f "$HERE/plain.sql" 2>&1); then
	not_ok "plain-SQL recomputation (test/load/plain.sql)" "$out"
fi
check "latest_run: rows read, rows without subscriber, users as counted" \
	"$(q "SELECT count(*) || ' ' || count(*) FILTER (WHERE \"MSISDN/Number\" IS NULL) || ' ' || count(DISTINCT \"MSISDN/Number\") FROM public.xdr")" \
	"$(q "SELECT rows_read || ' ' || rows_without_subscriber || ' ' || users FROM engage.latest_run WHERE run_id = ${final:-0}")"
# cmp NAME VIEW_QUERY PLAIN_QUERY: both ways EXCEPT ALL, and not empty
cmp() {
	local diff
	diff=$(q "SELECT (SELECT count(*) FROM ($2 EXCEPT ALL $3) a) || ' ' || (SELECT count(*) FROM ($3 EXCEPT ALL $2) b) || ' ' || (SELECT count(*) > 0 FROM ($3) c)")
	check "$1" "0 0 true" "$diff"
}
cmp "user_engagement = plain GROUP BY msisdn (count, exact sums)" \
	"SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM engage.user_engagement" \
	"SELECT msisdn, sessions, duration_ms, dl_bytes, ul_bytes, total_bytes FROM loadtest.plain_users"
cmp "top_users = plain ORDER BY ... LIMIT 10 per metric" \
	"SELECT metric, rank, msisdn, value FROM engage.top_users" \
	"SELECT metric, rank::integer, msisdn, value FROM loadtest.plain_top_users"
cmp "app_usage = plain sums per user and application" \
	"SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM engage.app_usage" \
	"SELECT msisdn, application, dl_bytes, ul_bytes, total_bytes FROM loadtest.plain_app_usage"
cmp "app_totals = plain sums per application, ranked" \
	"SELECT application, rank, users, dl_bytes, ul_bytes, total_bytes FROM engage.app_totals" \
	"SELECT application, rank::integer, users, dl_bytes, ul_bytes, total_bytes FROM loadtest.plain_app_totals"
cmp "top_apps = the first 3 plain application totals" \
	"SELECT rank, application, users, total_bytes FROM engage.top_apps" \
	"SELECT rank::integer, application, users, total_bytes FROM loadtest.plain_app_totals WHERE rank <= 3"
cmp "top_users_per_app = plain top 10 per application" \
	"SELECT application, rank, msisdn, total_bytes FROM engage.top_users_per_app" \
	"SELECT application, rank::integer, msisdn, total_bytes FROM loadtest.plain_top_users_per_app"
cmp "user_clusters = kmeans_cluster of the plain per-user table (shuffled)" \
	"SELECT msisdn, cluster, distance FROM engage.user_clusters" \
	"SELECT msisdn, cluster, distance FROM loadtest.plain_clusters"
cmp "cluster_stats = plain GROUP BY cluster (users, share, min, max, sum)" \
	"SELECT cluster, users, share, sessions_min, sessions_max, sessions_total, duration_ms_min, duration_ms_max,
	        duration_ms_total, total_bytes_min, total_bytes_max, total_bytes_total FROM engage.cluster_stats" \
	"SELECT * FROM loadtest.plain_cluster_stats"
cmp "elbow = elbow_inertia of the plain per-user table" \
	"SELECT k, inertia, silhouette, is_elbow FROM engage.elbow" \
	"SELECT * FROM loadtest.plain_elbow"
check "report_html reports the final run" 1 \
	"$(q "SELECT count(*) FROM engage.latest_run l WHERE position(format(', run %s</title>', l.run_id) IN engage.report_html()) > 0 AND l.run_id = ${final:-0}")"

finish
