-- run_points: run_analysis's K-means step on the points that the per-user
-- step captured as it wrote each user's row (src/run_points.c), against
-- the same fit on the points read back by the query (store_cluster_model
-- in a later transaction, where nothing is captured) and on aggregates
-- (kmeans_fit_sampled), bit for bit; the elbow drawn from the points the
-- fit kept, against elbow_fit_sampled; when nothing is captured (memory,
-- another points query, a rolled-back per-user step, a second per-user
-- step of the run), the query is read.
SET extra_float_digits = 0;
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.rp_xdr', 5000, seed => 11);
RESET client_min_messages;

-- The points query of run_analysis for a run, and the reference fit on
-- aggregates over it (every point read by the shards' aggregates, in no
-- particular order)
CREATE FUNCTION pg_temp.rp_points(run bigint) RETURNS text LANGUAGE sql AS $$
	SELECT format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0) '
	              'FROM engage.result_user_engagement WHERE run_id = %s', run)
$$;
CREATE TEMP TABLE rp_runs (run bigint, norm text, k integer);

-- 1. One run per normalization (k 3, and k 5 with minmax), each its own
-- name (no warm start).  (That run_analysis's K-means step fits on the
-- captured points, its progress notice shows: test analysis.  Here the
-- notices would name run ids that depend on the tests run before.)
DO $$
DECLARE
	n text;
	k integer;
BEGIN
	FOR n, k IN VALUES ('zscore', 3), ('minmax', 5), ('log', 3), ('robust', 3), ('none', 2) LOOP
		INSERT INTO rp_runs
		VALUES (engage.run_analysis('public.rp_xdr', k, k_max => 4, name => 'rp_' || n, normalization => n), n, k);
	END LOOP;
END $$;
SELECT r.norm, r.k, e.status, e.users FROM rp_runs r JOIN engage.run e ON e.run_id = r.run ORDER BY r.run;

-- the model of the captured points = the model of the points read back
-- (store_cluster_model reads the query: nothing is captured in this
-- transaction) = kmeans_fit_sampled's on aggregates, bit for bit
SET enable_seqscan = off;
SELECT r.norm,
       e.cluster_model::text = engage.store_cluster_model(r.run, pg_temp.rp_points(r.run), r.k, 0, r.norm, NULL)::text
           AS same_as_read,
       e.cluster_model::text = engage.kmeans_fit_sampled(pg_temp.rp_points(r.run), r.k, r.norm, seed => 0,
                                                         in_memory => false)::text AS same_as_aggregates,
       (e.cluster_model).n_points = e.users AS every_user
FROM rp_runs r JOIN engage.run e ON e.run_id = r.run ORDER BY r.run;
RESET enable_seqscan;
-- the elbow curve from the points the fit kept = elbow_fit_sampled's
SELECT r.norm, count(*) AS ks,
       count(*) FILTER (WHERE float8send(e.inertia) = float8send(f.inertia)
                          AND e.silhouette IS NOT DISTINCT FROM f.silhouette
                          AND e.is_elbow = f.is_elbow
                          AND e.davies_bouldin IS NOT DISTINCT FROM f.davies_bouldin
                          AND e.calinski_harabasz IS NOT DISTINCT FROM f.calinski_harabasz) AS equal
FROM rp_runs r
JOIN engage.result_elbow e ON e.run_id = r.run
JOIN LATERAL engage.elbow_fit_sampled(pg_temp.rp_points(r.run), 1, 4, r.norm, seed => 0, in_memory => false) f
  ON f.k = e.k
GROUP BY r.run, r.norm ORDER BY r.run;

-- 2. The internal calls of the step, in one transaction each (the capture
-- serves the (sub)transaction that made it): the per-user step of a run
-- (-1, no run of engage.run), then store_cluster_model
CREATE FUNCTION pg_temp.rp_user_query() RETURNS text LANGUAGE sql AS $$
	SELECT 'SELECT s."MSISDN/Number"::text, s."MSISDN/Number", (e).sessions, (e).duration_ms, (e).dl_bytes, '
	       '(e).ul_bytes, (e).total_bytes, (e).rejected_values, NULL::float8[], NULL::float8[], 0::bigint '
	       'FROM (SELECT s."MSISDN/Number", engage.engagement_agg(s."Dur. (ms)", s."Total DL (Bytes)", '
	       '"Total UL (Bytes)") AS e FROM rp_xdr s GROUP BY 1) s'
$$;
\set VERBOSITY terse
-- a. captured, then the run's query: the captured points
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SET LOCAL engage.progress = on;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS captured \gset
ROLLBACK;
-- b. captured, then another points query of the same rows (read)
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SET LOCAL engage.progress = on;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1) || ' AND true', 3, 0, 'zscore', NULL)::text = :'captured'
    AS other_query_same_model;
