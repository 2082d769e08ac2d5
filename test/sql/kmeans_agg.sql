-- kmeans_agg: the split K-means (scaling_agg, kmeans_step_agg, sample_hash,
-- kmeans_fit_sampled) against independent SQL and against kmeans_cluster;
-- serial and parallel plans give the same bits
-- (float8 as text: the shortest exact form, so text equality is bit equality)
SET extra_float_digits = 1;

-- Three well-separated blobs of 60,000 points, and a large offset on c
SELECT setseed(0.42);
CREATE TABLE ka_pts AS
SELECT g AS id,
       (g % 3) * 10 + random() AS a,
       (g % 3) * 5 + 2 * random() AS b,
       1e9 + (g % 3) * 40 + 30 * random() AS c
FROM generate_series(1, 60000) g;
ANALYZE ka_pts;

-- Plans: serial, and parallel (Partial Aggregate in workers)
CREATE FUNCTION pg_temp.serial() RETURNS void LANGUAGE sql AS
$$ SELECT set_config('max_parallel_workers_per_gather', '0', false) $$;
CREATE FUNCTION pg_temp.parallel() RETURNS void LANGUAGE sql AS
$$ SELECT set_config('max_parallel_workers_per_gather', '2', false),
          set_config('parallel_setup_cost', '0', false),
          set_config('parallel_tuple_cost', '0', false),
          set_config('min_parallel_table_scan_size', '0', false) $$;
-- The exact value of x as numeric when x * 2^s is an integer (random()
-- gives multiples of 2^-52; c, near 1e9, is a multiple of 2^-23)
CREATE FUNCTION pg_temp.exact(x float8, s int) RETURNS numeric LANGUAGE sql AS
$$ SELECT (x * 2 ^ s)::bigint::numeric / (2::numeric ^ s) $$;

-- 1. scaling_agg against plain SQL: min and max equal, mean and std within
-- 4 ulp of the exact values (numeric), and of scaling_params
SELECT (s).normalization, (s).n_points,
       (s).min = ARRAY[min(a), min(b), min(c)] AS min_equal,
       (s).max = ARRAY[max(a), max(b), max(c)] AS max_equal
FROM ka_pts, (SELECT engage.scaling_agg(ARRAY[a, b, c]) AS s FROM ka_pts) q
GROUP BY s;
WITH agg AS (SELECT engage.scaling_agg(ARRAY[a, b, c]) AS s FROM ka_pts),
ref AS (SELECT avg(pg_temp.exact(a, 52)) AS ma, avg(pg_temp.exact(b, 52)) AS mb, avg(pg_temp.exact(c, 23)) AS mc,
               stddev_pop(pg_temp.exact(a, 52)) AS sa, stddev_pop(pg_temp.exact(b, 52)) AS sb, stddev_pop(pg_temp.exact(c, 23)) AS sc
        FROM ka_pts)
SELECT abs((s).mean[1] - ma) <= 4e-16 * abs(ma) AS mean_a, abs((s).mean[2] - mb) <= 4e-16 * abs(mb) AS mean_b,
       abs((s).mean[3] - mc) <= 4e-16 * abs(mc) AS mean_c,
       abs((s).std[1] - sa) <= 1e-15 * sa AS std_a, abs((s).std[2] - sb) <= 1e-15 * sb AS std_b,
       abs((s).std[3] - sc) <= 1e-15 * sc AS std_c
FROM agg, ref;
WITH agg AS (SELECT engage.scaling_agg(ARRAY[a, b, c], 'zscore') AS s FROM ka_pts),
p AS (SELECT row_number() OVER () AS j, * FROM engage.scaling_params('SELECT id, a, b, c FROM ka_pts', 'zscore'))
SELECT bool_and(abs((s).mean[j] - p.mean) <= 4 * 2.2205e-16 * abs(p.mean)) AS mean_within_4_ulp,
       bool_and(abs((s).std[j] - p.std) <= 4 * 2.2205e-16 * p.std) AS std_within_4_ulp,
       bool_and((s).scale[j] = (s).std[j] AND (s).shift[j] = (s).mean[j]) AS zscore_parameters
FROM agg, p;
WITH agg AS (SELECT engage.scaling_agg(ARRAY[a, b, c], 'minmax') AS s FROM ka_pts),
p AS (SELECT row_number() OVER () AS j, * FROM engage.scaling_params('SELECT id, a, b, c FROM ka_pts', 'minmax'))
SELECT bool_and((s).scale[j] = p.scale AND (s).shift[j] = p.shift
                AND (s).min[j] = p.min AND (s).max[j] = p.max) AS minmax_identical
FROM agg, p;

