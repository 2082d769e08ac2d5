-- segments_time: segments over time (issue 13), time windows and hours of
-- activity: run_analysis's since, until and start_column on TellCo's text
-- starts (M/D/YYYY H:MM, some damaged) and on timestamp and timestamptz
-- columns, the rows left out for their start, engage.cluster_activity, and
-- the report's hours of activity and segments over time; every number
-- against plain SQL on the same rows (the starts parsed by a regular
-- expression and make_timestamp, not by parse_start_time).
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.win_xdr', 8000, seed => 21);
RESET client_min_messages;

-- Damaged starts: texts that do not parse, dates that do not exist, NULLs,
-- and starts with seconds (which parse)
UPDATE public.win_xdr SET "Start" = 'n/a' WHERE "Dur. (ms)"::bigint % 41 = 0;
UPDATE public.win_xdr SET "Start" = NULL WHERE "Dur. (ms)"::bigint % 43 = 1;
UPDATE public.win_xdr SET "Start" = '2/30/2019 10:00' WHERE "Dur. (ms)"::bigint % 47 = 2;
UPDATE public.win_xdr SET "Start" = '4/10/2019 24:00' WHERE "Dur. (ms)"::bigint % 53 = 3;
UPDATE public.win_xdr SET "Start" = "Start" || ':30' WHERE "Dur. (ms)"::bigint % 59 = 4;

-- The start as plain SQL reads it: NULL unless the text is M/D/YYYY H:MM
-- (seconds optional) of a date and time that exist
CREATE FUNCTION pg_temp.start_of(t text) RETURNS timestamp LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	p text[] := regexp_match(t, '^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$');
BEGIN
	IF p IS NULL OR p[1]::int NOT BETWEEN 1 AND 12 OR p[3]::int < 1 OR p[4]::int > 23 OR p[5]::int > 59
	   OR coalesce(p[6], '0')::int > 59 THEN
		RETURN NULL;
	END IF;
	IF p[2]::int NOT BETWEEN 1 AND extract(day FROM make_date(p[3]::int, p[1]::int, 1) + interval '1 month - 1 day') THEN
		RETURN NULL;
	END IF;
	RETURN make_timestamp(p[3]::int, p[1]::int, p[2]::int, p[4]::int, p[5]::int, coalesce(p[6], '0')::int);
END
$$;
SELECT count(*) AS rows, count(*) FILTER (WHERE pg_temp.start_of("Start") IS NULL) AS no_time,
       count(*) FILTER (WHERE "Start" IS NULL) AS null_starts,
       count(*) FILTER (WHERE "Start" ~ ':\d\d:30$') AS with_seconds,
       count(*) FILTER (WHERE pg_temp.start_of("Start") IS DISTINCT FROM engage.parse_start_time("Start")) AS parsed_otherwise
FROM public.win_xdr;

-- 1. A window of a week: [2019-04-08, 2019-04-15)
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win',
                           since => '2019-04-08', until => '2019-04-15') AS run1 \gset
CREATE TEMP VIEW win_rows AS
SELECT x.*, pg_temp.start_of(x."Start") AS st FROM public.win_xdr x;
-- the run log against the rows: read = the window's rows and those whose
-- start gives no time (left out), without subscriber = the window's rows
-- without MSISDN, users = the window's MSISDNs
SELECT r.rows_read = (SELECT count(*) FROM win_rows WHERE st IS NULL OR (st >= '2019-04-08' AND st < '2019-04-15')) AS rows_read,
       r.rows_unparsed_start = (SELECT count(*) FROM win_rows WHERE st IS NULL) AS left_out,
       r.rows_without_subscriber = (SELECT count(*) FROM win_rows WHERE "MSISDN/Number" IS NULL
                                    AND st >= '2019-04-08' AND st < '2019-04-15') AS without_subscriber,
       r.users = (SELECT count(DISTINCT "MSISDN/Number") FROM win_rows WHERE st >= '2019-04-08' AND st < '2019-04-15') AS users,
       r.since, r.until, r.start_column, r.status
FROM engage.run r WHERE r.run_id = :run1;
SELECT rows_read, rows_without_subscriber, rows_unparsed_start, users FROM engage.run WHERE run_id = :run1;
-- each user's engagement against plain SQL on the window's rows
CREATE TEMP VIEW win_expected_users AS
SELECT "MSISDN/Number"::text AS msisdn, count(*) AS sessions, sum("Dur. (ms)"::numeric) AS duration_ms,
       sum("Total DL (Bytes)"::numeric) + sum("Total UL (Bytes)"::numeric) AS total_bytes
