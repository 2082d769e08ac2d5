-- kmeans: normalisation, K-means, assignment of new points, the elbow;
-- results checked against plain SQL, bad input.
SET extra_float_digits = 0;

-- Six points in two obvious groups, and one far away
CREATE TABLE pts (id int, a float8, b float8);
INSERT INTO pts VALUES (1, 0, 0), (2, 0, 1), (3, 1, 0), (4, 10, 10), (5, 10, 11), (6, 11, 10),
                       (7, 50, 50);

-- normalization 'none': clusters numbered by ascending centroid norm
SELECT key, cluster, round(distance::numeric, 6) AS distance
FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, normalization => 'none')
ORDER BY key::int;
SELECT cluster, size, centroid, centroid_normalized, round(inertia::numeric, 6) AS inertia,
       round(total_inertia::numeric, 6) AS total_inertia, converged, features
FROM engage.kmeans_centroids('SELECT id, a, b FROM pts', 3, normalization => 'none')
ORDER BY cluster;

-- kmeans_centroids agrees with kmeans_cluster (same arguments, same clustering)
SELECT c.cluster, c.size = k.n AS size_agrees,
       abs(c.inertia - k.ss) < 1e-9 AS inertia_agrees
FROM engage.kmeans_centroids('SELECT id, a, b FROM pts', 2, normalization => 'zscore') c
JOIN (SELECT cluster, count(*) AS n, sum(distance ^ 2) AS ss
      FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 2, normalization => 'zscore')
      GROUP BY cluster) k USING (cluster)
ORDER BY 1;

