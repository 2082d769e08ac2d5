-- segments: segments over time (issue 13): the engagement score of
-- engage.user_clusters, run_analysis's warm_start (clusters numbered after
-- the previous run's), the views segment_runs, segment_migration and
-- segment_movers; each number checked against plain SQL on the stored rows.
SET extra_float_digits = 0;
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.seg_xdr', 6000, seed => 11);
RESET client_min_messages;

SELECT engage.run_analysis('public.seg_xdr', k_max => 0, name => 'seg') AS run1 \gset
SELECT run_id = :run1 AS first, warm_start_run, (cluster_model).normalization,
       parameters -> 'warm_start' AS warm_start,
       array_dims((cluster_model).centroids_normalized) AS centroids
FROM engage.run WHERE name = 'seg';
-- a single run: nothing to compare yet
SELECT count(*) FROM engage.segment_runs WHERE name = 'seg';
SELECT count(*) FROM engage.segment_migration WHERE name = 'seg';

-- 1. The engagement score: the distance, in the z-scored space, from the
-- user's point to the centroid of the least engaged cluster (the smallest
-- normalised centroid norm: cluster 1 of a fit).  Plain SQL: the z-scores
-- from the users' metrics (mean and population standard deviation), the
-- centroid from cluster_stats.
CREATE TEMP VIEW seg_score AS
WITH u AS (
	SELECT c.msisdn, c.cluster, c.distance, c.engagement_score,
	       c.sessions::float8 AS x1, COALESCE(c.duration_ms, 0)::float8 AS x2,
	       COALESCE(c.total_bytes, 0)::float8 AS x3
	FROM engage.user_clusters c WHERE c.name = 'seg'
), m AS (
	SELECT avg(x1) AS m1, stddev_pop(x1) AS s1, avg(x2) AS m2, stddev_pop(x2) AS s2,
	       avg(x3) AS m3, stddev_pop(x3) AS s3 FROM u
), low AS (
	SELECT s.cluster, s.centroid_normalized AS c FROM engage.cluster_stats s WHERE s.name = 'seg'
	ORDER BY sqrt(s.centroid_normalized[1] ^ 2 + s.centroid_normalized[2] ^ 2 + s.centroid_normalized[3] ^ 2)
	LIMIT 1
)
SELECT u.msisdn, u.cluster, u.distance, u.engagement_score, low.cluster AS low_cluster,
       sqrt(((u.x1 - m.m1) / m.s1 - low.c[1]) ^ 2 + ((u.x2 - m.m2) / m.s2 - low.c[2]) ^ 2
            + ((u.x3 - m.m3) / m.s3 - low.c[3]) ^ 2) AS expected
FROM u, m, low;
SELECT count(*) AS users, min(low_cluster) AS low_cluster,
       count(*) FILTER (WHERE abs(engagement_score - expected) > 1e-9 * (1 + expected)) AS off,
       count(*) FILTER (WHERE cluster = low_cluster AND engagement_score <> distance) AS off_in_low_cluster,
       count(*) FILTER (WHERE engagement_score IS NULL) AS nulls
FROM seg_score;
-- the average score by cluster
SELECT cluster, round(avg(engagement_score)::numeric, 3) AS avg_score
FROM seg_score GROUP BY cluster ORDER BY cluster;
-- the top 10 by score, by the view and by plain SQL
SELECT (SELECT array_agg(msisdn ORDER BY engagement_score DESC, msisdn) FROM
          (SELECT msisdn, engagement_score FROM engage.user_clusters WHERE name = 'seg'
           ORDER BY engagement_score DESC, msisdn LIMIT 10) t)
     = (SELECT array_agg(msisdn ORDER BY expected DESC, msisdn) FROM
          (SELECT msisdn, expected FROM seg_score ORDER BY expected DESC, msisdn LIMIT 10) t) AS same_top_10;
-- the report's top 10 by score: the view's
SELECT ARRAY(SELECT m[1] FROM regexp_matches(substring(engage.report_html(name => 'seg')
                                                       FROM '<section id="engagement-score">.*?</section>'),
                                             '<tr><td class="n">\d+</td><td>([^<]*)</td>', 'g') m)
     = ARRAY(SELECT msisdn FROM engage.user_clusters WHERE name = 'seg'
             ORDER BY engagement_score DESC, msisdn LIMIT 10) AS report_top_10;
-- least_engaged_cluster: the smallest norm; cluster 1 of a fit
SELECT engage.least_engaged_cluster(cluster_model) FROM engage.run WHERE run_id = :run1;