FROM win_rows WHERE "MSISDN/Number" IS NOT NULL AND st >= '2019-04-08' AND st < '2019-04-15'
GROUP BY 1;
SELECT (SELECT count(*) FROM win_expected_users) AS users,
       (SELECT count(*) FROM (SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement WHERE name = 'win'
                              EXCEPT SELECT * FROM win_expected_users) d) AS unexpected,
       (SELECT count(*) FROM (SELECT * FROM win_expected_users
                              EXCEPT SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement WHERE name = 'win') d) AS missing;

-- 2. The hours of activity: the window's sessions of each cluster's users
-- by the hour of their start, against the rows joined with user_clusters
CREATE TEMP VIEW win_expected_activity AS
SELECT c.cluster, h.hour, count(w.st) AS sessions,
       count(w.st)::numeric / NULLIF(sum(count(w.st)) OVER (PARTITION BY c.cluster), 0) AS share
FROM (SELECT DISTINCT cluster FROM engage.user_clusters WHERE name = 'win') c
CROSS JOIN generate_series(0, 23) h(hour)
LEFT JOIN (SELECT u.cluster, x.st FROM win_rows x JOIN engage.user_clusters u
           ON u.name = 'win' AND u.msisdn = x."MSISDN/Number"::text
           WHERE x.st >= '2019-04-08' AND x.st < '2019-04-15') w
       ON w.cluster = c.cluster AND extract(hour FROM w.st) = h.hour
GROUP BY c.cluster, h.hour;
SELECT count(*) AS rows, count(DISTINCT cluster) AS clusters, sum(sessions) AS sessions,
       (SELECT count(*) FROM (SELECT cluster, hour, sessions, share FROM engage.cluster_activity WHERE name = 'win'
                              EXCEPT SELECT * FROM win_expected_activity) d) AS unexpected,
       (SELECT count(*) FROM (SELECT * FROM win_expected_activity
                              EXCEPT SELECT cluster, hour, sessions, share FROM engage.cluster_activity WHERE name = 'win') d) AS missing,
       bool_and(label = engage.cluster_label(cluster, 3)) AS labels,
       bool_and(run_id = :run1) AS this_run
FROM engage.cluster_activity WHERE name = 'win';
-- every session of the window's users is in some hour
SELECT (SELECT sum(sessions) FROM engage.cluster_activity WHERE name = 'win')
     = (SELECT sum(sessions) FROM engage.user_engagement WHERE name = 'win') AS all_sessions;
-- the shares of a cluster add up to 1
SELECT cluster, round(sum(share), 12) AS shares FROM engage.cluster_activity WHERE name = 'win' GROUP BY 1 ORDER BY 1;

-- 3. The same window on a timestamp and on a timestamptz column (the text
-- starts as plain SQL reads them; NULL where they give no time): the same
-- users, counts and hours
CREATE TABLE public.win_ts AS
SELECT x.*, pg_temp.start_of(x."Start") AS start_ts, pg_temp.start_of(x."Start") AT TIME ZONE 'UTC' AS start_tz
FROM public.win_xdr x;
SELECT engage.run_analysis('public.win_ts', k_max => 0, name => 'win ts', start_column => 'start_ts',
                           since => '2019-04-08', until => '2019-04-15') AS run_ts \gset
SELECT engage.run_analysis('public.win_ts', k_max => 0, name => 'win tz', start_column => 'start_tz',
                           since => '2019-04-08', until => '2019-04-15') AS run_tz \gset
SELECT r.name, r.rows_read, r.rows_without_subscriber, r.rows_unparsed_start, r.users, r.start_column,
       (SELECT count(*) FROM (SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement u WHERE u.name = r.name
                              EXCEPT SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.user_engagement u WHERE u.name = 'win') d) AS other_users,
       (SELECT count(*) FROM (SELECT cluster, hour, sessions FROM engage.cluster_activity a WHERE a.name = r.name
                              EXCEPT SELECT cluster, hour, sessions FROM engage.cluster_activity a WHERE a.name = 'win') d) AS other_hours
FROM engage.run r WHERE r.run_id IN (:run1, :run_ts, :run_tz) ORDER BY r.run_id;
-- a timestamptz start is compared and its hour taken in the session's
-- TimeZone: two hours east, the window holds other sessions
SET TimeZone = 'Europe/Paris';
SELECT engage.run_analysis('public.win_ts', k_max => 0, name => 'win paris', start_column => 'start_tz',
                           since => '2019-04-08 00:00+02', until => '2019-04-15 00:00+02') AS run_paris \gset