-- 2. the same bits in a serial and a parallel plan, and in any row order
SELECT pg_temp.serial();
CREATE TEMP TABLE ka_serial AS
SELECT engage.scaling_agg(ARRAY[a, b, c])::text AS z, engage.scaling_agg(ARRAY[a, b, c], 'minmax')::text AS m
FROM ka_pts;
SELECT pg_temp.parallel();
EXPLAIN (COSTS OFF) SELECT engage.scaling_agg(ARRAY[a, b, c]) FROM ka_pts;
SELECT z = (SELECT engage.scaling_agg(ARRAY[a, b, c])::text FROM ka_pts) AS zscore_same_bits,
       m = (SELECT engage.scaling_agg(ARRAY[a, b, c], 'minmax')::text FROM ka_pts) AS minmax_same_bits
FROM ka_serial;
SELECT pg_temp.serial();
SELECT z = (SELECT engage.scaling_agg(x)::text FROM (SELECT ARRAY[a, b, c] AS x FROM ka_pts ORDER BY c DESC) o) AS any_order_same_bits
FROM ka_serial;

-- 3. one Lloyd step against a plain-SQL Lloyd step from the centroids of
-- kmeans_model: each point to its nearest normalised centroid (ties to
-- the lowest), the mean of each cluster, the inertia
CREATE TABLE ka_model AS
SELECT engage.kmeans_model('SELECT id, a, b, c FROM ka_pts', 3, n_init => 2, max_iter => 2) AS model;
CREATE TEMP TABLE ka_ref AS
WITH z AS (
  SELECT id, ARRAY[(a - (model).shift[1]) / (model).scale[1], (b - (model).shift[2]) / (model).scale[2],
                   (c - (model).shift[3]) / (model).scale[3]] AS z, model
  FROM ka_pts, ka_model),
lab AS (
  SELECT id, z, best.j, best.d2
  FROM z, LATERAL (
    SELECT j, ((z[1] - (model).centroids_normalized[j][1]) ^ 2 + (z[2] - (model).centroids_normalized[j][2]) ^ 2)
              + (z[3] - (model).centroids_normalized[j][3]) ^ 2 AS d2
    FROM generate_series(1, 3) j ORDER BY 2, 1 LIMIT 1) best)
SELECT j, count(*) AS size, avg(z[1]) AS m1, avg(z[2]) AS m2, avg(z[3]) AS m3, sum(d2::text::numeric) AS inertia
FROM lab GROUP BY j;
CREATE TEMP TABLE ka_step AS
SELECT engage.kmeans_step_agg(model, ARRAY[a, b, c]) AS s FROM ka_pts, ka_model GROUP BY model;
SELECT bool_and((s).sizes[j] = size) AS sizes_equal,
       bool_and(abs((s).centroids_normalized[j][1] - m1) <= 1e-13 AND abs((s).centroids_normalized[j][2] - m2) <= 1e-13
                AND abs((s).centroids_normalized[j][3] - m3) <= 1e-13) AS centroids_close,
       bool_and(abs((s).cluster_inertia[j] - inertia) <= 1e-12 * inertia) AS cluster_inertia_close,
       abs(max((s).inertia) - sum(inertia)) <= 1e-12 * sum(inertia) AS inertia_close,
       max((s).n_points) AS n_points, max((s).empty_clusters) AS empty_clusters
FROM ka_step, ka_ref;
-- kmeans_predict assigns each point to the cluster the step counted it in
SELECT (SELECT array_agg(cnt ORDER BY c) FROM (
          SELECT engage.kmeans_predict(model, ARRAY[a, b, c]) AS c, count(*) AS cnt
          FROM ka_pts, ka_model GROUP BY 1) q) = (s).sizes AS predict_matches_step
FROM ka_step;
-- the exact mean: with normalization none, each next centroid is the
-- correctly rounded mean (numeric) of its cluster's points
CREATE TEMP TABLE ka_none AS
SELECT ((model).features, 'none', '{1,1,1}'::float8[], '{0,0,0}'::float8[], (model).centroids,
        (model).centroids, (model).sizes, (model).inertia, (model).iterations, (model).converged,
        (model).n_points, (model).cluster_inertia)::engage.kmeans_model AS model
FROM ka_model;
WITH s AS (SELECT engage.kmeans_step_agg(model, ARRAY[a, b, c]) AS s FROM ka_pts, ka_none GROUP BY model),
m AS (SELECT engage.kmeans_predict(model, ARRAY[a, b, c]) AS j, avg(pg_temp.exact(a, 52)) AS ma,
             avg(pg_temp.exact(c, 23)) AS mc
      FROM ka_pts, ka_none GROUP BY 1)