-- 2. Data changed between two runs: some users' traffic grows tenfold,
-- some users leave, new users come
CREATE TEMP TABLE seg_before AS SELECT * FROM public.seg_xdr;
UPDATE public.seg_xdr SET "Total DL (Bytes)" = "Total DL (Bytes)" * 10
WHERE hashtext("MSISDN/Number"::text) % 7 = 0;
DELETE FROM public.seg_xdr WHERE hashtext("MSISDN/Number"::text) % 11 = 1;
INSERT INTO public.seg_xdr SELECT * FROM seg_before WHERE hashtext("MSISDN/Number"::text) % 13 = 2 LIMIT 300;
UPDATE public.seg_xdr SET "MSISDN/Number" = "MSISDN/Number" + 1e9
WHERE ctid IN (SELECT ctid FROM public.seg_xdr WHERE hashtext("MSISDN/Number"::text) % 13 = 2 LIMIT 300);

SELECT engage.run_analysis('public.seg_xdr', k_max => 0, name => 'seg') AS run2 \gset
SELECT run_id = :run2 AS second, warm_start_run = :run1 AS warm_started_from_run1
FROM engage.run WHERE run_id = :run2;
SELECT from_run = :run1 AS from_run1, to_run = :run2 AS to_run2 FROM engage.segment_runs WHERE name = 'seg';

-- the clusters of the run are those the matching of least total distance
-- (brute force over the 6 orders of 3) gives
WITH p AS (SELECT cluster, centroid_normalized c FROM engage.result_cluster_stats WHERE run_id = :run1),
     q AS (SELECT cluster, centroid_normalized c FROM engage.result_cluster_stats WHERE run_id = :run2),
     perm AS (SELECT ARRAY[a, b, c] AS o FROM generate_series(1, 3) a, generate_series(1, 3) b, generate_series(1, 3) c
              WHERE a <> b AND b <> c AND a <> c),
     cost AS (SELECT perm.o, sum(sqrt((q.c[1] - p.c[1]) ^ 2 + (q.c[2] - p.c[2]) ^ 2 + (q.c[3] - p.c[3]) ^ 2)) AS total
              FROM perm JOIN p ON true JOIN q ON q.cluster = perm.o[p.cluster]
              GROUP BY perm.o)
SELECT (SELECT o FROM cost ORDER BY total LIMIT 1) AS best_order,
       (SELECT count(*) FROM cost) AS orders;

-- Each run's users and their clusters in plain SQL: the rows stored by a
-- run that stored them, else (clusters_on_read, every run here) each
-- user's nearest centroid of the run's model, z-scored by its scaler
-- (ties: the lower cluster)
CREATE TEMP VIEW seg_users AS
SELECT u.run_id, u.msisdn, u.cluster, u.sessions, u.duration_ms, u.total_bytes
FROM engage.result_user_cluster u
UNION ALL
SELECT e.run_id, e.msisdn,
       (SELECT c.c
        FROM generate_series(1, array_length((r.cluster_model).centroids_normalized, 1)) c(c)
        CROSS JOIN LATERAL (
          SELECT sum(((v.x[j] - (r.cluster_model).shift[j]) / (r.cluster_model).scale[j]
                      - (r.cluster_model).centroids_normalized[c.c][j]) ^ 2) AS dist
          FROM generate_series(1, 3) j) d
        ORDER BY d.dist, c.c LIMIT 1),
       e.sessions, e.duration_ms, e.total_bytes
FROM engage.result_user_engagement e JOIN engage.run r USING (run_id)
CROSS JOIN LATERAL (SELECT ARRAY[e.sessions, COALESCE(e.duration_ms, 0), COALESCE(e.total_bytes, 0)]::float8[] AS x) v
WHERE r.clusters_on_read;
SELECT count(*) AS runs_on_read FROM engage.run WHERE run_id IN (:run1, :run2) AND clusters_on_read;