SELECT r.users = (SELECT count(DISTINCT "MSISDN/Number") FROM public.win_ts
                  WHERE start_tz >= '2019-04-08 00:00+02' AND start_tz < '2019-04-15 00:00+02') AS users,
       (SELECT sum(sessions) FILTER (WHERE hour = 0) FROM engage.cluster_activity WHERE name = 'win paris')
       = (SELECT count(*) FROM public.win_ts WHERE "MSISDN/Number" IS NOT NULL AND extract(hour FROM start_tz) = 0
          AND start_tz >= '2019-04-08 00:00+02' AND start_tz < '2019-04-15 00:00+02') AS midnight_sessions
FROM engage.run r WHERE r.run_id = :run_paris;
SET TimeZone = 'UTC';

-- 4. Open windows: since only, until only; and no window (no row left
-- out, the hours of activity of every session with a start)
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win since', since => '2019-04-20') AS run_since \gset
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win until', until => '2019-04-03 12:00') AS run_until \gset
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win all') AS run_all \gset
SELECT r.name, r.since, r.until,
       r.rows_read = CASE r.name WHEN 'win all' THEN (SELECT count(*) FROM win_rows)
                     WHEN 'win since' THEN (SELECT count(*) FROM win_rows WHERE st IS NULL OR st >= '2019-04-20')
                     ELSE (SELECT count(*) FROM win_rows WHERE st IS NULL OR st < '2019-04-03 12:00') END AS rows_read,
       r.rows_unparsed_start,
       r.users = CASE r.name WHEN 'win all' THEN (SELECT count(DISTINCT "MSISDN/Number") FROM win_rows)
                 WHEN 'win since' THEN (SELECT count(DISTINCT "MSISDN/Number") FROM win_rows WHERE st >= '2019-04-20')
                 ELSE (SELECT count(DISTINCT "MSISDN/Number") FROM win_rows WHERE st < '2019-04-03 12:00') END AS users,
       (SELECT sum(a.sessions) FROM engage.cluster_activity a WHERE a.name = r.name)
       = CASE r.name WHEN 'win all' THEN (SELECT count(*) FROM win_rows WHERE st IS NOT NULL AND "MSISDN/Number" IS NOT NULL)
         ELSE (SELECT sum(u.sessions) FROM engage.user_engagement u WHERE u.name = r.name) END AS activity_sessions
FROM engage.run r WHERE r.run_id IN (:run_since, :run_until, :run_all) ORDER BY r.run_id;
-- without a window every user of the table is analysed, as before
SELECT (SELECT count(*) FROM engage.user_engagement WHERE name = 'win all')
     = (SELECT count(DISTINCT "MSISDN/Number") FROM public.win_xdr) AS all_users;
-- start_column NULL: no hours of activity, nothing else changes
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win none', start_column => NULL) AS run_none \gset
SELECT r.start_column, r.rows_unparsed_start,
       (SELECT count(*) FROM engage.cluster_activity a WHERE a.name = 'win none') AS activity_rows,
       (SELECT count(*) FROM (SELECT msisdn, cluster, distance FROM engage.user_clusters WHERE name = 'win none'
                              EXCEPT SELECT msisdn, cluster, distance FROM engage.user_clusters WHERE name = 'win all') d) AS other_clusters
FROM engage.run r WHERE r.run_id = :run_none;

-- 5. The next week's window of 'win' (segments over time): the report of
-- its latest run has the hours of activity and the migration from the
-- previous week, with the numbers of the views
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win',
                           since => '2019-04-15', until => '2019-04-22') AS run2 \gset
CREATE TEMP TABLE win_report AS SELECT engage.report_html(name => 'win') AS doc;
-- the sections
SELECT (SELECT array_agg(m[1] ORDER BY o) FROM regexp_matches(doc, '<section id="([a-z-]+)">', 'g') WITH ORDINALITY AS x(m, o)) AS sections,
       doc ~ '<p class="sub">' AS has_header,
       (SELECT count(*) FROM regexp_matches(doc, '<svg', 'g')) AS charts
FROM win_report;
-- the time window in the run's figures
SELECT substring(doc FROM 'time window: [^<]*') AS window_card FROM win_report;
SELECT rows_unparsed_start FROM engage.run WHERE run_id = :run2;
-- the hours of activity: each hour's row of the table is the view's
-- sessions of each cluster, and a bar chart per cluster
SELECT (SELECT count(*) FROM regexp_matches(substring(doc FROM '<section id="activity">.*?</section>'), '<title>Cluster \d+ \([a-z ]+\): sessions by hour of day</title>', 'g')) AS activity_charts,
       (SELECT array_agg(replace(m[1], ',', '')::bigint ORDER BY o)
        FROM regexp_matches(substring(doc FROM '<section id="activity">.*?</section>'),
                            '<td class="n">([0-9,]+)</td><td class="n">(?:[0-9.]+%|&ndash;)</td>', 'g') WITH ORDINALITY AS x(m, o))
       = (SELECT array_agg(sessions ORDER BY hour, cluster) FROM engage.cluster_activity WHERE name = 'win') AS activity_table