-- The result depends on the points, not on the order the query returns them
SELECT count(*) AS differing FROM (
  (SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts ORDER BY id', 3, seed => 7)
   EXCEPT
   SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts ORDER BY id DESC', 3, seed => 7))
  UNION ALL
  (SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts ORDER BY a * b, id', 3, seed => 7, init => 'random')
   EXCEPT
   SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts ORDER BY id DESC', 3, seed => 7, init => 'random'))) d;

-- Features as one double precision[] column, and integer / numeric columns
SELECT count(*) AS differing FROM (
  SELECT * FROM engage.kmeans_cluster('SELECT id, ARRAY[a, b] FROM pts', 3)
  EXCEPT
  SELECT * FROM engage.kmeans_cluster('SELECT id, a::int, b::numeric FROM pts', 3)) d;

-- numeric features: bit for bit the double precision of numeric_float8
-- (integers up to 2^53 in magnitude are converted without their text form,
-- the others through it): around 2^53, negative, with a scale, zero, large,
-- stored in a table (short varlena headers) and as constants
CREATE TABLE num_edge (id int, v numeric);
INSERT INTO num_edge VALUES (1, 9007199254740991), (2, 9007199254740992), (3, 9007199254740993),
  (4, -9007199254740991), (5, -9007199254740992), (6, -9007199254740993), (7, 1.50), (8, 1.00),
  (9, 0), (10, -0.0), (11, -1), (12, 0.0001), (13, -0.1), (14, 9999999999999999), (15, 10000000000000000),
  (16, 123456789012.000), (17, 99990000), (18, 1e15), (19, 18014398509481985), (20, 9007199254740995),
  (21, 1e99), (22, -1e99), (23, 98765432109876543210987654321), (24, 12345678.9), (25, 4503599627370497.5),
  (26, 100000000), (27, -10000), (28, 1e-30);
INSERT INTO num_edge SELECT 100 + i, (CASE i % 4 WHEN 0 THEN floor(2 ^ (i % 61) * 0.7377)
  WHEN 1 THEN -floor(2 ^ (i % 57) * 0.913) WHEN 2 THEN round((i * 7919.123457)::numeric, i % 6)
  ELSE 9007199254740992 + i % 21 - 10 END)::numeric FROM generate_series(1, 2000) i;
SELECT count(*) AS points,
       count(*) FILTER (WHERE float8send(p.features[1]) = float8send(e.v::float8)) AS same_double
FROM engage.normalize_points('SELECT id, v FROM num_edge', 'none') p JOIN num_edge e ON e.id = p.key::int;
SELECT count(*) AS points,
       count(*) FILTER (WHERE float8send(p.features[1]) = float8send(e.v::float8)) AS same_double
FROM engage.normalize_points('SELECT id, v FROM (VALUES (1, 9007199254740992::numeric), (2, -9007199254740993::numeric),
                              (3, 1.50::numeric), (4, 123::numeric), (5, -0.5::numeric)) t(id, v)', 'none') p
JOIN (VALUES (1, 9007199254740992::numeric), (2, -9007199254740993::numeric), (3, 1.50::numeric),
             (4, 123::numeric), (5, -0.5::numeric)) e(id, v) ON e.id = p.key::int;
-- NaN and infinite numerics are refused, too large ones are too large
SELECT * FROM engage.normalize_points($$SELECT 1, 'NaN'::numeric$$, 'none');
SELECT * FROM engage.normalize_points($$SELECT 1, '-Infinity'::numeric$$, 'none');
SELECT * FROM engage.normalize_points($$SELECT 1, 1e400::numeric$$, 'none');

-- Keys of any length and encoding come back unchanged (short and long text)
SELECT count(*) AS points, count(*) FILTER (WHERE c.key = k.key) AS keys_back
FROM engage.kmeans_cluster($$SELECT repeat('é', i * 7) || i, i, i % 7 FROM generate_series(1, 60) i$$, 2) c
JOIN (SELECT repeat('é', i * 7) || i AS key FROM generate_series(1, 60) i) k USING (key);

-- Given initial centroids (in the features' units)
SELECT cluster, size, centroid
FROM engage.kmeans_centroids('SELECT id, a, b FROM pts', 2, normalization => 'none',
                             init => 'given', initial_centroids => '{{0,0},{50,50}}')
ORDER BY cluster;

-- Scaling parameters against SQL's own statistics
SELECT feature, normalization,
       abs(mean - avg_) < 1e-12 AS mean_ok, abs(std - std_) < 1e-12 AS std_ok,
       min = min_ AS min_ok, max = max_ AS max_ok, scale, shift
FROM engage.scaling_params('SELECT id, a, b FROM pts', 'zscore') s
JOIN (SELECT 'a' AS feature, avg(a) AS avg_, stddev_pop(a) AS std_, min(a) AS min_, max(a) AS max_ FROM pts
      UNION ALL
      SELECT 'b', avg(b), stddev_pop(b), min(b), max(b) FROM pts) q USING (feature)
ORDER BY feature;
SELECT feature, normalization, scale, shift
FROM engage.scaling_params('SELECT id, a, b FROM pts', 'minmax') ORDER BY feature;

-- Normalised points: z-scores and min-max values as SQL computes them
SELECT count(*) AS points,
       count(*) FILTER (WHERE abs(n.features[1] - (p.a - s.ma) / s.sa) > 1e-12
                           OR abs(n.features[2] - (p.b - s.mb) / s.sb) > 1e-12) AS zscore_differing
FROM engage.normalize_points('SELECT id, a, b FROM pts') n
JOIN pts p ON p.id::text = n.key,
     (SELECT avg(a) AS ma, stddev_pop(a) AS sa, avg(b) AS mb, stddev_pop(b) AS sb FROM pts) s;
SELECT key, features FROM engage.normalize_points('SELECT id, a, b FROM pts', 'minmax') ORDER BY key::int;

-- A constant feature: z-score scale 1 (maps to 0), min-max maps to 0
SELECT feature, scale, shift FROM engage.scaling_params('SELECT id, a, 5 AS c FROM pts', 'zscore') ORDER BY 1;
SELECT DISTINCT features[2] FROM engage.normalize_points('SELECT id, a, 5 AS c FROM pts', 'minmax');

-- A model assigns new points as the clustering did
CREATE TABLE model AS
SELECT engage.kmeans_model('SELECT id, a, b FROM pts', 3, seed => 3) AS m;
SELECT (m).features, (m).normalization, (m).sizes, (m).n_points, (m).converged FROM model;
-- the inertia of each cluster: kmeans_centroids' inertia, adding up to the model's
SELECT c.cluster, abs((m).cluster_inertia[c.cluster] - c.inertia) <= 1e-12 * c.total_inertia AS inertia_agrees,
       abs((SELECT sum(x) FROM unnest((m).cluster_inertia) x) - (m).inertia) <= 1e-12 * (m).inertia AS total_agrees
FROM model, engage.kmeans_centroids('SELECT id, a, b FROM pts', 3, seed => 3) c ORDER BY 1;
SELECT count(*) AS points,
       count(*) FILTER (WHERE c.cluster <> engage.kmeans_predict(model.m, ARRAY[p.a, p.b])) AS differing
FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, seed => 3) c
JOIN pts p ON p.id::text = c.key, model;
SELECT engage.kmeans_predict(m, '{0.2,0.3}'), engage.kmeans_predict(m, '{9,9}'),
       engage.kmeans_predict(m, '{60,40}'), engage.kmeans_predict(m, NULL),
       engage.kmeans_predict(m, '{1,NULL}')
FROM model;
-- kmeans_assign: the whole points query in one pass, with distances; on the
-- points the model was fitted on, kmeans_cluster's result
SELECT count(*) AS points,
       count(*) FILTER (WHERE a.cluster IS DISTINCT FROM c.cluster) AS clusters_differing,
       max(abs(a.distance - c.distance)) AS largest_distance_difference
FROM model, engage.kmeans_assign(model.m, 'SELECT id, a, b FROM pts') a
FULL JOIN engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, seed => 3) c USING (key);
-- and kmeans_predict's clusters for new points, with their distance checked
-- against the model's normalised centroids
SELECT a.key, a.cluster, a.cluster = engage.kmeans_predict(m, ARRAY[v.a, v.b]) AS as_predict,
       round(a.distance::numeric, 9) = round(sqrt(((v.a - (m).shift[1]) / (m).scale[1] - (m).centroids_normalized[a.cluster][1]) ^ 2
                                               + ((v.b - (m).shift[2]) / (m).scale[2] - (m).centroids_normalized[a.cluster][2]) ^ 2)::numeric, 9)
         AS distance_checked
FROM model,
     engage.kmeans_assign(model.m, 'SELECT * FROM (VALUES (''p'', 0.2::float8, 0.3::float8), (''q'', 9, 9), (''r'', 60, 40)) v') a
JOIN (VALUES ('p', 0.2::float8, 0.3::float8), ('q', 9, 9), ('r', 60, 40)) v(key, a, b) USING (key)
ORDER BY a.key;
-- usable in a view
CREATE VIEW pts_clusters AS
SELECT p.id, engage.kmeans_predict((SELECT m FROM model), ARRAY[p.a, p.b]) AS cluster FROM pts p;
SELECT * FROM pts_clusters ORDER BY id;

------------------------------------------------------------------------------
-- Real per-user engagement (106,855 TellCo users): z-scored, k = 3
------------------------------------------------------------------------------
CREATE TABLE users (msisdn float8, label int, sessions float8, duration_ms float8, total_bytes float8);
\copy users FROM 'test/data/user_engagement_real.csv' CSV HEADER

CREATE TABLE user_clusters AS
SELECT * FROM engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3);
-- the key joins back to the source through its text form
SELECT count(*) AS users, count(u.msisdn) AS joined
FROM user_clusters c LEFT JOIN users u ON u.msisdn::text = c.key;

-- Threads share the restarts (engage.threads); the result does not change
SET engage.threads = 1;
CREATE TABLE user_clusters_1 AS
SELECT * FROM engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3);
SET engage.threads = 3;
SELECT count(*) AS differing FROM (
  (SELECT * FROM user_clusters_1 EXCEPT SELECT * FROM user_clusters)
  UNION ALL
  (SELECT * FROM engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3)
   EXCEPT SELECT * FROM user_clusters_1)) d;