ROLLBACK;
-- c. two per-user steps of the run: its rows twice, nothing captured; the
-- model of every row (read), as kmeans_fit_sampled's
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SET LOCAL engage.progress = on;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS twice \gset
SET LOCAL engage.progress = off;
SELECT (:'twice'::engage.kmeans_model).n_points,
       :'twice' = engage.kmeans_fit_sampled(pg_temp.rp_points(-1), 3, seed => 0, in_memory => false)::text
    AS same_as_aggregates;
ROLLBACK;
-- d. the per-user step rolled back to a savepoint: its rows and its
-- capture gone, the query reads no rows
BEGIN;
SAVEPOINT s;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
ROLLBACK TO SAVEPOINT s;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL);
ROLLBACK;
-- e. engage.max_memory of 1500kB: the capture (its first 65,536 points
-- take 2 MB) is given up, the query is read (about 1.1 MB); the same model
BEGIN;
SET LOCAL engage.max_memory = '1500kB';
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SET LOCAL engage.progress = on;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL)::text = :'captured' AS read_same_model;
ROLLBACK;
-- f. the capture does not outlive its transaction: committed rows, a
-- later transaction reads them
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
COMMIT;
SET engage.progress = on;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL)::text = :'captured' AS read_same_model;
RESET engage.progress;
\set VERBOSITY default
DELETE FROM engage.result_user_engagement WHERE run_id = -1;

-- g. the metric top lists, which the per-user step decides on the doubles
-- of the numerics first (user_engagement.c, top_offer), each as ORDER BY
-- value DESC, MSISDN LIMIT 10 gives it: durations that differ only beyond
-- double precision (2^53 + 0..10: 2^53 + 1 and 2^53, 2^53 + 3 and
-- 2^53 + 4 are the same double), equal ones, totals that are all the same
-- double (1 + j * 1e-20) and a NaN (the highest numeric; nothing
-- captured), the users read in descending key order
CREATE TEMP TABLE rp_tops AS
SELECT key, 9007199254740992::numeric + (key * 7 % 11) AS duration_ms,
       CASE WHEN key = 17 THEN 'NaN'::numeric ELSE 1 + (key * 3 % 5) * 1e-20 END AS total_bytes
FROM generate_series(1, 40) AS key;
BEGIN;
WITH r AS (
  SELECT * FROM engage.store_user_engagement(-2,
    'SELECT key::text, key, 1::bigint, duration_ms, NULL::numeric, NULL::numeric, total_bytes, 0::bigint, '
    'NULL::float8[], NULL::float8[], 0::bigint FROM rp_tops ORDER BY 2 DESC', 0)),
got AS (
  SELECT u.* FROM r, unnest(r.top_metrics, r.top_ranks, r.top_msisdns, r.top_values) AS u(m, rk, ms, v)
  WHERE u.m <> 'sessions'),
ref AS (
  (SELECT 'duration_ms' AS m, row_number() OVER (ORDER BY duration_ms DESC, key)::integer AS rk,
          key::text AS ms, duration_ms AS v
   FROM rp_tops ORDER BY duration_ms DESC, key LIMIT 10)
  UNION ALL
  (SELECT 'total_bytes', row_number() OVER (ORDER BY total_bytes DESC, key)::integer, key::text, total_bytes
   FROM rp_tops ORDER BY total_bytes DESC, key LIMIT 10))
SELECT (SELECT count(*) FROM got) AS listed,
       (SELECT count(*) FROM ((SELECT * FROM got EXCEPT ALL SELECT * FROM ref)
                              UNION ALL (SELECT * FROM ref EXCEPT ALL SELECT * FROM got)) d) AS differing,
       (SELECT string_agg(ms, ' ' ORDER BY rk) FROM got WHERE m = 'duration_ms') AS duration_top,
       (SELECT string_agg(ms, ' ' ORDER BY rk) FROM got WHERE m = 'total_bytes') AS total_top;
-- the settings of the per-user query's plan and run are the session's again
SELECT current_setting('enable_hashagg') AS enable_hashagg,
       current_setting('parallel_leader_participation') AS parallel_leader_participation;
ROLLBACK;