-- the migration, against plain SQL on the per-user rows of both runs
CREATE TEMP VIEW seg_expected_migration AS
SELECT a.cluster AS from_cluster, b.cluster AS to_cluster, count(*) AS users
FROM (SELECT DISTINCT msisdn FROM seg_users WHERE run_id IN (:run1, :run2)) m
LEFT JOIN seg_users a ON a.run_id = :run1 AND a.msisdn = m.msisdn
LEFT JOIN seg_users b ON b.run_id = :run2 AND b.msisdn = m.msisdn
GROUP BY 1, 2;
SELECT (SELECT count(*) FROM seg_expected_migration) AS pairs,
       (SELECT count(*) FROM (SELECT from_cluster, to_cluster, users FROM engage.segment_migration WHERE name = 'seg'
                              EXCEPT ALL SELECT * FROM seg_expected_migration) d) AS unexpected,
       (SELECT count(*) FROM (SELECT * FROM seg_expected_migration
                              EXCEPT ALL SELECT from_cluster, to_cluster, users FROM engage.segment_migration WHERE name = 'seg') d) AS missing;
-- new and gone subscribers, against the tables' MSISDNs
SELECT sum(users) FILTER (WHERE from_cluster IS NULL) AS new_users,
       (SELECT count(DISTINCT "MSISDN/Number") FROM public.seg_xdr x WHERE x."MSISDN/Number" IS NOT NULL
          AND NOT EXISTS (SELECT FROM seg_before b WHERE b."MSISDN/Number" = x."MSISDN/Number")) AS expected_new,
       sum(users) FILTER (WHERE to_cluster IS NULL) AS gone_users,
       (SELECT count(DISTINCT "MSISDN/Number") FROM seg_before b WHERE b."MSISDN/Number" IS NOT NULL
          AND NOT EXISTS (SELECT FROM public.seg_xdr x WHERE b."MSISDN/Number" = x."MSISDN/Number")) AS expected_gone,
       bool_and(from_label IS NOT DISTINCT FROM engage.cluster_label(from_cluster, 3)
                AND to_label IS NOT DISTINCT FROM engage.cluster_label(to_cluster, 3)) AS labels
FROM engage.segment_migration WHERE name = 'seg';
-- the movers, against plain SQL
SELECT (SELECT count(*) FROM engage.segment_movers WHERE name = 'seg') AS movers,
       (SELECT sum(users) FROM seg_expected_migration WHERE from_cluster <> to_cluster) AS expected,
       (SELECT count(*) FROM (
          SELECT msisdn, from_cluster, to_cluster, from_sessions, to_sessions, from_duration_ms, to_duration_ms,
                 from_total_bytes, to_total_bytes FROM engage.segment_movers WHERE name = 'seg'
          EXCEPT
          SELECT a.msisdn, a.cluster, b.cluster, a.sessions, b.sessions, a.duration_ms, b.duration_ms,
                 a.total_bytes, b.total_bytes
          FROM seg_users a JOIN seg_users b ON b.msisdn = a.msisdn
          WHERE a.run_id = :run1 AND b.run_id = :run2 AND a.cluster <> b.cluster) d) AS unexpected;
-- 3. Stability: the previous run numbered its clusters otherwise (its
-- clusters made 3, 1, 2, as a warm start would have); a run on the same
-- data with the same seed fits the same clusters and keeps those numbers,
-- so that no subscriber moves (the users' clusters follow the model's)
UPDATE engage.run SET cluster_model = engage.kmeans_model_clusters(cluster_model, '{2,3,1}') WHERE run_id = :run2;
UPDATE engage.result_cluster_stats SET cluster = (ARRAY[3, 1, 2])[cluster] + 10 WHERE run_id = :run2;
UPDATE engage.result_cluster_stats SET cluster = cluster - 10, label = engage.cluster_label(cluster - 10, 3) WHERE run_id = :run2;
SELECT engage.run_analysis('public.seg_xdr', k_max => 0, name => 'seg') AS run3 \gset
SELECT warm_start_run = :run2 AS warm_started_from_run2 FROM engage.run WHERE run_id = :run3;
SELECT from_cluster, from_label, to_cluster, to_label, users FROM engage.segment_migration WHERE name = 'seg'
ORDER BY from_cluster, to_cluster;
SELECT count(*) AS movers FROM engage.segment_movers WHERE name = 'seg';
-- the stored model and statistics follow the numbers: each user is
-- nearest its own cluster's centroid, the least engaged cluster is now 3
SELECT engage.least_engaged_cluster(cluster_model) AS least_engaged,
       (SELECT count(*) FILTER (WHERE engage.kmeans_predict(r.cluster_model, ARRAY[u.sessions, COALESCE(u.duration_ms, 0),
                                                                            COALESCE(u.total_bytes, 0)]::float8[]) <> u.cluster)
               || ' of ' || count(*)
        FROM seg_users u WHERE u.run_id = :run3) AS misplaced,
       (SELECT count(*) FROM engage.result_cluster_stats s
        WHERE s.run_id = :run3 AND s.centroid_normalized <> ARRAY[(r.cluster_model).centroids_normalized[s.cluster][1],
                                                              (r.cluster_model).centroids_normalized[s.cluster][2],
                                                              (r.cluster_model).centroids_normalized[s.cluster][3]]) AS stats_off,
       (SELECT array_agg(users ORDER BY cluster) FROM engage.result_cluster_stats WHERE run_id = :run3)
       = (SELECT array_agg(users ORDER BY cluster) FROM engage.result_cluster_stats WHERE run_id = :run2) AS same_sizes
