-- hours_agg: the hours of activity from the per-user scan (issue 11):
-- hours_agg (a user's sessions by hour of day as a compact histogram),
-- hours_counts (its 24 counts) and hours_sum_agg (histograms summed) against
-- plain SQL counts by hour, with NULL and unparsed starts, a time window,
-- serial and parallel plans; and the histograms that run_analysis stores
-- with each user (result_user_engagement.hours) against plain SQL on the
-- source's rows.  The starts are parsed in plain SQL by a regular
-- expression and make_timestamp, not by parse_start_time.
SET extra_float_digits = 0;
SET TimeZone = 'UTC';
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.hours_xdr', 20000, seed => 7);
RESET client_min_messages;
UPDATE public.hours_xdr SET "Start" = 'n/a' WHERE "Dur. (ms)"::bigint % 41 = 0;
UPDATE public.hours_xdr SET "Start" = NULL WHERE "Dur. (ms)"::bigint % 43 = 1;
UPDATE public.hours_xdr SET "Start" = '2/30/2019 10:00' WHERE "Dur. (ms)"::bigint % 47 = 2;
UPDATE public.hours_xdr SET "Start" = "Start" || ':30' WHERE "Dur. (ms)"::bigint % 59 = 4;

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
CREATE TEMP TABLE hours_rows AS
SELECT x."MSISDN/Number" AS m, x."Start" AS start, pg_temp.start_of(x."Start") AS st
FROM public.hours_xdr x;
-- each user's sessions by hour of day, of all rows and of the window
-- [2019-04-10, 2019-04-20) (plain GROUP BY, joined below on equalities)
CREATE TEMP TABLE hours_cnt AS
SELECT m, extract(hour FROM st)::int AS hour, count(*) AS n,
       count(*) FILTER (WHERE st >= '2019-04-10' AND st < '2019-04-20') AS n_win
FROM hours_rows WHERE m IS NOT NULL AND st IS NOT NULL GROUP BY 1, 2;
ANALYZE hours_rows;
ANALYZE hours_cnt;
SELECT count(*) AS rows, count(*) FILTER (WHERE st IS NULL) AS no_time, count(DISTINCT m) AS users
FROM hours_rows;

-- 1. Small cases: no row, NULLs only, one session (2 bytes), the varint
-- of counts past 127 and 16383, every hour
SELECT engage.hours_agg(h) AS no_row FROM (SELECT 1 WHERE false) x(h);
SELECT engage.hours_agg(NULL::integer) AS nulls_only;
SELECT engage.hours_agg(h) AS one_session, octet_length(engage.hours_agg(h)) AS bytes FROM (VALUES (13)) v(h);
SELECT engage.hours_agg(h) AS counts_128_and_16384
FROM (SELECT 3 FROM generate_series(1, 128) UNION ALL SELECT 20 FROM generate_series(1, 16384)) v(h);
SELECT engage.hours_counts(engage.hours_agg(h)) AS counts_128_and_16384
FROM (SELECT 3 FROM generate_series(1, 128) UNION ALL SELECT 20 FROM generate_series(1, 16384)) v(h);
SELECT engage.hours_counts(engage.hours_agg(h % 24)) AS every_hour FROM generate_series(0, 999) g(h);
-- (the plain count of each hour, for the line above)
SELECT array_agg(c ORDER BY hour) AS plain
FROM (SELECT h % 24 AS hour, count(*) AS c FROM generate_series(0, 999) g(h) GROUP BY 1) x;

-- 2. Per user, against plain SQL counts by hour: every user's histogram
-- read back (hours_counts) equals the user's count of each hour of the
-- rows whose start gives a time; users whose starts give none have an
-- empty histogram
CREATE TEMP TABLE hours_plain AS
SELECT u.m, array_agg(COALESCE(c.n, 0) ORDER BY h.hour) AS counts
FROM (SELECT DISTINCT m FROM hours_rows WHERE m IS NOT NULL) u
CROSS JOIN generate_series(0, 23) h(hour)
LEFT JOIN hours_cnt c ON c.m = u.m AND c.hour = h.hour
GROUP BY u.m;
CREATE TEMP TABLE hours_plain_win AS
SELECT u.m, array_agg(COALESCE(c.n_win, 0) ORDER BY h.hour) AS counts
FROM (SELECT DISTINCT m FROM hours_rows WHERE m IS NOT NULL) u
CROSS JOIN generate_series(0, 23) h(hour)
LEFT JOIN hours_cnt c ON c.m = u.m AND c.hour = h.hour
GROUP BY u.m;
ANALYZE hours_plain;
ANALYZE hours_plain_win;
CREATE TEMP TABLE hours_users AS
SELECT x."MSISDN/Number" AS m,
       engage.hours_agg(date_part('hour', engage.parse_start_time(x."Start"))::integer) AS hours
FROM public.hours_xdr x WHERE x."MSISDN/Number" IS NOT NULL GROUP BY 1;
SELECT count(*) AS users,
       count(*) FILTER (WHERE engage.hours_counts(u.hours) = p.counts) AS equal,
       count(*) FILTER (WHERE u.hours = '\x'::bytea) AS empty,
       count(*) FILTER (WHERE p.counts = array_fill(0::bigint, ARRAY[24])) AS plain_empty,
       count(*) FILTER (WHERE octet_length(u.hours) <> 2 * (SELECT count(*) FROM unnest(p.counts) c WHERE c > 0)) AS not_two_bytes_an_hour
FROM hours_users u JOIN hours_plain p ON p.m = u.m;
SELECT max(octet_length(hours)) AS largest_bytes, sum(octet_length(hours)) AS total_bytes FROM hours_users;

-- 3. hours_sum_agg: the users' histograms summed by a group (the last digit
-- of the MSISDN, as a cluster) against plain SQL counts by group and hour;
-- NULL histograms skipped; NULL when there is none
SELECT count(*) AS groups,
       count(*) FILTER (WHERE s.counts = p.counts) AS equal