-- 3. The cluster statistics from the values the per-user step kept
-- (captured_cluster_sums): per cluster, the aggregates run_analysis's SQL
-- computes from the run's rows of result_user_engagement, each user's
-- cluster by user_cluster; compared as the rows' text (values, NULLs and
-- display scales).  A per-user query with a histogram of hours (any hour
-- of the row: here its Bearer Id's) and, in rp_xdr2, users without any
-- duration (NULL) and a user with another value per metric.
CREATE FUNCTION pg_temp.rp_user_query_hours(src text) RETURNS text LANGUAGE sql AS $$
	SELECT format('SELECT s.m::text, s.m, (e).sessions, (e).duration_ms, (e).dl_bytes, '
	       '(e).ul_bytes, (e).total_bytes, (e).rejected_values, NULL::float8[], NULL::float8[], 0::bigint, h '
	       'FROM (SELECT s."MSISDN/Number" AS m, engage.engagement_agg(s."Dur. (ms)", s."Total DL (Bytes)", '
	       '"Total UL (Bytes)") AS e, engage.hours_agg((abs(hashtext(s."Bearer Id"::text)) %% 24)::integer) AS h '
	       'FROM %s s GROUP BY 1) s', src)
$$;
-- the statistics' SQL of run_analysis (on read), for run -1
CREATE FUNCTION pg_temp.rp_sql_sums(model engage.kmeans_model)
RETURNS TABLE (cluster integer, users bigint, s_min bigint, s_max bigint, s_avg numeric, s_sum numeric,
               d_min numeric, d_max numeric, d_avg numeric, d_sum numeric,
               b_min numeric, b_max numeric, b_avg numeric, b_sum numeric,
               d_count bigint, b_count bigint, hours bigint[])
LANGUAGE sql AS $$
	SELECT u.cluster, count(*), min(u.sessions), max(u.sessions), avg(u.sessions), sum(u.sessions),
	       min(u.duration_ms), max(u.duration_ms), avg(u.duration_ms), sum(u.duration_ms),
	       min(u.total_bytes), max(u.total_bytes), avg(u.total_bytes), sum(u.total_bytes),
	       count(u.duration_ms), count(u.total_bytes), engage.hours_sum_agg(u.hours)
	FROM (SELECT (engage.user_cluster(model, x.sessions, x.duration_ms, x.total_bytes)).cluster, x.*
	      FROM engage.result_user_engagement x WHERE x.run_id = -1) u
	GROUP BY u.cluster
$$;
CREATE FUNCTION pg_temp.rp_compare(model engage.kmeans_model) RETURNS TABLE (clusters bigint, equal bigint)
LANGUAGE sql AS $$
	SELECT count(*), count(*) FILTER (WHERE c::text = r::text)
	FROM engage.captured_cluster_sums(-1, model) c FULL JOIN pg_temp.rp_sql_sums(model) r USING (cluster)
$$;
CREATE TABLE rp_xdr2 AS SELECT * FROM rp_xdr;
UPDATE rp_xdr2 SET "Dur. (ms)" = NULL WHERE "MSISDN/Number"::bigint % 7 = 0;
UPDATE rp_xdr2 SET "Dur. (ms)" = 9007199254740992, "Total DL (Bytes)" = 0, "Total UL (Bytes)" = 0
WHERE "MSISDN/Number" = (SELECT min("MSISDN/Number") FROM rp_xdr2 WHERE "MSISDN/Number"::bigint % 7 <> 0);
\set VERBOSITY terse
-- a. with hours, every normalization and k: the kept values' sums are the
-- SQL's, every cluster; a second call gives nothing (once)
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr'), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 4, 0, 'zscore', NULL) AS m \gset
SET LOCAL engage.progress = on;
SELECT * FROM pg_temp.rp_compare(:'m');
SET LOCAL engage.progress = off;
SELECT count(*) AS second_call FROM engage.captured_cluster_sums(-1, :'m');
ROLLBACK;
DO $$
DECLARE
	n text;
	k integer;
	m engage.kmeans_model;
	c record;
BEGIN
	FOR n, k IN VALUES ('minmax', 5), ('log', 3), ('robust', 2), ('none', 6) LOOP
		PERFORM engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr2'), 0);
		m := engage.store_cluster_model(-1, pg_temp.rp_points(-1), k, 0, n, NULL);
		SELECT * INTO c FROM pg_temp.rp_compare(m);
		RAISE NOTICE '% k = %: % clusters, % equal, % with users', n, k, c.clusters, c.equal,
			(SELECT count(DISTINCT (engage.user_cluster(m, x.sessions, x.duration_ms, x.total_bytes)).cluster)
			 FROM engage.result_user_engagement x WHERE x.run_id = -1);
		DELETE FROM engage.result_user_engagement WHERE run_id = -1;
	END LOOP;
END $$;
-- b. NULL durations, the largest exact value (2^53), no hours column:
-- hours NULL; the users without a duration counted apart
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS m \gset
SELECT * FROM pg_temp.rp_compare(:'m');
ROLLBACK;
BEGIN;
SELECT (engage.store_user_engagement(-1, replace(pg_temp.rp_user_query(), 'rp_xdr', 'rp_xdr2'), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS m \gset
SELECT sum(d_count) AS with_duration, sum(users) AS users, bool_and(hours IS NULL) AS no_hours,
       max(d_max) AS largest_duration
FROM engage.captured_cluster_sums(-1, :'m');
ROLLBACK;
BEGIN;
SELECT (engage.store_user_engagement(-1, replace(pg_temp.rp_user_query(), 'rp_xdr', 'rp_xdr2'), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS m \gset
SELECT * FROM pg_temp.rp_compare(:'m');
ROLLBACK;
-- c. nothing kept, no rows (run_analysis then reads the table): a value
-- with fraction digits (a duration of 0.5 ms), or an integer past 2^53,
-- or written with a display scale (1.0); engage.max_memory; the per-user
-- step rolled back; another run; another transaction
UPDATE rp_xdr2 SET "Dur. (ms)" = 0.5 WHERE "MSISDN/Number" = (SELECT max("MSISDN/Number") FROM rp_xdr2);
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr2'), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS m \gset
SELECT count(*) AS fraction FROM engage.captured_cluster_sums(-1, :'m');
ROLLBACK;
UPDATE rp_xdr2 SET "Dur. (ms)" = 9007199254740994 WHERE "MSISDN/Number" = (SELECT max("MSISDN/Number") FROM rp_xdr2);
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr2'), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS m \gset
SELECT count(*) AS past_2_53 FROM engage.captured_cluster_sums(-1, :'m');
ROLLBACK;
BEGIN;
SELECT (engage.store_user_engagement(-1, replace(pg_temp.rp_user_query(), '(e).duration_ms', '(e).duration_ms::numeric(30, 1)'), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL) AS m \gset
SELECT count(*) AS display_scale FROM engage.captured_cluster_sums(-1, :'m');
ROLLBACK;
BEGIN;
SET LOCAL engage.max_memory = '1500kB';
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr'), 0)).users;
SELECT count(*) AS past_max_memory FROM engage.captured_cluster_sums(-1, :'captured');
ROLLBACK;
BEGIN;
SAVEPOINT s;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr'), 0)).users;
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS rolled_back FROM engage.captured_cluster_sums(-1, :'captured');
ROLLBACK;
-- d. engage.max_memory of 4000kB: the points and the values are kept
-- (the first 65,536 rows' room of each: about 2.1 MB and 1.7 MB), but the
-- fit needs more: the values are given up before the fit would be
-- refused (engage_check_memory), the fit runs, the statistics read
BEGIN;
SET LOCAL engage.max_memory = '4000kB';
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SELECT count(*) AS kept_within_4000kb FROM engage.captured_cluster_sums(-1, :'captured');
ROLLBACK;
BEGIN;
SET LOCAL engage.max_memory = '4000kB';
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query(), 0)).users;
SELECT engage.store_cluster_model(-1, pg_temp.rp_points(-1), 3, 0, 'zscore', NULL)::text = :'captured' AS fit_runs;
SELECT count(*) AS given_up_for_the_fit FROM engage.captured_cluster_sums(-1, :'captured');
ROLLBACK;
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr'), 0)).users;
SELECT count(*) AS other_run FROM engage.captured_cluster_sums(-2, :'captured');
SELECT count(*) AS after_other_run FROM engage.captured_cluster_sums(-1, :'captured');
ROLLBACK;
BEGIN;
SELECT (engage.store_user_engagement(-1, pg_temp.rp_user_query_hours('rp_xdr'), 0)).users;
COMMIT;
SELECT count(*) AS later_transaction FROM engage.captured_cluster_sums(-1, :'captured');
DELETE FROM engage.result_user_engagement WHERE run_id = -1;
-- the statistics of run_analysis's runs above (kept values) = plain SQL
-- on their rows
SELECT r.norm, count(*) AS clusters,
       count(*) FILTER (WHERE s.users = q.users AND s.sessions_total = q.s_sum AND s.sessions_min = q.s_min
                          AND s.sessions_max = q.s_max AND s.sessions_avg = q.s_avg
                          AND s.duration_ms_total::text = q.d_sum::text AND s.duration_ms_avg = q.d_avg
                          AND s.total_bytes_total::text = q.b_sum::text AND s.total_bytes_max::text = q.b_max::text) AS equal
FROM rp_runs r
JOIN engage.result_cluster_stats s ON s.run_id = r.run
JOIN LATERAL (SELECT count(*) AS users, sum(x.sessions) AS s_sum, min(x.sessions) AS s_min, max(x.sessions) AS s_max,
                     avg(x.sessions) AS s_avg, sum(x.duration_ms) AS d_sum, avg(x.duration_ms) AS d_avg,
                     sum(x.total_bytes) AS b_sum, max(x.total_bytes) AS b_max
              FROM engage.result_user_engagement x
              JOIN engage.run e ON e.run_id = x.run_id
              WHERE x.run_id = r.run
                AND (engage.user_cluster(e.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster = s.cluster) q ON true
GROUP BY r.run, r.norm ORDER BY r.run;
\set VERBOSITY default
DROP TABLE rp_xdr2;