FROM engage.run r WHERE r.run_id = :run3;
-- the score does not depend on the numbering
SELECT count(*) FILTER (WHERE abs(engagement_score - expected) > 1e-9 * (1 + expected)) AS off,
       min(low_cluster) AS low_cluster
FROM seg_score;

-- warm_start false: numbered by ascending centroid norm again, everyone
-- who was in the renumbered clusters "moves"
SELECT engage.run_analysis('public.seg_xdr', k_max => 0, name => 'seg', warm_start => false) AS run4 \gset
SELECT warm_start_run IS NULL AS no_warm_start, parameters -> 'warm_start' AS warm_start FROM engage.run WHERE run_id = :run4;
SELECT from_cluster, to_cluster, users FROM engage.segment_migration WHERE name = 'seg' ORDER BY 1, 2;
-- another k: nothing to match
SELECT engage.run_analysis('public.seg_xdr', k => 2, k_max => 0, name => 'seg') AS run5 \gset
SELECT warm_start_run IS NULL AS no_warm_start FROM engage.run WHERE run_id = :run5;

-- 4. match_clusters against brute force: 6 centroids in 4 dimensions
-- (720 orders), and k = 1
WITH p AS (SELECT i, ARRAY[sin(i), cos(3 * i), sin(i * i), cos(i) * 2] AS c FROM generate_series(1, 6) i),
     q AS (SELECT i, ARRAY[sin(7 * i + 1), cos(i), sin(2 * i), cos(5 * i)] AS c FROM generate_series(1, 6) i),
     pm AS (SELECT array_agg(c ORDER BY i) AS m FROM p),
     qm AS (SELECT array_agg(c ORDER BY i) AS m FROM q),
     d AS (SELECT p.i AS pi, q.i AS qi,
                  sqrt((SELECT sum((p.c[f] - q.c[f]) ^ 2) FROM generate_series(1, 4) f)) AS dist FROM p, q),
     perm AS (
       WITH RECURSIVE r(o) AS (SELECT ARRAY[]::int[] UNION ALL
                               SELECT r.o || j FROM r, generate_series(1, 6) j
                               WHERE cardinality(r.o) < 6 AND NOT j = ANY (r.o))
       SELECT o FROM r WHERE cardinality(o) = 6),
     cost AS (SELECT perm.o, sum(d.dist) AS total FROM perm JOIN d ON d.qi = perm.o[d.pi] GROUP BY perm.o),
     h AS (SELECT engage.match_clusters(pm.m, qm.m) AS o FROM pm, qm)
SELECT (SELECT count(*) FROM cost) AS orders, h.o AS hungarian,
       (SELECT o FROM cost ORDER BY total LIMIT 1) AS brute_force,
       abs((SELECT total FROM cost WHERE cost.o = h.o) - (SELECT min(total) FROM cost)) < 1e-12 AS least_total
FROM h;
SELECT engage.match_clusters('{{1,2}}', '{{5,6}}') AS k1,
       engage.match_clusters('{{0,0},{10,10},{5,5}}', '{{9,9},{6,6},{1,1}}') AS reversed;

-- kmeans_model_clusters: a permutation and one cluster
SELECT (m).centroids_normalized = (engage.kmeans_model_clusters(engage.kmeans_model_clusters(m, '{3,1,2}'), '{2,3,1}')).centroids_normalized AS round_trip,
       (engage.kmeans_model_clusters(m, '{2}')).sizes = ARRAY[(m).sizes[2]] AS one_size,
       array_dims((engage.kmeans_model_clusters(m, '{2}')).centroids) AS one_centroid
FROM (SELECT cluster_model AS m FROM engage.run WHERE run_id = :run1) r;

DROP VIEW seg_score;
DROP VIEW seg_expected_migration;
DROP VIEW seg_users;
DROP TABLE seg_before;
DROP TABLE public.seg_xdr;
