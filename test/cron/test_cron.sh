#!/usr/bin/env bash
# test/cron/test_cron.sh: engage.schedule_refresh and unschedule_refresh with
# pg_cron.
#
# Starts its own throwaway cluster with pg_cron preloaded (port
# ENGAGE_CRON_TEST_PORT, default 54339), so that the main test cluster stays
# as it is; schedules two jobs on the same table with different options
# and analysis names, waits for two runs of each by pg_cron (the two run
# side by side), checks that each analysis keeps its own results in the
# views, and unschedules.  Then checks the errors of a database where
# pg_cron is not installed, and, when the PG* environment reaches a running
# cluster (scripts/test.sh's, which has no pg_cron), the error of a cluster
# where pg_cron is not loaded.  Prints one line per check and ends with
# "N passed, N failed"; exits non-zero on any failure.  Always stops its
# cluster.
#
# Usage: bash test/cron/test_cron.sh  (the engage build must be installed)

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
set +e

CRON_DIR=$(mktemp -d "${TMPDIR:-/tmp}/engage-cron.XXXXXX")
CRON_PORT=${ENGAGE_CRON_TEST_PORT:-54339}
CRON_DB=engage_cron
# Seconds to wait for the two scheduled runs
WAIT=${ENGAGE_CRON_WAIT:-60}

# The cluster of the caller's PG* environment (if any), for the check
# without pg_cron: start_cluster replaces PGHOST, PGPORT and PGUSER
OUTER_PGHOST=${PGHOST:-}
OUTER_PGPORT=${PGPORT:-}
OUTER_PGUSER=${PGUSER:-}
PLAIN_DB=engage_no_cron_$$

cleanup() {
	if [ -n "$OUTER_PGPORT$OUTER_PGHOST" ]; then
		PGHOST=$OUTER_PGHOST PGPORT=$OUTER_PGPORT PGUSER=$OUTER_PGUSER \
			psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $PLAIN_DB" >/dev/null 2>&1
	fi
	stop_cluster "$CRON_DIR"
	rm -rf "$CRON_DIR"
}
trap cleanup EXIT

# q DB SQL: one query, unaligned output
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }

# expect_error NAME DB SQL SQLSTATE TEXT...: the SQL fails with SQLSTATE and
# its message, DETAIL, HINT or CONTEXT contain each TEXT
expect_error() {
	local name=$1 db=$2 sql=$3 state=$4 out t
	shift 4
	out=$(psql -X -q -At -v VERBOSITY=verbose -d "$db" -c "$sql" 2>&1)
	[ -n "$state" ] || state='[0-9A-Z]\{5\}'	# any SQLSTATE
	if ! grep -q "^ERROR:  $state:" <<<"$out"; then
		not_ok "$name" "expected SQLSTATE $state, got: $out"
		return
	fi
	for t in "$@"; do
		if ! grep -qF -- "$t" <<<"$out"; then
			not_ok "$name" "no '$t' in: $out"
			return
		fi
	done
	ok "$name"
}

# 1. A cluster with pg_cron, jobs run through the socket directory
extra="shared_preload_libraries = 'pg_cron'"$'\n'"cron.database_name = '$CRON_DB'"$'\n'"cron.host = '$CRON_DIR'"
if ! start_cluster "$CRON_DIR" "$CRON_PORT" "$extra"; then
	not_ok "start a cluster with pg_cron on port $CRON_PORT" "$(tail -20 "$CRON_DIR/postgresql.log" 2>/dev/null)"
	finish
fi
ok "start a cluster with pg_cron on port $CRON_PORT"

check "create database $CRON_DB, pg_cron and engage" "" \
	"$(q postgres "CREATE DATABASE $CRON_DB" && q $CRON_DB "CREATE EXTENSION pg_cron; CREATE EXTENSION engage")"
