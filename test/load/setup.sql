-- test/load/setup.sql: the database of the load test (test/load/pgbench.sh).
--
-- A generated xDR table public.xdr (:rows rows, :users subscribers, seed 1),
-- the helpers of the pgbench scripts in schema loadtest, a BI cache
-- (materialized view) that the refresh script refreshes, and a first run of
-- run_analysis so that the views have results from the start.

CREATE EXTENSION engage;
SELECT engage.generate_xdr('public.xdr', :rows, users => :users, seed => 1) AS rows_generated;

CREATE SCHEMA loadtest;

-- Raise an error (and so abort the pgbench client, which fails the test)
-- when a check made inside one statement does not hold.
CREATE FUNCTION loadtest.check(ok boolean, what text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
	IF ok IS NOT TRUE THEN
		RAISE EXCEPTION 'load check failed: %', what;
	END IF;
	RETURN true;
END
$$;

-- Runs whose results are not as their status says: an ok run with no row in
-- some engage.result_* table (but the elbow's when k_max was 0, and the
-- users' clusters' when they are computed where read), a pruned
-- run with rows left in one.  The tables are read from the catalog, so the
-- check covers all of them.
CREATE FUNCTION loadtest.incomplete_runs()
RETURNS SETOF text
LANGUAGE plpgsql
AS $$
DECLARE
	t regclass;
	r record;
	n bigint;
BEGIN
	FOR t IN SELECT c.oid FROM pg_class c
	         WHERE c.relnamespace = 'engage'::regnamespace AND c.relkind = 'r'
	           AND c.relname LIKE 'result\_%' ORDER BY c.relname LOOP
		FOR r IN SELECT run_id, status, (parameters ->> 'k_max')::integer AS k_max, clusters_on_read
		         FROM engage.run WHERE status IN ('ok', 'pruned') ORDER BY run_id LOOP
			EXECUTE format('SELECT count(*) FROM %s WHERE run_id = $1', t) INTO n USING r.run_id;
			-- (a run that computes its users' clusters where read stores none)
			IF (r.status = 'ok' AND NOT (t = 'engage.result_elbow'::regclass AND r.k_max = 0)
			    AND NOT (t = 'engage.result_user_cluster'::regclass AND r.clusters_on_read)) <> (n > 0) THEN
				RETURN NEXT format('run %s (%s): %s rows in %s', r.run_id, r.status, n, t);
			END IF;
		END LOOP;
	END LOOP;
END
$$;

-- Rows inserted by the load scripts (each script logs its own inserts in
-- the same transaction), to check afterwards that none was lost.
CREATE TABLE loadtest.inserted (
	script text NOT NULL,
	n bigint NOT NULL
);

-- A BI tool's cache of the cluster sizes, refreshed concurrently.
CREATE MATERIALIZED VIEW loadtest.dashboard AS
SELECT c.run_id, c.cluster, c.label, c.users, c.sessions_total, c.total_bytes_total
FROM engage.cluster_stats c;
CREATE UNIQUE INDEX ON loadtest.dashboard (run_id, cluster);

SELECT engage.run_analysis('public.xdr', k => 3, k_max => 3, seed => 1) AS first_run;
REFRESH MATERIALIZED VIEW loadtest.dashboard;
