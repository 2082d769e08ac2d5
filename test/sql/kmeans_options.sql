-- kmeans_options: the clustering options of issue 14, checked against plain
-- SQL: the normalizations log (ln(1 + x), then z-scores) and robust (median,
-- interquartile range), the Davies-Bouldin and Calinski-Harabasz indexes of
-- kmeans_centroids and elbow_inertia, and the window function kmeans (the
-- clustering of kmeans_cluster, per partition, whatever the row order).
SET extra_float_digits = 0;

-- Three groups of heavy-tailed, non-negative usage (sessions, megabytes)
CREATE TABLE opt (id int, g int, s float8, mb float8);
INSERT INTO opt
SELECT i, i % 3, 1 + (i * 7) % 5 + CASE WHEN i % 17 = 0 THEN 40 ELSE 0 END,
       round(exp(((i * 37) % 100) / 12.0)::numeric, 3)::float8
FROM generate_series(1, 180) i;
CREATE TABLE opt_ln AS SELECT id, g, ln(1 + s) AS s, ln(1 + mb) AS mb FROM opt;

------------------------------------------------------------------------------
-- log: ln(1 + x), then zscore's parameters (population std)
------------------------------------------------------------------------------
SELECT p.feature, p.normalization, p.mean = r.m AS mean_of_raw_values,
       abs(p.shift - r.lm) <= 1e-12 * abs(r.lm) AS shift_is_mean_of_ln1p,
       abs(p.scale - r.ls) <= 1e-12 * r.ls AS scale_is_std_of_ln1p
FROM engage.scaling_params('SELECT id, s, mb FROM opt', 'log') p
JOIN (SELECT 's' AS feature, avg(o.s) AS m, avg(l.s) AS lm, stddev_pop(l.s) AS ls FROM opt o JOIN opt_ln l USING (id)
      UNION ALL
      SELECT 'mb', avg(o.mb), avg(l.mb), stddev_pop(l.mb) FROM opt o JOIN opt_ln l USING (id)) r USING (feature)
ORDER BY 1;

-- normalize_points log = (ln(1 + x) - mean) / std of the ln(1 + x)
SELECT count(*) AS points, max(abs(n.features[1] - (l.s - r.ms) / r.ss)) < 1e-12 AS s_agrees,
       max(abs(n.features[2] - (l.mb - r.mm) / r.sm)) < 1e-12 AS mb_agrees
FROM engage.normalize_points('SELECT id, s, mb FROM opt', 'log') n
JOIN opt_ln l ON l.id = n.key::int,
     (SELECT avg(s) AS ms, stddev_pop(s) AS ss, avg(mb) AS mm, stddev_pop(mb) AS sm FROM opt_ln) r;

-- log clusters the ln(1 + x) as zscore does: the same clusters and distances
SELECT count(*) AS points,
       count(*) FILTER (WHERE a.cluster = b.cluster AND abs(a.distance - b.distance) < 1e-12) AS same
FROM engage.kmeans_cluster('SELECT id, s, mb FROM opt', 4, 'log') a
JOIN engage.kmeans_cluster('SELECT id, s, mb FROM opt_ln', 4, 'zscore') b USING (key);

-- a log model: its centroids in the features' units are exp(c * scale +
-- shift) - 1; it assigns the points it was fitted on as the fit did, and
-- new points (ln(1 + x) first) to the nearest normalised centroid
CREATE TABLE opt_model AS SELECT engage.kmeans_model('SELECT id, s, mb FROM opt', 4, 'log') AS m;
SELECT (m).normalization, (m).features,
       (SELECT max(abs((m).centroids[c][j] - (exp((m).centroids_normalized[c][j] * (m).scale[j] + (m).shift[j]) - 1))
                   / (m).centroids[c][j])
        FROM generate_series(1, 4) c, generate_series(1, 2) j) < 1e-12 AS centroids_are_expm1
FROM opt_model;
SELECT count(*) AS points,
       count(*) FILTER (WHERE a.cluster = c.cluster AND a.distance = c.distance) AS assigned_as_fitted
FROM opt_model, engage.kmeans_assign(m, 'SELECT id, s, mb FROM opt') a
JOIN engage.kmeans_cluster('SELECT id, s, mb FROM opt', 4, 'log') c USING (key);
SELECT x.v AS point, engage.kmeans_predict(m, x.v) = (
         SELECT c FROM generate_series(1, 4) c
         ORDER BY ((ln(1 + x.v[1]) - (m).shift[1]) / (m).scale[1] - (m).centroids_normalized[c][1]) ^ 2 +
                  ((ln(1 + x.v[2]) - (m).shift[2]) / (m).scale[2] - (m).centroids_normalized[c][2]) ^ 2, c
         LIMIT 1) AS nearest