SELECT count(*) AS clusters,
       bool_and((s).centroids_normalized[j][1] = ma::float8 AND (s).centroids_normalized[j][3] = mc::float8) AS exact_means
FROM m, s;

-- 4. serial and parallel steps: the same bits
SELECT pg_temp.parallel();
EXPLAIN (COSTS OFF) SELECT engage.kmeans_step_agg((SELECT model FROM ka_model), ARRAY[a, b, c]) FROM ka_pts;
SELECT s::text = (SELECT engage.kmeans_step_agg((SELECT model FROM ka_model), ARRAY[a, b, c])::text FROM ka_pts) AS step_same_bits
FROM ka_step;
SELECT pg_temp.serial();

-- 5. an empty cluster takes the point farthest from its centroid
WITH m AS (
  SELECT ((model).features, (model).normalization, (model).scale, (model).shift, (model).centroids,
          ARRAY[[(model).centroids_normalized[1][1], (model).centroids_normalized[1][2], (model).centroids_normalized[1][3]],
                [(model).centroids_normalized[2][1], (model).centroids_normalized[2][2], (model).centroids_normalized[2][3]],
                [100, 100, 100]]::float8[],
          (model).sizes, (model).inertia, (model).iterations, (model).converged, (model).n_points,
          (model).cluster_inertia)::engage.kmeans_model AS model
  FROM ka_model),
s AS (SELECT engage.kmeans_step_agg(model, ARRAY[a, b, c]) AS s, model FROM ka_pts, m GROUP BY model),
far AS (
  SELECT z, d2 FROM (
    SELECT ARRAY[(a - (model).shift[1]) / (model).scale[1], (b - (model).shift[2]) / (model).scale[2],
                 (c - (model).shift[3]) / (model).scale[3]] AS z, model FROM ka_pts, m) p,
    LATERAL (SELECT min(((z[1] - (model).centroids_normalized[j][1]) ^ 2 + (z[2] - (model).centroids_normalized[j][2]) ^ 2)
                        + (z[3] - (model).centroids_normalized[j][3]) ^ 2) AS d2
             FROM generate_series(1, 2) j) q
  ORDER BY d2 DESC LIMIT 1)
SELECT (s).empty_clusters, (s).sizes[3] AS size_3,
       (s).centroids_normalized[3:3][1:3] = ARRAY[far.z] AS takes_farthest_point
FROM s, far;

-- 6. kmeans_fit_sampled: the clusters and the inertia of kmeans_cluster run
-- to convergence (tol 0) on the same points; the same model in any row order
CREATE TEMP TABLE ka_fit AS
SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, n_init => 3) AS model;
SELECT (model).features, (model).normalization, (model).converged, (model).n_points,
       (model).iterations < 300 AS iterations_below_max,
       (model).sizes = (SELECT array_agg(size ORDER BY cluster) FROM engage.kmeans_centroids(
           'SELECT id, a, b, c FROM ka_pts', 3, n_init => 3, tol => 0)) AS sizes_equal,
       abs((model).inertia - (SELECT max(total_inertia) FROM engage.kmeans_centroids(
           'SELECT id, a, b, c FROM ka_pts', 3, n_init => 3, tol => 0))) <= 1e-6 * (model).inertia AS inertia_within_1e6
FROM ka_fit;
SELECT count(*) AS points,
       count(*) FILTER (WHERE k.cluster = engage.kmeans_predict(f.model, ARRAY[p.a, p.b, p.c])) AS same_cluster
FROM engage.kmeans_cluster('SELECT id, a, b, c FROM ka_pts', 3, n_init => 3, tol => 0) k
JOIN ka_pts p ON p.id = k.key::int, ka_fit f;
SELECT model::text = (SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts ORDER BY c DESC', 3, n_init => 3)::text)
       AS any_order_same_model,
       (model).centroids_normalized = (SELECT (m).centroids_normalized FROM (SELECT engage.kmeans_fit_sampled(
           'SELECT id, ARRAY[a, b, c] FROM ka_pts', 3, n_init => 3) AS m) q) AS array_form_same_centroids
FROM ka_fit;
-- in a parallel plan
SELECT pg_temp.parallel();
SELECT model::text = (SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, n_init => 3)::text)
       AS parallel_same_model
FROM ka_fit;
SELECT pg_temp.serial();
-- restarts on a sample of 2,000 points chosen by sample_hash: the same
-- clusters after the steps over every point
SELECT (s.model).sizes = (f.model).sizes AS sample_same_sizes,
       (s.model).centroids_normalized = (f.model).centroids_normalized AS sample_same_centroids