FROM (SELECT (m::bigint % 10)::int AS g, engage.hours_sum_agg(hours) AS counts FROM hours_users GROUP BY 1) s
JOIN (SELECT g, array_agg(n ORDER BY hour) AS counts
      FROM (SELECT d.g, h.hour, COALESCE(sum(c.n), 0)::bigint AS n
            FROM (SELECT DISTINCT (m::bigint % 10)::int AS g FROM hours_rows WHERE m IS NOT NULL) d
            CROSS JOIN generate_series(0, 23) h(hour)
            LEFT JOIN hours_cnt c ON (c.m::bigint % 10)::int = d.g AND c.hour = h.hour
            GROUP BY 1, 2) q
      GROUP BY g) p ON p.g = s.g;
SELECT engage.hours_sum_agg(hours) = (SELECT array_agg(n ORDER BY hour) FROM (
           SELECT h.hour, COALESCE(sum(c.n), 0)::bigint AS n FROM generate_series(0, 23) h(hour)
           LEFT JOIN hours_cnt c ON c.hour = h.hour GROUP BY 1) q) AS all_users_equal
FROM hours_users;
SELECT engage.hours_sum_agg(h) AS nulls_only FROM (VALUES (NULL::bytea), (NULL)) v(h);
SELECT engage.hours_sum_agg(h) AS some_nulls FROM (VALUES (NULL::bytea), ('\x0001'), (NULL), ('\x000217ff01')) v(h);

-- 4. A time window: only the window's rows counted, as run_analysis's
-- per-user query counts them (rows whose start gives no time read, not
-- counted)
SELECT count(*) AS users,
       count(*) FILTER (WHERE engage.hours_counts(w.hours) = p.counts) AS equal
FROM (SELECT x."MSISDN/Number" AS m,
             engage.hours_agg(date_part('hour', engage.parse_start_time(x."Start"))::integer) AS hours
      FROM public.hours_xdr x
      WHERE x."MSISDN/Number" IS NOT NULL
        AND (engage.parse_start_time(x."Start") IS NULL
             OR (engage.parse_start_time(x."Start") >= '2019-04-10' AND engage.parse_start_time(x."Start") < '2019-04-20'))
      GROUP BY 1) w
JOIN hours_plain_win p ON p.m = w.m;

-- 5. Parallel plans: partial aggregates in workers, combined in the leader,
-- the same results as the serial plans
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE hours_serial AS
SELECT (x."MSISDN/Number"::bigint % 7)::int AS g,
       engage.hours_agg(date_part('hour', engage.parse_start_time(x."Start"))::integer) AS hours
FROM public.hours_xdr x GROUP BY 1;
RESET max_parallel_workers_per_gather;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT (x."MSISDN/Number"::bigint % 7)::int AS g,
       engage.hours_agg(date_part('hour', engage.parse_start_time(x."Start"))::integer) AS hours