FROM opt_model, (VALUES ('{0,0}'::float8[]), ('{3,50}'), ('{45,5000}'), ('{1,1e6}')) x(v);

------------------------------------------------------------------------------
-- robust: median and interquartile range (numpy's linear quantiles; plain
-- SQL's percentile_cont interpolates the same way, to the last bits)
------------------------------------------------------------------------------
SELECT p.feature, p.normalization,
       abs(p.shift - r.med) <= 1e-12 * abs(r.med) AS shift_is_median,
       abs(p.scale - (r.q75 - r.q25)) <= 1e-12 * (r.q75 - r.q25) AS scale_is_iqr
FROM engage.scaling_params('SELECT id, s, mb FROM opt', 'robust') p
JOIN (SELECT 's' AS feature, percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS med,
             percentile_cont(0.25) WITHIN GROUP (ORDER BY s) AS q25,
             percentile_cont(0.75) WITHIN GROUP (ORDER BY s) AS q75 FROM opt
      UNION ALL
      SELECT 'mb', percentile_cont(0.5) WITHIN GROUP (ORDER BY mb),
             percentile_cont(0.25) WITHIN GROUP (ORDER BY mb),
             percentile_cont(0.75) WITHIN GROUP (ORDER BY mb) FROM opt) r USING (feature)
ORDER BY 1;
-- on integers the quantiles are exact: 1..10 has median 5.5, q25 3.25, q75
-- 7.75; a feature whose quartiles are equal (a zero range) gets scale 1
SELECT feature, shift, scale
FROM engage.scaling_params('SELECT i, i, CASE WHEN i = 10 THEN 99 ELSE 4 END FROM generate_series(1, 10) i', 'robust');
SELECT count(*) AS points,
       max(abs(n.features[1] - (o.s - r.med) / r.iqr)) < 1e-12 AS s_agrees
FROM engage.normalize_points('SELECT id, s, mb FROM opt', 'robust') n
JOIN opt o ON o.id = n.key::int,
     (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s) AS med,
             percentile_cont(0.75) WITHIN GROUP (ORDER BY s) - percentile_cont(0.25) WITHIN GROUP (ORDER BY s) AS iqr
      FROM opt) r;
-- robust and log are one more option of every clustering function
SELECT normalization, count(*) AS points, count(DISTINCT cluster) AS clusters
FROM (SELECT 'robust' AS normalization, cluster FROM engage.kmeans_cluster('SELECT id, s, mb FROM opt', 3, 'robust')
      UNION ALL
      SELECT 'log', cluster FROM engage.kmeans_cluster_rows('SELECT id, s, mb FROM opt', 3, 'log')
           AS t(id int, s float8, mb float8, cluster int, distance float8)) x
GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------------
-- Davies-Bouldin and Calinski-Harabasz, in plain SQL from the labels of
-- kmeans_cluster and the points of normalize_points
------------------------------------------------------------------------------
CREATE FUNCTION opt_scores(labels text, points text, OUT db float8, OUT ch float8)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE format($q$
	WITH p AS (SELECT l.key, l.c, n.features[1] AS x, n.features[2] AS y
	           FROM (%s) l(key, c) JOIN (%s) n USING (key)),
	     m AS (SELECT c, count(*) AS size, avg(x) AS mx, avg(y) AS my FROM p GROUP BY c),
	     a AS (SELECT avg(x) AS ax, avg(y) AS ay FROM p),
	     s AS (SELECT m.c, avg(sqrt((p.x - m.mx) ^ 2 + (p.y - m.my) ^ 2)) AS si,
	                  sum((p.x - m.mx) ^ 2 + (p.y - m.my) ^ 2) AS wi
	           FROM p JOIN m USING (c) GROUP BY m.c),
	     r AS (SELECT s1.c, max((s1.si + s2.si) / sqrt((m1.mx - m2.mx) ^ 2 + (m1.my - m2.my) ^ 2)) AS worst
	           FROM s s1 JOIN m m1 ON m1.c = s1.c JOIN s s2 ON s2.c <> s1.c JOIN m m2 ON m2.c = s2.c
	           GROUP BY s1.c)
	SELECT (SELECT avg(worst) FROM r),
	       (SELECT sum(m.size * ((m.mx - a.ax) ^ 2 + (m.my - a.ay) ^ 2)) FROM m, a) * ((SELECT count(*) FROM p) - (SELECT count(*) FROM m))
	       / NULLIF((SELECT sum(wi) FROM s) * ((SELECT count(*) FROM m) - 1), 0)$q$, labels, points)
	INTO db, ch;