FROM ka_fit f, (SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, n_init => 3, sample => 2000) AS model) s;
-- in memory (in_memory): the same model bit for bit, on every point, on
-- a sample, in any row order
SELECT model::text = (SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts ORDER BY c DESC', 3, n_init => 3,
                                                       in_memory => true)::text) AS in_memory_same_model,
       (SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, n_init => 3, sample => 2000)::text)
       = (SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, n_init => 3, sample => 2000,
                                           in_memory => true)::text) AS in_memory_same_sampled_model
FROM ka_fit;
-- in memory on 1, 2 and 3 threads (engage.threads: the steps over every
-- point shared in fixed chunks of 8,192 points, exact sums): the same
-- model and elbow rows bit for bit
SET engage.threads = 1;
CREATE TEMP TABLE ka_threads AS
SELECT 1 AS threads,
       engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 4, n_init => 2, sample => 2000, in_memory => true)::text AS model,
       (SELECT array_agg(e::text ORDER BY k)
        FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 5, n_init => 2, sample => 3000,
                                      in_memory => true) e)::text AS curve;
SET engage.threads = 2;
INSERT INTO ka_threads
SELECT 2, engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 4, n_init => 2, sample => 2000, in_memory => true)::text,
       (SELECT array_agg(e::text ORDER BY k)
        FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 5, n_init => 2, sample => 3000,
                                      in_memory => true) e)::text;
SET engage.threads = 3;
INSERT INTO ka_threads
SELECT 3, engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 4, n_init => 2, sample => 2000, in_memory => true)::text,
       (SELECT array_agg(e::text ORDER BY k)
        FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 5, n_init => 2, sample => 3000,
                                      in_memory => true) e)::text;
RESET engage.threads;
SELECT count(*) AS runs, count(DISTINCT model) AS models, count(DISTINCT curve) AS curves,
       -- and the same as on aggregates
       min(model) = engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 4, n_init => 2, sample => 2000)::text
       AS model_as_aggregates,
       min(curve) = (SELECT array_agg(e::text ORDER BY k)
                     FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 5, n_init => 2, sample => 3000) e)::text
       AS curve_as_aggregates
FROM ka_threads;
DROP TABLE ka_threads;
-- sample_cutoff, the cutoff of the sample query: the m-th smallest value
-- as plain SQL sorts them (NULLs skipped), NULL with fewer than m values;
-- serial and parallel the same
CREATE TABLE ka_cut AS
SELECT engage.sample_hash(id::text, 3)::float8 AS h, NULLIF(c, c) AS n FROM ka_pts;
SELECT count(*) AS ka_n FROM ka_cut \gset
SELECT engage.sample_cutoff(h, 1) = (SELECT min(h) FROM ka_cut) AS first,
       engage.sample_cutoff(h, 2000) = (SELECT (array_agg(h ORDER BY h))[2000] FROM ka_cut) AS m_th,
       engage.sample_cutoff(h, :ka_n) = (SELECT max(h) FROM ka_cut) AS last,
       engage.sample_cutoff(h, :ka_n + 1) IS NULL AS too_few,
       engage.sample_cutoff(n, 1) IS NULL AS nulls_skipped
FROM ka_cut;
SELECT pg_temp.parallel();
SELECT engage.sample_cutoff(h, 2000) = (SELECT (array_agg(h ORDER BY h))[2000] FROM ka_cut) AS parallel_m_th
FROM ka_cut;
SELECT pg_temp.serial();
-- sample_hash: deterministic, depends on the key and the seed
SELECT engage.sample_hash('a', 0) = engage.sample_hash('a', 0) AS same,
       engage.sample_hash('a', 0) <> engage.sample_hash('a', 1) AS seed_changes,
       engage.sample_hash('a', 0) <> engage.sample_hash('b', 0) AS key_changes;

-- 7. kmeans_steps_agg: several models in one pass; each model's step is
-- kmeans_step_agg's for it alone, bit for bit; the silhouette against
-- plain SQL; serial and parallel plans give the same bits
CREATE TEMP TABLE ka_models AS
SELECT ARRAY[
  ((model).features, (model).normalization, (model).scale, (model).shift, NULL::float8[],
   ARRAY[[0, 0, 0]]::float8[], NULL::bigint[], NULL::float8, NULL::int, NULL::boolean, NULL::bigint,
   NULL::float8[])::engage.kmeans_model,
  model,
  ((model).features, (model).normalization, (model).scale, (model).shift, NULL::float8[],
   (model).centroids_normalized[1:2][1:3], NULL::bigint[], NULL::float8, NULL::int, NULL::boolean,
   NULL::bigint, NULL::float8[])::engage.kmeans_model] AS models