RESET engage.threads;

-- Cluster statistics: min, max, average and total of each metric per cluster
SELECT c.cluster, count(*) AS users,
       min(u.sessions) AS min_sessions, max(u.sessions) AS max_sessions,
       round(avg(u.sessions)::numeric, 3) AS avg_sessions, sum(u.sessions) AS total_sessions,
       min(u.duration_ms) AS min_duration, max(u.duration_ms) AS max_duration,
       round(avg(u.duration_ms)::numeric) AS avg_duration, sum(u.duration_ms) AS total_duration,
       min(u.total_bytes) AS min_traffic, max(u.total_bytes) AS max_traffic,
       round(avg(u.total_bytes)::numeric) AS avg_traffic, sum(u.total_bytes::numeric) AS total_traffic
FROM user_clusters c JOIN users u ON u.msisdn::text = c.key
GROUP BY c.cluster ORDER BY c.cluster;

-- Run to convergence (tol 0: until no point changes cluster), the centroids
-- in the original units are the clusters' means
CREATE TABLE user_clusters_exact AS
SELECT * FROM engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3, tol => 0);
SELECT k.cluster, k.size = s.n AS size_agrees,
       abs(k.centroid[1] - s.m1) < 1e-9 * s.m1 AS sessions_mean,
       abs(k.centroid[2] - s.m2) < 1e-9 * s.m2 AS duration_mean,
       abs(k.centroid[3] - s.m3) < 1e-9 * s.m3 AS traffic_mean,
       k.converged
