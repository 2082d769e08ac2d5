-- warm_fit: the previous run's centroids as one more starting point of the
-- fit (issue 13): kmeans_fit_sampled's initial_centroids, the same start in
-- store_user_clusters and run_analysis's warm start.  The model kept is the
-- candidate of lower inertia (the restarts' on a tie); each start's fixed
-- point is computed apart by kmeans_cluster (init given, tol 0: the core's
-- Lloyd iteration, another code path) and compared.
SET extra_float_digits = 0;
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.wf_xdr', 6000, seed => 5);
RESET client_min_messages;

-- 1. Two runs on unchanged data: the second starts from the first's
-- centroids too, a tie with its restarts (the same fixed point), so the
-- same model, every user keeps the cluster, the same statistics
SELECT engage.run_analysis('public.wf_xdr', k_max => 0, name => 'wf') AS run1 \gset
SELECT engage.run_analysis('public.wf_xdr', k_max => 0, name => 'wf') AS run2 \gset
SELECT r2.warm_start_run = :run1 AS warm_started, r2.cluster_model::text = r1.cluster_model::text AS same_model
FROM engage.run r1, engage.run r2 WHERE r1.run_id = :run1 AND r2.run_id = :run2;
-- (each user's cluster and distance computed from the run's model, as the
-- views read them: run_analysis stores none on one node)
CREATE TEMP VIEW wf_users AS
SELECT e.run_id, e.msisdn, (p).cluster, (p).distance, e.sessions, e.duration_ms, e.total_bytes
FROM (SELECT e.*, engage.user_cluster(r.cluster_model, e.sessions, e.duration_ms, e.total_bytes) AS p
      FROM engage.result_user_engagement e JOIN engage.run r ON r.run_id = e.run_id) e;
SELECT count(*) AS users, count(*) FILTER (WHERE a.cluster <> b.cluster OR a.distance <> b.distance) AS moved,
       (SELECT count(*) FROM engage.result_user_engagement WHERE run_id = :run2) AS expected_users
FROM wf_users a JOIN wf_users b ON b.msisdn = a.msisdn
WHERE a.run_id = :run1 AND b.run_id = :run2;
SELECT count(*) AS clusters FROM (
	SELECT cluster, users, sessions_total, duration_ms_total, total_bytes_total, centroid, inertia FROM engage.result_cluster_stats WHERE run_id = :run1
	INTERSECT
	SELECT cluster, users, sessions_total, duration_ms_total, total_bytes_total, centroid, inertia FROM engage.result_cluster_stats WHERE run_id = :run2) s;

-- 2. kmeans_fit_sampled's initial_centroids on the run's users.
-- wf_fit(init, n_init, sample, seed, in_memory): the fit; wf_given(init):
-- the fixed point from init alone, by kmeans_cluster's Lloyd
CREATE TEMP TABLE wf_pts AS
SELECT msisdn, sessions::float8 AS s, COALESCE(duration_ms, 0)::float8 AS d, COALESCE(total_bytes, 0)::float8 AS b
FROM engage.result_user_engagement WHERE run_id = :run2;
CREATE FUNCTION pg_temp.wf_fit(k integer, init float8[], n_init integer DEFAULT 10, smp integer DEFAULT NULL,
                               seed bigint DEFAULT 0, in_memory boolean DEFAULT false)
RETURNS engage.kmeans_model LANGUAGE sql AS $$
	SELECT engage.kmeans_fit_sampled('SELECT msisdn, s, d, b FROM wf_pts', k, n_init => n_init, sample => smp,
	                                 seed => seed, in_memory => in_memory, initial_centroids => init)
$$;
CREATE FUNCTION pg_temp.wf_given(k integer, init float8[]) RETURNS double precision LANGUAGE sql AS $$
	SELECT total_inertia FROM engage.kmeans_centroids('SELECT msisdn, s, d, b FROM wf_pts', k, tol => 0,
	                                            init => 'given', initial_centroids => init) LIMIT 1
$$;
CREATE TEMP TABLE wf_models AS
SELECT pg_temp.wf_fit(5, NULL) AS best,				-- 10 restarts on every user
       pg_temp.wf_fit(5, NULL, 1, 5, 2) AS weak,		-- 1 restart on 5 users
       pg_temp.wf_fit(3, NULL) AS k3;
SELECT round((best).inertia::numeric, 6) AS best, round((weak).inertia::numeric, 6) AS weak FROM wf_models;
-- a. the start is the restarts' own model: a tie, the same model bit for bit
SELECT pg_temp.wf_fit(5, (best).centroids)::text = best::text AS best_from_itself,
       pg_temp.wf_fit(3, (k3).centroids)::text = k3::text AS k3_from_itself
FROM wf_models;
-- b. the start wins: weak restarts, the best model's centroids as the start
-- (a fixed point already: one step); in memory the same bits
SELECT (m).centroids = (best).centroids AS centroids, (m).sizes = (best).sizes AS sizes,
       (m).inertia = (best).inertia AS inertia, (m).iterations AS start_steps,
       (m).inertia < (weak).inertia AS below_the_restarts,
       abs((m).inertia - pg_temp.wf_given(5, (best).centroids)) <= 1e-9 * (m).inertia AS given_fixed_point,
       m::text = pg_temp.wf_fit(5, (best).centroids, 1, 5, 2, true)::text AS in_memory
FROM (SELECT pg_temp.wf_fit(5, (best).centroids, 1, 5, 2) AS m, best, weak FROM wf_models) t;
-- c. the start loses: the weak model's centroids beside 10 restarts give
-- the restarts' model bit for bit; in memory the same bits
SELECT m::text = best::text AS the_restarts, pg_temp.wf_given(5, (weak).centroids) > (best).inertia AS start_higher,
       m::text = pg_temp.wf_fit(5, (weak).centroids, 10, NULL, 0, true)::text AS in_memory
FROM (SELECT pg_temp.wf_fit(5, (weak).centroids) AS m, best, weak FROM wf_models) t;
-- d. starts of 5 users' points (features' units) each, beside the weak
-- restarts and beside the 10 restarts: the model's inertia is the lower of
-- the restarts' and of the start's fixed point (kmeans_cluster's), the
-- restarts' model bit for bit when the start is not lower
WITH starts AS (
	SELECT j, array_agg(ARRAY[s, d, b] ORDER BY msisdn) AS init
	FROM (SELECT j, p.* FROM generate_series(1, 6) j,
	      LATERAL (SELECT * FROM wf_pts ORDER BY md5(msisdn || j) LIMIT 5) p) x
	GROUP BY j
), fits AS (
	SELECT j, r.restarts, pg_temp.wf_given(5, init) AS given,
	       CASE r.restarts WHEN 'weak' THEN pg_temp.wf_fit(5, init, 1, 5, 2) ELSE pg_temp.wf_fit(5, init) END AS m,
	       CASE r.restarts WHEN 'weak' THEN weak ELSE best END AS without
	FROM starts, wf_models, (VALUES ('weak'), ('best')) r(restarts)
)
SELECT restarts, count(*) AS starts,
       count(*) FILTER (WHERE abs((m).inertia - least(given, (without).inertia)) <= 1e-9 * (m).inertia) AS the_lower,
       count(*) FILTER (WHERE (m).inertia < (without).inertia) AS start_kept,
       count(*) FILTER (WHERE (m).inertia >= (without).inertia AND m::text = without::text) AS restarts_kept
FROM fits GROUP BY restarts ORDER BY restarts DESC;

-- 3. Data changed: the next run starts from the previous centroids beside
-- its restarts; its model (numbered after the previous run) is
-- kmeans_fit_sampled's with those initial centroids on the run's users,
-- the lower inertia of the restarts' and of the start's fixed point
CREATE TEMP TABLE wf_prev AS SELECT (cluster_model).centroids AS c FROM engage.run WHERE run_id = :run2;
UPDATE public.wf_xdr SET "Total DL (Bytes)" = "Total DL (Bytes)" * 4 WHERE hashtext("MSISDN/Number"::text) % 5 = 0;
DELETE FROM public.wf_xdr WHERE hashtext("MSISDN/Number"::text) % 9 = 1;
SELECT engage.run_analysis('public.wf_xdr', k_max => 0, name => 'wf') AS run3 \gset
TRUNCATE wf_pts;
INSERT INTO wf_pts
SELECT msisdn, sessions::float8, COALESCE(duration_ms, 0)::float8, COALESCE(total_bytes, 0)::float8
FROM engage.result_user_engagement WHERE run_id = :run3;
SELECT r.warm_start_run = :run2 AS warm_started,
       (r.cluster_model).inertia = (f).inertia AS same_inertia,
       (SELECT count(*) FROM generate_series(1, 3) i
        WHERE NOT ARRAY[(f).centroids_normalized[i][1], (f).centroids_normalized[i][2], (f).centroids_normalized[i][3]]
                  = ANY (SELECT ARRAY[(r.cluster_model).centroids_normalized[j][1], (r.cluster_model).centroids_normalized[j][2],
                                      (r.cluster_model).centroids_normalized[j][3]] FROM generate_series(1, 3) j)) AS centroids_off,
       abs((f).inertia - least((pg_temp.wf_fit(3, NULL)).inertia, pg_temp.wf_given(3, (SELECT c FROM wf_prev))))
           <= 1e-9 * (f).inertia AS the_lower,
       (f).inertia < (pg_temp.wf_fit(3, NULL)).inertia AS start_kept
FROM engage.run r, (SELECT pg_temp.wf_fit(3, c) AS f FROM wf_prev) t WHERE r.run_id = :run3;
-- each user's cluster is the nearest centroid of the stored model
SELECT count(*) AS users,
       count(*) FILTER (WHERE engage.kmeans_predict(r.cluster_model, ARRAY[u.sessions, COALESCE(u.duration_ms, 0),
                                                                       COALESCE(u.total_bytes, 0)]::float8[]) <> u.cluster) AS misplaced
FROM wf_users u, engage.run r WHERE u.run_id = :run3 AND r.run_id = :run3;

-- 4. store_user_clusters' initial_centroids (internal): the same start as
-- kmeans_fit_sampled's, the same model, each user's row written (the run
-- itself stored none); a start of another shape fails before anything is
-- written
BEGIN;
SELECT (m).centroids = (f).centroids AS centroids, (m).sizes = (f).sizes AS sizes, (m).inertia = (f).inertia AS inertia
FROM (SELECT engage.store_user_clusters(:run3,
               format('SELECT msisdn, sessions, COALESCE(duration_ms, 0), COALESCE(total_bytes, 0), duration_ms, total_bytes '
                      'FROM engage.result_user_engagement WHERE run_id = %s', :run3),
               5, 0, 'zscore', (weak).centroids) AS m,
             pg_temp.wf_fit(5, (weak).centroids) AS f
      FROM wf_models) t;
SELECT count(*) AS rows_written FROM engage.result_user_cluster WHERE run_id = :run3;
SELECT engage.store_user_clusters(:run3, 'SELECT msisdn, sessions, 0::numeric, 0::numeric, 0::numeric, 0::numeric '
                                         'FROM engage.result_user_engagement', 2, 0, 'zscore', '{{1,2,3}}');
ROLLBACK;
SELECT count(*) AS rows_of_run3 FROM engage.result_user_cluster WHERE run_id = :run3;

DROP VIEW wf_users;
DROP TABLE wf_models, wf_pts, wf_prev;
DROP TABLE public.wf_xdr;