FROM ka_model;
CREATE TEMP TABLE ka_steps AS
SELECT engage.kmeans_steps_agg(models, ARRAY[a, b, c]) AS s FROM ka_pts, ka_models GROUP BY models;
SELECT m.model, m.k,
       (m.centroids_normalized, m.sizes, m.cluster_inertia, m.inertia, m.n_points, m.empty_clusters,
        m.converged)::text = (SELECT engage.kmeans_step_agg(models[m.model], ARRAY[a, b, c])::text
                              FROM ka_pts) AS same_as_one_model_step,
       m.silhouette IS NULL AS silhouette_null
FROM ka_steps, ka_models, unnest(s) m ORDER BY m.model;
-- the simplified silhouette of model 2 (k = 3): mean of (b - a) / max(a, b)
WITH z AS (
  SELECT ARRAY[(a - (model).shift[1]) / (model).scale[1], (b - (model).shift[2]) / (model).scale[2],
               (c - (model).shift[3]) / (model).scale[3]] AS z, model
  FROM ka_pts, ka_model),
d AS (
  SELECT sqrt(min(d2)) AS a, sqrt((array_agg(d2 ORDER BY d2, j))[2]) AS b
  FROM z, LATERAL (
    SELECT j, ((z[1] - (model).centroids_normalized[j][1]) ^ 2 + (z[2] - (model).centroids_normalized[j][2]) ^ 2)
              + (z[3] - (model).centroids_normalized[j][3]) ^ 2 AS d2
    FROM generate_series(1, 3) j) q
  GROUP BY z)
SELECT abs((SELECT (s[2]).silhouette FROM ka_steps)
           - avg(CASE WHEN greatest(a, b) > 0 THEN ((b - a) / greatest(a, b))::numeric ELSE 0 END)) < 1e-12
       AS silhouette_close
FROM d;
SELECT pg_temp.parallel();
EXPLAIN (COSTS OFF) SELECT engage.kmeans_steps_agg((SELECT models FROM ka_models), ARRAY[a, b, c]) FROM ka_pts;
SELECT s::text = (SELECT engage.kmeans_steps_agg((SELECT models FROM ka_models), ARRAY[a, b, c])::text FROM ka_pts)
       AS steps_same_bits_parallel
FROM ka_steps;
SELECT pg_temp.serial();
SELECT s::text = (SELECT engage.kmeans_steps_agg((SELECT models FROM ka_models), x)::text
                  FROM (SELECT ARRAY[a, b, c] AS x FROM ka_pts ORDER BY c DESC) o) AS steps_any_order
FROM ka_steps;