FROM engage.kmeans_centroids('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3, tol => 0) k
JOIN (SELECT c.cluster, count(*) AS n, avg(u.sessions) AS m1, avg(u.duration_ms) AS m2,
             avg(u.total_bytes) AS m3
      FROM user_clusters_exact c JOIN users u ON u.msisdn::text = c.key GROUP BY 1) s USING (cluster)
ORDER BY 1;

-- kmeans_cluster_rows: kmeans_cluster's clustering from one read, returned as
-- the query's rows; the same rows (key, cluster, distance) in the same order
-- as kmeans_cluster, the model of kmeans_model with the same arguments on the
-- first row, and the carried columns as the query returned them
CREATE TABLE user_rows AS
SELECT r.*, row_number() OVER () AS ord
FROM engage.kmeans_cluster_rows(
       'SELECT msisdn, sessions, duration_ms, total_bytes, label, CASE WHEN label = 1 THEN NULL ELSE sessions::numeric / 3 END AS third FROM users',
       3, tol => 0, features => 3)
     AS r(msisdn float8, sessions float8, duration_ms float8, total_bytes float8, label int, third numeric,
          cluster integer, distance double precision, model engage.kmeans_model);
SELECT count(*) AS users,
       count(*) FILTER (WHERE c.key IS NULL OR r.msisdn IS NULL) AS unmatched,
       count(*) FILTER (WHERE c.ord <> r.ord) AS order_differs,
       count(*) FILTER (WHERE c.cluster <> r.cluster OR c.distance <> r.distance) AS clusters_differ
FROM user_rows r
FULL JOIN (SELECT k.*, row_number() OVER () AS ord FROM user_clusters_exact k) c ON c.key = r.msisdn::text;
SELECT count(*) FILTER (WHERE r.model IS NOT NULL) AS models, bool_and(r.model IS NULL) FILTER (WHERE r.ord > 1) AS only_first,
       (SELECT r1.model = engage.kmeans_model('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3, tol => 0)
        FROM user_rows r1 WHERE r1.ord = 1) AS model_agrees
FROM user_rows r;
SELECT count(*) AS users,
       count(*) FILTER (WHERE (r.sessions, r.duration_ms, r.total_bytes, r.label) IS DISTINCT FROM (u.sessions, u.duration_ms, u.total_bytes, u.label)) AS values_differ,
       count(*) FILTER (WHERE r.third IS DISTINCT FROM CASE WHEN u.label = 1 THEN NULL ELSE u.sessions::numeric / 3 END) AS carried_differ,
       count(*) FILTER (WHERE r.third IS NULL) = (SELECT count(*) FROM users WHERE label = 1) AS nulls_carried
FROM user_rows r JOIN users u ON u.msisdn = r.msisdn;
-- the features are the first columns after the key, the others only carried
-- (here the text key of a column that is not a feature); any key type, in
-- its text form's canonical order, as kmeans_cluster; the options
SELECT count(*) AS points,
       count(*) FILTER (WHERE (c.key, c.cluster, c.distance) IS DISTINCT FROM (r.id::text, r.cluster, r.distance)) AS differing
FROM (SELECT r.*, row_number() OVER () AS ord
      FROM engage.kmeans_cluster_rows('SELECT id, b, a, id::text AS name FROM pts', 2, 'minmax', seed => 5, features => 2)
           AS r(id int, b float8, a float8, name text, cluster int, distance float8)) r
FULL JOIN (SELECT c.*, row_number() OVER () AS ord
           FROM engage.kmeans_cluster('SELECT id, b, a FROM pts', 2, 'minmax', seed => 5) c) c USING (ord);
SELECT r.d, r.a, length(r.note) AS note_length, r.cluster, round(r.distance::numeric, 6) AS distance,
       r.cluster = c.cluster AND r.distance = c.distance AS as_kmeans_cluster
FROM engage.kmeans_cluster_rows($$SELECT date '2026-01-01' + id AS d, ARRAY[a, b] AS f, a::numeric(5,1) AS a,
                                          repeat('x', id * 1000) || id AS note FROM pts$$,
                                2, init => 'given', initial_centroids => '{{0,0},{40,40}}', features => 1)
     AS r(d date, f float8[], a numeric, note text, cluster int, distance float8)
JOIN engage.kmeans_cluster($$SELECT date '2026-01-01' + id, ARRAY[a, b] FROM pts$$,
                           2, init => 'given', initial_centroids => '{{0,0},{40,40}}') c ON c.key = r.d::text
ORDER BY r.d;
-- carried values of every length and alignment come back whole: short and
-- long text (stored compressed, or out of line), double-aligned arrays,
-- after 1-byte ones
CREATE TABLE pts_long AS
SELECT id, a, b, repeat('ab', id * 200 * id) || id AS note, id % 2 = 0 AS flag, ARRAY[a, b, id] AS arr,
       id::smallint AS small, (SELECT string_agg(md5(i::text || id), '') FROM generate_series(1, 20 * id) i) AS ext
FROM pts;
SELECT r.id, r.note = p.note AS note_whole, length(r.note) AS note_length, r.arr = p.arr AS array_whole,
       r.flag, r.small = r.id AS small_whole, r.ext = p.ext AS ext_whole, length(r.ext) AS ext_length
FROM engage.kmeans_cluster_rows('SELECT id, a, b, note, flag, arr, small, ext FROM pts_long', 2, features => 2)
     AS r(id int, a float8, b float8, note text, flag boolean, arr float8[], small smallint, ext text,
          cluster int, distance float8)
JOIN pts_long p USING (id)
ORDER BY r.id;
SELECT count(*) FILTER (WHERE pg_column_size(note) < length(note)) AS notes_stored_compressed FROM pts_long;

-- The elbow on a sample (the whole curve is checked against scikit-learn in
-- test/python): clusters grow more alike as k grows
SELECT k, inertia < lag(inertia) OVER (ORDER BY k) AS decreasing,
       silhouette IS NULL AS no_silhouette, is_elbow
FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users WHERE msisdn::bigint % 10 = 0',
                          1, 6, n_init => 3)
ORDER BY k;

-- Three clear blobs: the elbow is at k = 3
SELECT k, is_elbow, silhouette > 0.5 AS well_separated
FROM engage.elbow_inertia($$SELECT i, (i % 3) * 100 + (i % 7) * 0.1, (i % 3) * 50 + (i % 5) * 0.1
                            FROM generate_series(1, 300) i$$, 1, 8, normalization => 'none')
ORDER BY k;
-- A single k has no elbow
SELECT k, is_elbow FROM engage.elbow_inertia('SELECT id, a, b FROM pts', 2, 2);

-- The elbow's restarts on a sample of 32,768 of the 106,855 TellCo users
-- (what elbow_inertia chooses above 200,000 points; the inertias and
-- silhouettes always of all users): every inertia at most 1e-3 above the
-- exact curve's (restarts on every user), the same elbow
CREATE TEMP TABLE elbow_exact AS
SELECT * FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', sample => 0);
CREATE TEMP TABLE elbow_sampled AS
SELECT * FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', sample => 32768);
SELECT count(*) AS ks, max(e.sample_size) AS exact_sample, min(s.sample_size) AS sample_min,
       max(s.sample_size) AS sample_max,
       max((s.inertia - e.inertia) / e.inertia) <= 1e-3 AS within_1e_3,
       bool_and(s.is_elbow = e.is_elbow) AS same_elbow,
       bool_and(s.k = 1 OR abs(s.silhouette - e.silhouette) < 0.05) AS similar_silhouettes
FROM elbow_exact e JOIN elbow_sampled s USING (k);
-- Deterministic: the same curve with one thread and with the points in
-- another order
SET engage.threads = 1;
CREATE TEMP TABLE elbow_again AS
SELECT * FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users ORDER BY msisdn DESC',
                                   sample => 32768);