FROM public.hours_xdr x GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE s.hours = p.hours) AS equal
FROM hours_serial s JOIN (
	SELECT (x."MSISDN/Number"::bigint % 7)::int AS g,
	       engage.hours_agg(date_part('hour', engage.parse_start_time(x."Start"))::integer) AS hours
	FROM public.hours_xdr x GROUP BY 1) p ON p.g IS NOT DISTINCT FROM s.g;
CREATE TABLE public.hours_hist AS SELECT m, hours FROM hours_users;
ANALYZE public.hours_hist;
-- (grouped by an expression, the planner assumes a group per row and
-- aggregates above the Gather; joined with the few group numbers, it knows
-- them few, as run_analysis's cluster statistics do)
EXPLAIN (COSTS OFF)
SELECT c.g, engage.hours_sum_agg(hours) FROM public.hours_hist
JOIN generate_series(0, 4) c(g) ON c.g = (m::bigint % 5)::int GROUP BY 1;
SELECT count(*) AS groups, count(*) FILTER (WHERE s.counts = p.counts) AS equal
FROM (SELECT c.g, engage.hours_sum_agg(hours) AS counts FROM public.hours_hist
      JOIN generate_series(0, 4) c(g) ON c.g = (m::bigint % 5)::int GROUP BY 1) p
JOIN (SELECT g, array_agg(n::bigint ORDER BY hour) AS counts
      FROM (SELECT (u.m::bigint % 5)::int AS g, h.hour - 1 AS hour, sum(h.n) AS n
            FROM hours_users u CROSS JOIN LATERAL unnest(engage.hours_counts(u.hours)) WITH ORDINALITY h(n, hour)
            GROUP BY 1, 2) q GROUP BY g) s ON s.g = p.g;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET enable_hashagg;

-- 6. run_analysis stores each user's histogram (result_user_engagement.hours)
-- equal to plain SQL's counts by hour of the user's rows, and its hours of
-- activity are their sums by cluster; with a window, of the window's rows
SET client_min_messages = warning;
SELECT engage.run_analysis('public.hours_xdr', k_max => 0, name => 'hours') AS run1 \gset
SELECT engage.run_analysis('public.hours_xdr', k_max => 0, name => 'hours_win',
                           since => '2019-04-10', until => '2019-04-20') AS run2 \gset
SELECT engage.run_analysis('public.hours_xdr', k_max => 0, name => 'hours_none', start_column => NULL) AS run3 \gset
RESET client_min_messages;
SELECT count(*) AS users, count(*) FILTER (WHERE engage.hours_counts(x.hours) = p.counts) AS equal
FROM engage.result_user_engagement x JOIN hours_plain p ON p.m::text = x.msisdn
WHERE x.run_id = :run1;
SELECT count(*) AS users, count(*) FILTER (WHERE engage.hours_counts(x.hours) = p.counts) AS equal
FROM engage.result_user_engagement x JOIN hours_plain_win p ON p.m::text = x.msisdn
WHERE x.run_id = :run2;
-- (the window's users: those with a row in it)
SELECT count(*) AS window_users FROM hours_plain_win WHERE counts <> array_fill(0::bigint, ARRAY[24]);
SELECT count(*) AS users, count(x.hours) AS with_hours FROM engage.result_user_engagement x WHERE x.run_id = :run3;
-- the hours of activity: each cluster's 24 counts are the sums of its
-- users' plain-SQL counts (the users' clusters from engage.user_clusters)
SELECT a.run_id = :run1 AS run1, count(*) AS rows,
       count(*) FILTER (WHERE a.sessions = p.n) AS equal
FROM engage.cluster_activity a
JOIN (SELECT c.cluster, h.hour - 1 AS hour, sum(h.n) AS n
      FROM engage.user_clusters c JOIN hours_plain p ON p.m::text = c.msisdn
      CROSS JOIN LATERAL unnest(p.counts) WITH ORDINALITY h(n, hour)
      WHERE c.name = 'hours' GROUP BY 1, 2) p ON p.cluster = a.cluster AND p.hour = a.hour
WHERE a.name = 'hours' GROUP BY 1;
SELECT count(*) AS activity_rows FROM engage.cluster_activity WHERE name = 'hours_none';

DROP TABLE public.hours_xdr, public.hours_hist;