-- 7b. the quality indexes: kmeans_steps_agg with the centres the next
-- centroids of the step (the means of the clusters of the models'
-- centroids) gives the Davies-Bouldin and Calinski-Harabasz indexes of
-- the labels, against plain SQL (scikit-learn's definitions); the same
-- bits in parallel; NULL centres are the centroids
CREATE FUNCTION pg_temp.indexes(cent float8[], shift float8[], scale float8[])
RETURNS TABLE (db float8, ch float8) LANGUAGE sql AS $$
WITH z AS (SELECT ARRAY[(a - shift[1]) / scale[1], (b - shift[2]) / scale[2], (c - shift[3]) / scale[3]] AS z
           FROM ka_pts),
l AS (SELECT z, (SELECT j FROM generate_series(1, array_length(cent, 1)) j
                 ORDER BY ((z[1] - cent[j][1]) ^ 2 + (z[2] - cent[j][2]) ^ 2) + (z[3] - cent[j][3]) ^ 2, j
                 LIMIT 1) AS j
      FROM z),
m AS (SELECT j, count(*) AS n, avg(z[1]) AS m1, avg(z[2]) AS m2, avg(z[3]) AS m3 FROM l GROUP BY j),
g AS (SELECT avg(z[1]) AS g1, avg(z[2]) AS g2, avg(z[3]) AS g3, count(*) AS n FROM z),
w AS (SELECT j, sum((z[1] - m1) ^ 2 + (z[2] - m2) ^ 2 + (z[3] - m3) ^ 2) AS w,
             avg(sqrt((z[1] - m1) ^ 2 + (z[2] - m2) ^ 2 + (z[3] - m3) ^ 2)) AS s
      FROM l JOIN m USING (j) GROUP BY j),
r AS (SELECT p.j, max((wp.s + wq.s) / sqrt((p.m1 - q.m1) ^ 2 + (p.m2 - q.m2) ^ 2 + (p.m3 - q.m3) ^ 2)) AS worst
      FROM m p JOIN w wp ON wp.j = p.j JOIN m q ON q.j <> p.j JOIN w wq ON wq.j = q.j GROUP BY p.j)
SELECT (SELECT avg(worst) FROM r),
       (SELECT sum(m.n * ((m1 - g1) ^ 2 + (m2 - g2) ^ 2 + (m3 - g3) ^ 2)) FROM m, g)
       * ((SELECT n FROM g) - (SELECT count(*) FROM m))
       / ((SELECT sum(w) FROM w) * NULLIF((SELECT count(*) FROM m) - 1, 0))
$$;
CREATE TEMP TABLE ka_centres AS
SELECT (s[1]).centroids_normalized || (s[2]).centroids_normalized || (s[3]).centroids_normalized AS centres,
       (s[2]).empty_clusters + (s[3]).empty_clusters AS empty
FROM ka_steps;
CREATE TEMP TABLE ka_steps_c AS
SELECT engage.kmeans_steps_agg(models, ARRAY[a, b, c], centres) AS s
FROM ka_pts, ka_models, ka_centres GROUP BY models, centres;
SELECT m.model, m.k, r.empty AS empty_clusters,
       m.davies_bouldin IS NULL AS db_null, m.calinski_harabasz IS NULL AS ch_null,
       abs(m.davies_bouldin - i.db) <= 1e-9 * i.db AS db_close,
       abs(m.calinski_harabasz - i.ch) <= 1e-9 * i.ch AS ch_close,
       (m.inertia, m.silhouette, m.sizes)::text = (o.inertia, o.silhouette, o.sizes)::text AS same_step
FROM ka_steps_c, ka_centres r, ka_steps, ka_models,
     unnest(ka_steps_c.s) m JOIN unnest(ka_steps.s) o USING (model)
     LEFT JOIN LATERAL pg_temp.indexes((models[m.model]).centroids_normalized, (models[m.model]).shift,
                                        (models[m.model]).scale) i ON m.k > 1
ORDER BY m.model;
SELECT pg_temp.parallel();
SELECT s::text = (SELECT engage.kmeans_steps_agg((SELECT models FROM ka_models), ARRAY[a, b, c],
                                                 (SELECT centres FROM ka_centres))::text FROM ka_pts)
       AS centres_same_bits_parallel
FROM ka_steps_c;
SELECT pg_temp.serial();
SELECT (SELECT s::text FROM ka_steps)
       = (SELECT engage.kmeans_steps_agg(models, ARRAY[a, b, c], NULL)::text FROM ka_pts, ka_models GROUP BY models)
       AS null_centres_are_the_centroids;

-- 8. coreset_key against plain SQL: u / q, u from sample_hash, q from the
-- mean and the k = 1 inertia
CREATE TEMP TABLE ka_one AS
SELECT ((model).features, (model).normalization, (model).scale, (model).shift, NULL::float8[],
        ARRAY[[0.25, -0.5, 0.125]]::float8[], NULL::bigint[], 150000::float8, NULL::int, NULL::boolean,
        60000::bigint, NULL::float8[])::engage.kmeans_model AS one
FROM ka_model;
SELECT count(*) AS points,
       count(*) FILTER (WHERE abs(engage.coreset_key(one, id::text, ARRAY[a, b, c], 7)
         - ((floor(((engage.sample_hash(id::text, 7)::numeric + 18446744073709551616) % 18446744073709551616) / 2048) + 0.5)
            / 9007199254740992.0)::float8
           / (0.5 / 60000 + 0.5 * ((((a - (one).shift[1]) / (one).scale[1] - 0.25) ^ 2
                                 + ((b - (one).shift[2]) / (one).scale[2] + 0.5) ^ 2)
                                 + ((c - (one).shift[3]) / (one).scale[3] - 0.125) ^ 2) / 150000))
         <= 1e-14 * engage.coreset_key(one, id::text, ARRAY[a, b, c], 7)) AS keys_close,
       count(engage.coreset_key(one, id::text, NULL, 7)) AS null_features_give_null
FROM ka_pts, ka_one;

-- 9. elbow_fit_sampled: on aggregates == in memory == parallel == any row
-- order, bit for bit; against elbow_inertia (every inertia at most 1e-3
-- above, the same elbow); k = 1 and a silhouette against plain SQL
CREATE TEMP TABLE ka_elbow AS
SELECT * FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 6, n_init => 3);
SELECT count(*) AS rows, count(*) FILTER (WHERE is_elbow) AS elbows, max(sample_size) AS sample_size,
       bool_and(iterations >= 1) AS iterations_positive
FROM ka_elbow;
SELECT (SELECT array_agg(e::text ORDER BY k) FROM ka_elbow e)
       = (SELECT array_agg(e::text ORDER BY k) FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 6,
                                                   n_init => 3, in_memory => true) e) AS in_memory_same_rows;