check "engage does not depend on pg_cron" "0" \
	"$(q $CRON_DB "SELECT count(*) FROM pg_depend d
	               JOIN pg_extension e ON e.oid = d.objid AND d.classid = 'pg_extension'::regclass
	               JOIN pg_extension c ON c.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
	               WHERE e.extname = 'engage' AND c.extname = 'pg_cron'")"
check "generate 5000 xDR rows" "5000" \
	"$(q $CRON_DB "SELECT engage.generate_xdr('public.xdr', 5000, seed => 1)" >/dev/null; q $CRON_DB "SELECT count(*) FROM public.xdr")"

# 2. Arguments
expect_error "NULL schedule is an error" $CRON_DB \
	"SELECT engage.schedule_refresh(NULL)" 22004 "arguments must not be NULL" \
	"PL/pgSQL function engage.schedule_refresh("
expect_error "empty schedule is an error" $CRON_DB \
	"SELECT engage.schedule_refresh('  ')" 22023 "schedule must not be empty"
expect_error "empty job name is an error" $CRON_DB \
	"SELECT engage.schedule_refresh('* * * * *', job_name => '')" 22023 "job_name must not be empty"
expect_error "k 0 is an error" $CRON_DB \
	"SELECT engage.schedule_refresh('* * * * *', k => 0)" 22023 "k must be between 1 and 10000"
expect_error "empty analysis name is an error" $CRON_DB \
	"SELECT engage.schedule_refresh('* * * * *', name => ' ')" 22023 "name must not be empty"
expect_error "unschedule: empty job name is an error" $CRON_DB \
	"SELECT engage.unschedule_refresh('')" 22023 "job_name must not be empty"
expect_error "a source that does not exist is an error" $CRON_DB \
	"SELECT engage.schedule_refresh('* * * * *', 'public.no_such_table')" 42P01 "no_such_table"
expect_error "pg_cron rejects a bad schedule" $CRON_DB \
	"SELECT engage.schedule_refresh('every now and then')" "" "invalid schedule"
check "no job left by the failed calls" "0" "$(q $CRON_DB "SELECT count(*) FROM cron.job")"
check "unschedule_refresh of no job returns false" "f" "$(q $CRON_DB "SELECT engage.unschedule_refresh()")"

# 3. Schedule: every 5 seconds where pg_cron has second schedules (1.5+),
# else every minute (pg_cron 1.4: Debian 12)
t0=$(q $CRON_DB "SELECT clock_timestamp()")
schedule='5 seconds'
job=$(q $CRON_DB "SELECT engage.schedule_refresh('$schedule')")
if ! [[ $job =~ ^[0-9]+$ ]]; then
	echo "# pg_cron $(q $CRON_DB "SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'") has no second schedules ($(head -1 <<<"$job")): every minute instead"
	schedule='* * * * *'
	WAIT=$((WAIT + 120))
	job=$(q $CRON_DB "SELECT engage.schedule_refresh('$schedule')")
fi
if [[ $job =~ ^[0-9]+$ ]]; then ok "schedule_refresh('$schedule') returns the job id $job"; else not_ok "schedule_refresh('$schedule')" "$job"; fi
check "the job runs run_analysis on public.xdr, named after it, in $CRON_DB as the caller" \
	"engage_refresh|$schedule|SELECT engage.run_analysis(source => 'public.xdr'::regclass, k => 3, seed => 0, name => 'public.xdr')|$CRON_DB|$(q $CRON_DB "SELECT current_user")|t" \
	"$(q $CRON_DB "SELECT jobname, schedule, command, database, username, active FROM cron.job WHERE jobid = '$job'")"
check "scheduling the same name again replaces the job" "$job|1" \
	"$(q $CRON_DB "SELECT engage.schedule_refresh('$schedule'), (SELECT count(*) FROM cron.job)")"