RESET engage.threads;
SELECT count(*) AS differing FROM (
  (TABLE elbow_sampled EXCEPT ALL TABLE elbow_again)
  UNION ALL
  (TABLE elbow_again EXCEPT ALL TABLE elbow_sampled)) d;

------------------------------------------------------------------------------
-- Bad input: a clear error, never a crash
------------------------------------------------------------------------------
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 0);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 8);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, n_init => 0);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, max_iter => 0);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, tol => -1);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, tol => 'NaN');
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, normalization => 'log10');
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, init => 'kmeans||');
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, init => 'given');
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 2, init => 'given', initial_centroids => '{1,2,3,4}');
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 2, initial_centroids => '{{0,0},{1,1}}');
SELECT * FROM engage.kmeans_cluster(NULL, 3);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', NULL);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts', 3, seed => NULL);
SELECT * FROM engage.kmeans_cluster('SELECT id, a, b FROM pts WHERE false', 1);
SELECT * FROM engage.kmeans_cluster('SELEC id FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id, a::text FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id, CASE WHEN id = 5 THEN NULL ELSE a END FROM pts', 1);
SELECT * FROM engage.kmeans_cluster($$SELECT id, CASE WHEN id = 5 THEN 'NaN' ELSE a END FROM pts$$, 1);
SELECT * FROM engage.kmeans_cluster($$SELECT id, CASE WHEN id = 6 THEN '-Infinity' ELSE a END FROM pts$$, 1);
SELECT * FROM engage.kmeans_cluster('SELECT NULL::int, a FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id, CASE WHEN id = 2 THEN ARRAY[a] ELSE ARRAY[a, b] END FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id, ARRAY[[a, b]] FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id, ARRAY[a, NULL] FROM pts', 1);
SELECT * FROM engage.kmeans_cluster('SELECT id, 1, 1 FROM pts', 2);
SELECT * FROM engage.kmeans_cluster('INSERT INTO pts VALUES (8, 1, 1) RETURNING id, a, b', 1);
SELECT * FROM engage.kmeans_cluster('DELETE FROM pts', 1);
SELECT count(*) AS rows_unchanged FROM pts;
SELECT * FROM engage.elbow_inertia('SELECT id, a, b FROM pts', 4, 2);
SELECT * FROM engage.elbow_inertia('SELECT id, a, b FROM pts', 1, 20);
SELECT * FROM engage.scaling_params('SELECT id, a, b FROM pts', NULL);
SELECT engage.kmeans_predict(m, '{1,2,3}') FROM model;
SELECT engage.kmeans_predict(NULL, '{1,2}');

-- Past engage.max_memory: an error with a hint, before the memory is taken
SET engage.max_memory = '1MB';
SELECT count(*) FROM engage.kmeans_cluster('SELECT i, i, i, i FROM generate_series(1, 50000) i', 2);
RESET engage.max_memory;

-- statement_timeout stops a long clustering, with threads or without (the
-- error's context, the step that was stopped, depends on timing: not shown)
SET statement_timeout = '200ms';
\set SHOW_CONTEXT never
SELECT count(*) FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 1, 10);
SET engage.threads = 1;
SELECT count(*) FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 1, 10);
\set SHOW_CONTEXT errors
RESET engage.threads;
RESET statement_timeout;
SELECT count(*) AS clusters_after_cancel
FROM engage.kmeans_centroids('SELECT id, a, b FROM pts', 3);