SELECT pg_temp.parallel();
SELECT (SELECT array_agg(e::text ORDER BY k) FROM ka_elbow e)
       = (SELECT array_agg(e::text ORDER BY k) FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 6,
                                                   n_init => 3) e) AS parallel_same_rows;
SELECT pg_temp.serial();
SELECT (SELECT array_agg(e::text ORDER BY k) FROM ka_elbow e)
       = (SELECT array_agg(e::text ORDER BY k) FROM engage.elbow_fit_sampled('SELECT id, ARRAY[a, b, c] FROM ka_pts ORDER BY c DESC',
                                                   1, 6, n_init => 3) e) AS any_order_same_rows;
SELECT bool_and(f.inertia <= e.inertia * (1 + 1e-3)) AS inertia_within_1e3,
       bool_and(f.is_elbow = e.is_elbow) AS same_elbow
FROM ka_elbow f JOIN engage.elbow_inertia('SELECT id, a, b, c FROM ka_pts', 1, 6, n_init => 3) e USING (k);
WITH m AS (SELECT engage.scaling_agg(ARRAY[a, b, c]) AS s FROM ka_pts),
z AS (SELECT (a - (s).shift[1]) / (s).scale[1] AS z1, (b - (s).shift[2]) / (s).scale[2] AS z2,
             (c - (s).shift[3]) / (s).scale[3] AS z3 FROM ka_pts, m)
SELECT abs(inertia - (SELECT sum((z1 - mz1) ^ 2 + (z2 - mz2) ^ 2 + (z3 - mz3) ^ 2)
                      FROM z, (SELECT avg(z1) mz1, avg(z2) mz2, avg(z3) mz3 FROM z) mz)) <= 1e-9 * inertia
       AS k1_inertia_close, silhouette IS NULL AS k1_silhouette_null, iterations AS k1_steps
FROM ka_elbow WHERE k = 1;
WITH e AS (SELECT centroids_normalized AS c, silhouette FROM ka_elbow WHERE k = 3),
m AS (SELECT engage.scaling_agg(ARRAY[a, b, c]) AS s FROM ka_pts),
z AS (SELECT ARRAY[(a - (s).shift[1]) / (s).scale[1], (b - (s).shift[2]) / (s).scale[2],
                   (c - (s).shift[3]) / (s).scale[3]] AS z FROM ka_pts, m),
d AS (
  SELECT sqrt(min(d2)) AS a, sqrt((array_agg(d2 ORDER BY d2, j))[2]) AS b
  FROM z, e, LATERAL (
    SELECT j, ((z[1] - e.c[j][1]) ^ 2 + (z[2] - e.c[j][2]) ^ 2) + (z[3] - e.c[j][3]) ^ 2 AS d2
    FROM generate_series(1, 3) j) q
  GROUP BY z)
SELECT abs((SELECT silhouette FROM e)
           - avg(CASE WHEN greatest(a, b) > 0 THEN ((b - a) / greatest(a, b))::numeric ELSE 0 END)) < 1e-12
       AS k3_silhouette_close
FROM d;
-- the indexes of k = 3 and k = 5 against plain SQL on the labels of the
-- curve's centroids; k = 1: NULL
SELECT e.k, abs(e.davies_bouldin - i.db) <= 1e-9 * i.db AS db_close,
       abs(e.calinski_harabasz - i.ch) <= 1e-9 * i.ch AS ch_close
FROM ka_elbow e, (SELECT engage.scaling_agg(ARRAY[a, b, c]) AS s FROM ka_pts) m,
     LATERAL pg_temp.indexes(e.centroids_normalized, (m.s).shift, (m.s).scale) i
WHERE e.k IN (3, 5) ORDER BY e.k;
SELECT davies_bouldin IS NULL AND calinski_harabasz IS NULL AS k1_indexes_null FROM ka_elbow WHERE k = 1;
-- on a sample of 3,000 points (n_init 10): aggregates == in memory; against
-- elbow_inertia on every point: the same elbow, and the largest excess of
-- an inertia (k = 5 of these uniform blobs lands in another minimum,
-- 1.1e-3 above; every other k within 1e-5)
CREATE TEMP TABLE ka_elbow_s AS
SELECT * FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 6, sample => 3000);
SELECT max(s.sample_size) AS sample_size,
       (SELECT array_agg(e::text ORDER BY k) FROM ka_elbow_s e)
       = (SELECT array_agg(e::text ORDER BY k) FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 6,
                                                   sample => 3000, in_memory => true) e) AS in_memory_same_rows,
       round(max(s.inertia / e.inertia - 1)::numeric, 4) AS largest_excess,
       bool_and(s.inertia <= e.inertia * (1 + 1e-5)) FILTER (WHERE k <> 5) AS others_within_1e5,
       bool_and(s.is_elbow = e.is_elbow) AS same_elbow