FROM win_report;
-- the migration matrix: the cells, row by row (the previous run's
-- clusters, then new users), are segment_migration's counts (0 where it
-- has no row); the bottom-right cell (new and gone) does not exist
SELECT from_run = :run1 AND to_run = :run2 AS runs FROM engage.segment_runs WHERE name = 'win';
CREATE TEMP VIEW win_matrix AS
SELECT f.f, t.t, coalesce(m.users, 0) AS users,
       row_number() OVER (ORDER BY f.f NULLS LAST, t.t NULLS LAST) AS o
FROM (SELECT cluster AS f FROM engage.result_cluster_stats WHERE run_id = :run1 UNION ALL SELECT NULL) f
CROSS JOIN (SELECT cluster AS t FROM engage.result_cluster_stats WHERE run_id = :run2 UNION ALL SELECT NULL) t
LEFT JOIN engage.segment_migration m ON m.name = 'win' AND m.from_cluster IS NOT DISTINCT FROM f.f
     AND m.to_cluster IS NOT DISTINCT FROM t.t
WHERE f.f IS NOT NULL OR t.t IS NOT NULL;
SELECT (SELECT array_agg(replace(m[1], ',', '')::bigint ORDER BY o)
        FROM regexp_matches(substring(doc FROM '<section id="migration">.*?</figure>'),
                            '<text x="\d+" y="\d+" text-anchor="middle"(?: style="fill:#fff")?>([0-9,]+)</text>', 'g') WITH ORDINALITY AS x(m, o))
       = (SELECT array_agg(users ORDER BY o) FROM win_matrix) AS matrix,
       (SELECT sum(users) FROM win_matrix) = (SELECT sum(users) FROM engage.segment_migration WHERE name = 'win') AS all_users
FROM win_report;
-- the movers from the most engaged cluster of the previous run (largest
-- normalised centroid norm) to the least engaged of this one (smallest):
-- their count and the top 10 by traffic lost, against plain SQL
CREATE TEMP VIEW win_most_least AS
SELECT (SELECT cluster FROM engage.result_cluster_stats WHERE run_id = :run1
        ORDER BY sqrt(centroid_normalized[1] ^ 2 + centroid_normalized[2] ^ 2 + centroid_normalized[3] ^ 2) DESC LIMIT 1) AS most,
       (SELECT cluster FROM engage.result_cluster_stats WHERE run_id = :run2
        ORDER BY sqrt(centroid_normalized[1] ^ 2 + centroid_normalized[2] ^ 2 + centroid_normalized[3] ^ 2) LIMIT 1) AS least;
SELECT most, least FROM win_most_least;
SELECT substring(doc FROM '<h3>From the most to the least engaged segment</h3>\s*<p class="note">([0-9,]+) users')::bigint
       = (SELECT count(*) FROM engage.segment_movers v, win_most_least w
          WHERE v.name = 'win' AND v.from_cluster = w.most AND v.to_cluster = w.least) AS movers_count,
       (SELECT count(*) FROM engage.segment_movers v, win_most_least w
          WHERE v.name = 'win' AND v.from_cluster = w.most AND v.to_cluster = w.least) > 0 AS some_movers,
       ARRAY(SELECT m[1] FROM regexp_matches(substring(doc FROM '<h3>From the most to the least engaged segment</h3>.*?</table>'),
                                             '<tr><td class="n">\d+</td><td>([^<]*)</td>', 'g') m)
       = ARRAY(SELECT v.msisdn FROM engage.segment_movers v, win_most_least w
               WHERE v.name = 'win' AND v.from_cluster = w.most AND v.to_cluster = w.least
               ORDER BY coalesce(v.from_total_bytes, 0) - coalesce(v.to_total_bytes, 0) DESC, v.msisdn LIMIT 10) AS top_movers
FROM win_report;
-- a single run of an analysis: nothing to compare with
SELECT engage.report_html(name => 'win since') ~ '<section id="migration">\s*<h2>Segments over time</h2>\s*<p class="note">No previous successful run' AS no_previous;

-- 6. Pruning drops a run's hours of activity with its other results
SELECT engage.run_analysis('public.win_xdr', k_max => 0, name => 'win', keep_runs => 1,
                           since => '2019-04-22', until => '2019-04-29') AS run3 \gset
SELECT run_id = :run3 AS latest, count(*) AS activity_rows FROM engage.result_cluster_activity
WHERE run_id IN (:run1, :run2, :run3) GROUP BY run_id ORDER BY run_id;

DROP TABLE public.win_xdr, public.win_ts CASCADE;