END
$$;
SELECT n.normalization, k.k,
       abs(c.davies_bouldin - r.db) <= 1e-9 * r.db AS davies_bouldin_agrees,
       abs(c.calinski_harabasz - r.ch) <= 1e-9 * r.ch AS calinski_harabasz_agrees
FROM (VALUES ('zscore'), ('log'), ('robust')) n(normalization), (VALUES (2), (4)) k(k),
     LATERAL (SELECT DISTINCT davies_bouldin, calinski_harabasz
              FROM engage.kmeans_centroids('SELECT id, s, mb FROM opt', k.k, n.normalization)) c,
     LATERAL opt_scores(format('SELECT key, cluster FROM engage.kmeans_cluster(%L, %s, %L)', 'SELECT id, s, mb FROM opt', k.k, n.normalization),
                        format('SELECT key, features FROM engage.normalize_points(%L, %L)', 'SELECT id, s, mb FROM opt', n.normalization)) r
ORDER BY 1, 2;
-- elbow_inertia: the indexes of each k, from its labels (each point's nearest
-- centroid among the k's centroids_normalized); NULL for k = 1
CREATE TABLE opt_elbow AS
SELECT * FROM engage.elbow_inertia('SELECT id, s, mb FROM opt', 1, 5, 'log');
CREATE TABLE opt_points AS
SELECT key, features FROM engage.normalize_points('SELECT id, s, mb FROM opt', 'log');
CREATE TABLE opt_elbow_labels AS
SELECT e.k, p.key,
       (SELECT c FROM generate_series(1, e.k) c
        ORDER BY (p.features[1] - e.centroids_normalized[c][1]) ^ 2 + (p.features[2] - e.centroids_normalized[c][2]) ^ 2, c
        LIMIT 1) AS cluster
FROM opt_elbow e, opt_points p;
SELECT e.k, e.davies_bouldin IS NULL AS db_null, e.calinski_harabasz IS NULL AS ch_null,
       abs(e.davies_bouldin - r.db) <= 1e-9 * r.db AS davies_bouldin_agrees,
       abs(e.calinski_harabasz - r.ch) <= 1e-9 * r.ch AS calinski_harabasz_agrees
FROM opt_elbow e
LEFT JOIN LATERAL opt_scores(format('SELECT key, cluster FROM opt_elbow_labels WHERE k = %s', e.k),
                             'SELECT key, features FROM opt_points') r ON e.k > 1
ORDER BY 1;

------------------------------------------------------------------------------
-- The window function kmeans(features, k, normalization, n_init, seed)
-- OVER (PARTITION BY ...): per partition, the clustering of kmeans_cluster
-- on the partition's points given one and the same key (they are then in an
-- order of their features alone), so exactly what a model of those points
-- assigns them
------------------------------------------------------------------------------
CREATE TABLE opt_win AS
SELECT id, g, n.normalization, engage.kmeans(ARRAY[s, mb], 3, n.normalization, seed => 5) OVER (PARTITION BY g, n.normalization) AS cluster
FROM opt, (VALUES ('zscore'), ('log'), ('robust'), ('minmax')) n(normalization);
SELECT w.normalization, count(*) AS rows, count(DISTINCT w.g) AS partitions,
       count(*) FILTER (WHERE w.cluster = (engage.kmeans_nearest(m.model, ARRAY[o.s, o.mb])).cluster) AS as_kmeans_cluster