FROM ka_elbow_s s JOIN engage.elbow_inertia('SELECT id, a, b, c FROM ka_pts', 1, 6, sample => 0) e USING (k);

-- 10. the normalizations log and robust in the split K-means.  log:
-- scaling_agg's scale and shift (exact sums of ln(1 + x)) within 1e-14 of
-- scaling_params'; robust: kmeans_fit_sampled's scaler (exact quantiles
-- in passes of quantile_pass_agg) the bits of scaling_params', serial and
-- parallel; a pass the same bits in parallel; elbow_fit_sampled on
-- aggregates = in memory = parallel; a log model's step = kmeans_predict
SELECT bool_and(abs((s).scale[i] - p.scale) <= 1e-14 * p.scale) AS log_scale_close,
       bool_and(abs((s).shift[i] - p.shift) <= 1e-14 * abs(p.shift)) AS log_shift_close,
       (s).normalization AS normalization
FROM (SELECT engage.scaling_agg(ARRAY[a, b, c], 'log') AS s FROM ka_pts) q,
     engage.scaling_params('SELECT id, a, b, c FROM ka_pts', 'log') WITH ORDINALITY p(feature, normalization, mean, std, min, max, scale, shift, i)
GROUP BY (s).normalization;
CREATE TEMP TABLE ka_robust AS
SELECT engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, 'robust', n_init => 2) AS m;
SELECT (m).normalization, (m).converged,
       (m).scale::text = (SELECT array_agg(scale ORDER BY i)::text FROM engage.scaling_params('SELECT id, a, b, c FROM ka_pts', 'robust')
                          WITH ORDINALITY p(feature, normalization, mean, std, min, max, scale, shift, i)) AS robust_scale_same_bits,
       (m).shift::text = (SELECT array_agg(shift ORDER BY i)::text FROM engage.scaling_params('SELECT id, a, b, c FROM ka_pts', 'robust')
                          WITH ORDINALITY p(feature, normalization, mean, std, min, max, scale, shift, i)) AS robust_shift_same_bits
FROM ka_robust;
SELECT pg_temp.parallel();
SELECT (SELECT engage.quantile_pass_agg('{0,0,0,1,0,0,2,8,191}', ARRAY[a, b, c])::text FROM ka_pts)
       = (SELECT engage.quantile_pass_agg('{0,0,0,1,0,0,2,8,191}', x)::text
          FROM (SELECT ARRAY[a, b, c] AS x FROM ka_pts ORDER BY c DESC) o) AS pass_same_bits_parallel;
SELECT (SELECT m::text FROM ka_robust)
       = engage.kmeans_fit_sampled('SELECT id, a, b, c FROM ka_pts', 3, 'robust', n_init => 2)::text AS robust_fit_same_bits_parallel;
CREATE TEMP TABLE ka_elbow_lr AS
SELECT n.normalization, e.* FROM (VALUES ('log'), ('robust')) n(normalization),
     LATERAL engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 4, n.normalization, n_init => 2) e;
SELECT pg_temp.serial();
SELECT normalization, count(*) AS rows,
       array_agg(e::text ORDER BY k)
       = (SELECT array_agg(f::text ORDER BY k)
          FROM (SELECT e.normalization, f.* FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 4, e.normalization,
                                                                          n_init => 2) f) f) AS serial_same_rows,
       array_agg(e::text ORDER BY k)
       = (SELECT array_agg(f::text ORDER BY k)
          FROM (SELECT e.normalization, f.* FROM engage.elbow_fit_sampled('SELECT id, a, b, c FROM ka_pts', 1, 4, e.normalization,
                                                                          n_init => 2, in_memory => true) f) f) AS in_memory_same_rows
FROM ka_elbow_lr e GROUP BY normalization ORDER BY normalization;
WITH m AS (SELECT engage.kmeans_model('SELECT id, a, b, c FROM ka_pts', 3, 'log') AS model)
SELECT (SELECT (engage.kmeans_step_agg(model, ARRAY[a, b, c])).sizes FROM ka_pts)
       = (SELECT array_agg(n ORDER BY j) FROM (SELECT engage.kmeans_predict(model, ARRAY[a, b, c]) AS j, count(*) AS n
                                             FROM ka_pts GROUP BY 1) p) AS log_step_sizes_are_predict
FROM m;

DROP TABLE ka_pts, ka_model, ka_cut;