# A second job on the same table, other options, its own analysis
job2=$(q $CRON_DB "SELECT engage.schedule_refresh('$schedule', 'xdr', k => 2, seed => 7, job_name => 'engage_refresh_k2', name => 'xdr k2')")
if [[ $job2 =~ ^[0-9]+$ ]]; then ok "a second job on public.xdr, k 2, analysis \"xdr k2\": job id $job2"; else not_ok "a second job on public.xdr" "$job2"; fi
check "the second job's command names its analysis" \
	"SELECT engage.run_analysis(source => 'public.xdr'::regclass, k => 2, seed => 7, name => 'xdr k2')" \
	"$(q $CRON_DB "SELECT command FROM cron.job WHERE jobid = '$job2'")"

# 4. Two refreshes of each job by pg_cron (the two jobs start at the same
# time: runs of two analyses at once)
echo "# waiting up to $WAIT s for two runs of jobs $job and $job2"
deadline=$((SECONDS + WAIT))
runs=""
done_runs=0
while [ $SECONDS -lt $deadline ]; do
	runs=$(q $CRON_DB "SELECT count(*) FILTER (WHERE name = 'public.xdr') || ' ' || count(*) FILTER (WHERE name = 'xdr k2')
	                   FROM engage.run WHERE started >= '$t0' AND status = 'ok'")
	done_runs=$(q $CRON_DB "SELECT count(*) FROM cron.job_run_details WHERE jobid IN ('$job', '$job2') AND status = 'succeeded'")
	read -r r1 r2 <<<"$runs"
	if [ "${r1:-0}" -ge 2 ] 2>/dev/null && [ "${r2:-0}" -ge 2 ] 2>/dev/null && [ "${done_runs:-0}" -ge 4 ] 2>/dev/null; then break; fi
	sleep 2
done
read -r r1 r2 <<<"$runs"
if [ "${r1:-0}" -ge 2 ] 2>/dev/null && [ "${r2:-0}" -ge 2 ] 2>/dev/null; then
	ok "engage.run has $r1 successful runs of public.xdr and $r2 of \"xdr k2\" after scheduling ($((SECONDS - deadline + WAIT)) s)"; else
	not_ok "engage.run has 2 successful runs of each analysis after scheduling" "'$runs' in $WAIT s; $(q $CRON_DB "SELECT string_agg(name || ' ' || status || ' ' || coalesce(error, ''), '; ') FROM engage.run")"; fi
if [ "${done_runs:-0}" -ge 4 ] 2>/dev/null; then ok "cron.job_run_details has $done_runs succeeded runs"; else
	not_ok "cron.job_run_details has 4 succeeded runs" "$done_runs; $(q $CRON_DB "SELECT string_agg(status || ' ' || coalesce(return_message, ''), '; ') FROM cron.job_run_details")"; fi
check "no failed run in engage.run or cron.job_run_details" "0|0" \
	"$(q $CRON_DB "SELECT (SELECT count(*) FROM engage.run WHERE status = 'failed'),
	                      (SELECT count(*) FROM cron.job_run_details WHERE jobid IN ('$job', '$job2') AND status = 'failed')")"

# 5. The views show the latest run of each analysis, each with its own
# options and results
check "engage.latest_run has the latest scheduled run of each analysis, with its k and seed" \
	"public.xdr|public.xdr|3|0|t
xdr k2|public.xdr|2|7|t" \
	"$(q $CRON_DB "SELECT name, source, k, parameters ->> 'seed',
	                      run_id = (SELECT max(run_id) FROM engage.run r WHERE r.name = l.name AND r.status = 'ok') AND started >= '$t0'
	               FROM engage.latest_run l ORDER BY name")"
check "the views show the latest run of each analysis" "public.xdr|t|t|t
xdr k2|t|t|t" \
	"$(q $CRON_DB "SELECT l.name,
	                      (SELECT count(*) > 0 AND bool_and(run_id = l.run_id) FROM engage.user_engagement v WHERE v.name = l.name),
	                      (SELECT count(*) = l.k AND bool_and(run_id = l.run_id) FROM engage.cluster_stats v WHERE v.name = l.name),
	                      (SELECT count(*) = 3 AND bool_and(run_id = l.run_id) FROM engage.top_apps v WHERE v.name = l.name)
	               FROM engage.latest_run l ORDER BY l.name")"
check "each analysis keeps its own runs (keep_runs 3 per name)" "t" \
	"$(q $CRON_DB "SELECT bool_and(n BETWEEN 1 AND 3) FROM (SELECT count(*) AS n FROM engage.run WHERE status = 'ok' GROUP BY name) x")"
# the reference: the split K-means on aggregates (kmeans_fit_sampled, each
# user's cluster and distance by kmeans_nearest), which run_analysis runs
# in memory, bit for bit
check "the clusters of \"xdr k2\" are those of kmeans_fit_sampled with k 2 and seed 7 on the same users" "0 true" \
	"$(q $CRON_DB "CREATE TEMP TABLE k2_ref AS
	               WITH f AS (SELECT engage.kmeans_fit_sampled(
	                            'SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
	                            'FROM engage.user_engagement WHERE name = ' || quote_literal('xdr k2'),
	                            2, seed => 7, in_memory => false) AS m)
	               SELECT u.msisdn, n.cluster, n.distance
	               FROM engage.user_engagement u, f,
	                    LATERAL engage.kmeans_nearest(f.m, ARRAY[u.sessions::double precision, COALESCE(u.duration_ms, 0)::double precision,
	                                                             COALESCE(u.total_bytes, 0)::double precision]) n
	               WHERE u.name = 'xdr k2';
	               SELECT count(*) || ' ' || ((SELECT count(*) FROM k2_ref) > 0) FROM (
	                 (SELECT msisdn, cluster, distance FROM engage.user_clusters WHERE name = 'xdr k2'
	                  EXCEPT ALL TABLE k2_ref)
	                 UNION ALL
	                 (TABLE k2_ref
	                  EXCEPT ALL
	                  SELECT msisdn, cluster, distance FROM engage.user_clusters WHERE name = 'xdr k2')) d")"
check "unschedule_refresh('engage_refresh_k2') returns true" "t" "$(q $CRON_DB "SELECT engage.unschedule_refresh('engage_refresh_k2')")"

# 6. Unschedule
check "unschedule_refresh() returns true" "t" "$(q $CRON_DB "SELECT engage.unschedule_refresh()")"
check "the job is gone" "0" "$(q $CRON_DB "SELECT count(*) FROM cron.job WHERE jobname = 'engage_refresh'")"
check "unschedule_refresh() again returns false" "f" "$(q $CRON_DB "SELECT engage.unschedule_refresh()")"
check "a named job with another source, k and seed" \
	"SELECT engage.run_analysis(source => 'public.xdr'::regclass, k => 2, seed => 7, name => 'public.xdr')" \
	"$(nightly=$(q $CRON_DB "SELECT engage.schedule_refresh('0 3 * * *', 'xdr', k => 2, seed => 7, job_name => 'nightly')")
	   q $CRON_DB "SELECT command FROM cron.job WHERE jobid = '$nightly' AND jobname = 'nightly'")"
check "unschedule_refresh('nightly') removes it" "t 0" \
	"$(q $CRON_DB "SELECT engage.unschedule_refresh('nightly')") $(q $CRON_DB "SELECT count(*) FROM cron.job")"

# A job with run_analysis's options (issues 13 and 14) and a window of the
# last 7 days: the command names each option that is not the default; run
# as pg_cron would, it logs the window since now() - 7 days until now()
# (the generated sessions are of April 2019: none in it, the run fails
# with 0 subscribers, logged)
weekly_cmd="SELECT engage.run_analysis(source => 'public.xdr'::regclass, k => 3, seed => 0, name => 'xdr week', normalization => 'log', k_selection => 'elbow', warm_start => false, since => now() - '7 days'::interval, until => now(), start_column => 'Start')"
check "a job with normalization, k_selection, warm_start and the last 7 days" "$weekly_cmd" \
	"$(weekly=$(q $CRON_DB "SELECT engage.schedule_refresh('0 3 * * 1', 'xdr', job_name => 'weekly', name => 'xdr week', normalization => 'LOG', k_selection => 'elbow', warm_start => false, last => interval '7 days')")
	   q $CRON_DB "SELECT command FROM cron.job WHERE jobid = '$weekly' AND jobname = 'weekly'")"
q $CRON_DB "SET client_min_messages = error; $weekly_cmd" >/dev/null
check "its command logs the window of the last 7 days and the options" "failed|t|t|log|elbow|false|Start" \
	"$(q $CRON_DB "SELECT status, until - since = interval '7 days', until <= started AND started - until < interval '1 minute',
	                      normalization, k_selection, parameters ->> 'warm_start', start_column
	               FROM engage.run WHERE name = 'xdr week' ORDER BY run_id DESC LIMIT 1")"
check "unschedule_refresh('weekly') removes it" "t 0" \
	"$(q $CRON_DB "SELECT engage.unschedule_refresh('weekly')") $(q $CRON_DB "SELECT count(*) FROM cron.job")"

# 7. A database of the same cluster without pg_cron (pg_cron can only be
# installed in cron.database_name)
q postgres "CREATE DATABASE engage_other" >/dev/null
q engage_other "CREATE EXTENSION engage; SELECT engage.generate_xdr('public.xdr', 100, seed => 1)" >/dev/null
expect_error "schedule_refresh in another database of the cluster" engage_other \
	"SELECT engage.schedule_refresh('* * * * *')" 42704 \
	"pg_cron runs its jobs from database \"$CRON_DB\", not from \"engage_other\"" \
	"cron.database_name = 'engage_other'" "cron.schedule_in_database"
expect_error "unschedule_refresh in another database of the cluster" engage_other \
	"SELECT engage.unschedule_refresh()" 42704 "pg_cron runs its jobs from database"

# 8. A cluster where pg_cron is not loaded: the caller's PG* environment
if [ -n "$OUTER_PGPORT$OUTER_PGHOST" ] && [ "$OUTER_PGPORT" != "$CRON_PORT" ] &&
   PGHOST=$OUTER_PGHOST PGPORT=$OUTER_PGPORT PGUSER=$OUTER_PGUSER q postgres "SELECT 1" >/dev/null 2>&1; then
	export PGHOST=$OUTER_PGHOST PGPORT=$OUTER_PGPORT PGUSER=$OUTER_PGUSER
	preload=$(q postgres "SHOW shared_preload_libraries")
	if [[ $preload == *pg_cron* ]]; then
		echo "# the cluster of PGHOST=$PGHOST PGPORT=$PGPORT loads pg_cron: check without pg_cron skipped"
	else
		check "create database $PLAIN_DB and engage without pg_cron" "" \
			"$(q postgres "CREATE DATABASE $PLAIN_DB" && q $PLAIN_DB "CREATE EXTENSION engage")"
		q $PLAIN_DB "SELECT engage.generate_xdr('public.xdr', 100, seed => 1)" >/dev/null
		expect_error "schedule_refresh without pg_cron says how to set it up" $PLAIN_DB \
			"SELECT engage.schedule_refresh('0 3 * * *')" 0A000 \
			"pg_cron is not loaded" "PL/pgSQL function engage.schedule_refresh(" "postgresql-15-cron" \
			"add pg_cron to shared_preload_libraries" "cron.database_name = '$PLAIN_DB'" \
			"restart PostgreSQL" "CREATE EXTENSION pg_cron"
		expect_error "unschedule_refresh without pg_cron" $PLAIN_DB \
			"SELECT engage.unschedule_refresh()" 0A000 "pg_cron is not loaded" \
			"PL/pgSQL function engage.unschedule_refresh("
		expect_error "argument checks come first without pg_cron" $PLAIN_DB \
			"SELECT engage.schedule_refresh(NULL)" 22004 "arguments must not be NULL"
		q postgres "DROP DATABASE $PLAIN_DB" >/dev/null
	fi
else
	echo "# no running cluster in the PG* environment: check without pg_cron skipped"
fi

finish