FROM opt_win w JOIN opt o USING (id, g),
     LATERAL (SELECT engage.kmeans_model(format('SELECT '''', s, mb FROM opt WHERE g = %s', w.g), 3, w.normalization, seed => 5) AS model) m
GROUP BY 1 ORDER BY 1;
-- the same clusters whatever the order of the rows, the plan or engage.threads
SET engage.threads = 2;
SELECT count(*) AS rows, count(*) FILTER (WHERE w.cluster = x.cluster) AS same
FROM opt_win w
JOIN (SELECT id, engage.kmeans(ARRAY[s, mb], 3, 'log', seed => 5) OVER (PARTITION BY g) AS cluster
      FROM (SELECT * FROM opt ORDER BY mb DESC, id) o) x USING (id)
WHERE w.normalization = 'log';
RESET engage.threads;
-- on separated groups, the clusters of kmeans_cluster with the real keys too
CREATE TABLE opt_sep AS
SELECT i AS id, i % 2 AS g, ARRAY[(i % 3) * 100 + (i % 7), (i % 3) * 50 + (i % 5)]::float8[] AS f
FROM generate_series(1, 120) i;
SELECT count(*) AS rows,
       count(*) FILTER (WHERE w.cluster = c.cluster) AS same_as_kmeans_cluster
FROM (SELECT id, g, engage.kmeans(f, 3) OVER (PARTITION BY g) AS cluster FROM opt_sep) w
JOIN (SELECT 0 AS g, key::int AS id, cluster FROM engage.kmeans_cluster('SELECT id, f FROM opt_sep WHERE g = 0', 3)
      UNION ALL
      SELECT 1, key::int, cluster FROM engage.kmeans_cluster('SELECT id, f FROM opt_sep WHERE g = 1', 3)) c USING (g, id);
-- NULL features (or holding a NULL) get NULL and take no part; the default
-- arguments; a window with its own ORDER BY and frame changes nothing
SELECT id, f, engage.kmeans(f, 2) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND CURRENT ROW) AS framed,
       engage.kmeans(f, 2) OVER () AS whole
FROM (VALUES (1, '{0,0}'::float8[]), (2, NULL), (3, '{0,1}'), (4, '{9,NULL}'), (5, '{10,10}'), (6, '{10,11}')) v(id, f)
ORDER BY id;
SELECT count(*) AS rows, count(DISTINCT c) AS clusters
FROM (SELECT engage.kmeans(ARRAY[s, mb]) OVER () AS c FROM opt) x;

------------------------------------------------------------------------------
-- run_analysis's internal K-means and elbow steps take an optional
-- normalization (for run_analysis's normalization argument, to come): the
-- C functions declared here with it, as a later run_analysis will declare
-- them.  The elbow is elbow_fit_sampled's with every normalization: the
-- points store_cluster_model keeps serve the elbow of their normalization.
------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.cluster_model_n(bigint, text, integer, bigint, text) RETURNS engage.kmeans_model
AS '$libdir/engage', 'engage_store_cluster_model' LANGUAGE C;
CREATE FUNCTION pg_temp.elbow_curve_n(bigint, text, integer, bigint, integer, text)
RETURNS TABLE (k integer, inertia double precision, silhouette double precision,
               iterations integer, is_elbow boolean, centroids_normalized double precision[],
               sample_size integer, davies_bouldin double precision, calinski_harabasz double precision)
AS '$libdir/engage', 'engage_store_elbow_curve' LANGUAGE C;
CREATE TABLE opt_q AS SELECT 'SELECT id::text, id::bigint, s, mb FROM opt' AS q;
SELECT (m).normalization, m::text = r::text AS as_kmeans_fit_sampled
FROM (SELECT pg_temp.cluster_model_n(1, q, 3, 7, 'log') AS m,
             engage.kmeans_fit_sampled(q, 3, 'log', seed => 7) AS r FROM opt_q) x;
-- in one transaction: the elbow after store_cluster_model (log) is
-- elbow_fit_sampled's curve (the split K-means, log too), from the points
-- store_cluster_model kept (log) or read again (zscore)
BEGIN;
SELECT (pg_temp.cluster_model_n(1, q, 3, 7, 'log')).normalization FROM opt_q;
CREATE TEMP TABLE opt_kept AS SELECT e.* FROM opt_q, pg_temp.elbow_curve_n(1, q, 4, 7, 0, 'log') e;
SELECT (pg_temp.cluster_model_n(1, q, 3, 7, 'log')).normalization FROM opt_q;
CREATE TEMP TABLE opt_other AS SELECT e.* FROM opt_q, pg_temp.elbow_curve_n(1, q, 4, 7, 0, 'zscore') e;
COMMIT;
SELECT 'log after log points' AS curve, count(*) AS differing FROM (
  (TABLE opt_kept EXCEPT ALL SELECT e.* FROM opt_q, engage.elbow_fit_sampled(q, 1, 4, 'log', seed => 7, sample => 0) e)
  UNION ALL
  (SELECT e.* FROM opt_q, engage.elbow_fit_sampled(q, 1, 4, 'log', seed => 7, sample => 0) e EXCEPT ALL TABLE opt_kept)) d
UNION ALL
SELECT 'zscore after log points', count(*) FROM (
  (TABLE opt_other EXCEPT ALL SELECT e.* FROM opt_q, engage.elbow_fit_sampled(q, 1, 4, 'zscore', seed => 7, sample => 0) e)
  UNION ALL
  (SELECT e.* FROM opt_q, engage.elbow_fit_sampled(q, 1, 4, 'zscore', seed => 7, sample => 0) e EXCEPT ALL TABLE opt_other)) d;
SELECT count(*) AS rows, count(davies_bouldin) AS with_indexes FROM opt_kept;
DROP TABLE opt_q, opt_kept, opt_other;

DROP TABLE opt, opt_ln, opt_model, opt_elbow, opt_points, opt_elbow_labels, opt_win, opt_sep;
DROP FUNCTION opt_scores(text, text);
