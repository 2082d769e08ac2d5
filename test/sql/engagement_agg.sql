-- engagement_agg: per-user engagement against plain SQL, edge cases, types,
-- parallel plans.
SET extra_float_digits = 0;

-- The composite result expands to columns
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (1000::float8, 10::float8, 1::float8),
             (2000, 20, 2)) v(d, dl, ul);

-- Empty input: no sessions, sums NULL (as sum()), no NULL or rejected values
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (SELECT 1::float8, 1::float8, 1::float8 WHERE false) v(d, dl, ul);

-- One row
SELECT (engage.engagement_agg(86399::float8, 5::float8, 7::float8)).*;

-- NULL measures: the session counts, the value is skipped and counted
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (100::float8, NULL::float8, 1::float8),
             (NULL, NULL, 2),
             (300, 30, NULL)) v(d, dl, ul);

-- All-NULL group: sessions counted, every sum NULL
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (NULL::float8, NULL::float8, NULL::float8),
             (NULL, NULL, NULL)) v(d, dl, ul);

-- Only DL known: total_bytes is the DL sum
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (NULL::float8, 10::float8, NULL::float8)) v(d, dl, ul);

-- NaN, +/-Infinity and negative values are skipped and counted as rejected
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (100::float8, 'NaN'::float8, 1::float8),
             ('Infinity', 10, '-Infinity'),
             (-5, -0.5, 2),
             (200, 20, 3)) v(d, dl, ul);

-- Negative zero is zero, not rejected
SELECT (engage.engagement_agg('-0'::float8, 0::float8, 0::float8)).*;

-- Non-integer values keep their fractional part
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (0.5::float8, 1.25::float8, 0::float8),
             (0.25, 1.5, 0)) v(d, dl, ul);

-- A finite value of 2^64 or more is an error that names it
SELECT (engage.engagement_agg(1e20::float8, 0::float8, 0::float8)).*;
SELECT (engage.engagement_agg(1e308::float8, 0::float8, 0::float8)).*;

-- Exact past 2^53 and past 2^63: 2^53 + 1 + 1 and four times 2^62 + 1
SELECT (engage.engagement_agg(d, 0::float8, 0::float8)).duration_ms
FROM (VALUES (9007199254740992::float8), (1), (1)) v(d);
SELECT (engage.engagement_agg(d, d, d)).*
FROM (SELECT 4611686018427387905::bigint FROM generate_series(1, 4)) v(d);
-- float8 sums are not: the same rows through sum(float8)
SELECT sum(d) = 9007199254740994 AS float8_sum_is_exact
FROM (VALUES (9007199254740992::float8), (1), (1)) v(d);

-- Past 2^64 per group, and past 2^64 per value through bigint and numeric
SELECT (engage.engagement_agg(d, d, d)).total_bytes
FROM (SELECT 9223372036854775807::bigint FROM generate_series(1, 5)) v(d);
SELECT (engage.engagement_agg(d, d, d)).duration_ms
FROM (VALUES (18446744073709551615::numeric), (18446744073709551615)) v(d);
SELECT (engage.engagement_agg(18446744073709551616::numeric, 0::numeric, 0::numeric)).*;

-- bigint: negative values rejected
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (100::bigint, 10::bigint, 1::bigint),
             (-1, NULL, 2)) v(d, dl, ul);

-- numeric: NaN, Infinity, negative rejected; fractions kept
SELECT (engage.engagement_agg(d, dl, ul)).*
FROM (VALUES (100.5::numeric, 'NaN'::numeric, 1::numeric),
             ('Infinity', -10, 2.25),
             (-0.001, 10, 0)) v(d, dl, ul);

-- Mixed argument types resolve through the implicit casts
SELECT (engage.engagement_agg(1::int, 2::bigint, 3.5::float8)).*;

-- Called directly, the transition function does not modify its argument
-- and checks the state it is given
SELECT engage.engagement_accum('{0,0,0,0,0,0,0,0,0,0,0,0,0}'::bigint[], 1::float8, 2::float8, 3::float8);
SELECT engage.engagement_accum(NULL::bigint[], 1::bigint, 2::bigint, 3::bigint);
SELECT engage.engagement_accum('{1,2,3}'::bigint[], 1::float8, 2::float8, 3::float8);
SELECT engage.engagement_combine('{1,0,0,0,0,0,0,0,0,0,0,0,0}'::bigint[], '{1,2}'::bigint[]);
SELECT (engage.engagement_final(engage.engagement_combine(
    engage.engagement_accum(NULL::bigint[], 1::bigint, 2::bigint, 3::bigint),
    engage.engagement_accum(NULL::bigint[], 10::bigint, NULL::bigint, -3::bigint)))).*;

-- A group's state starts compact (5 elements: sessions, three sums below
-- 2^64, and the NULL count, rejected count and present bits packed as
-- nulls + rejected * 2^28 + present * 2^56) and turns wide (13 elements)
-- when a value needs it, with its sums exact across the change.
-- A fractional part:
SELECT engage.engagement_accum('{2,10,20,30,504403158265495552}'::bigint[], 0.5::float8, NULL, 'NaN');
-- A sum reaching 2^64 (the duration sum is 2^64 - 1):
SELECT engage.engagement_accum('{1,-1,0,0,72057594037927936}'::bigint[], 1::float8, NULL, NULL);
SELECT (engage.engagement_final(engage.engagement_accum('{1,-1,0,0,72057594037927936}'::bigint[],
                                                        1::bigint, NULL, NULL))).duration_ms;
-- A NULL count reaching 2^28, and a rejected count:
SELECT engage.engagement_accum('{268435455,0,0,0,268435455}'::bigint[], NULL::float8, 1, 1);
SELECT (engage.engagement_final(engage.engagement_accum('{1,0,0,0,72057594306363392}'::bigint[],
                                                        -1::bigint, NULL, 2))).*;
-- A numeric argument always uses the wide form:
SELECT engage.engagement_accum(NULL::bigint[], 1::numeric, 2, 3);
-- Combining: compact states whose sum reaches 2^64, compact with wide
SELECT engage.engagement_combine('{1,-1,0,0,72057594037927936}'::bigint[], '{1,1,0,0,72057594037927936}'::bigint[]);
SELECT engage.engagement_combine('{1,5,0,0,72057594037927936}'::bigint[], '{1,0,0,7,1,0,2,0,3,0,0,0,0}'::bigint[]);
SELECT engage.engagement_combine('{1,0,0,7,1,0,2,0,3,0,0,0,0}'::bigint[], '{1,5,0,0,72057594037927936}'::bigint[]);
-- A compact state with bits set above the present bits is refused
SELECT engage.engagement_accum('{0,0,0,0,-1}'::bigint[], 1::float8, 2, 3);
-- Groups that turn wide part-way, against numeric sums of the same values
-- (each exactly a double precision)
SELECT g, (engage.engagement_agg(d::float8, dl::float8, ul::float8)).*,
       sum(d) AS d_sum, sum(dl) AS dl_sum, sum(ul) AS ul_sum
FROM (VALUES (1, 1::numeric, 2::numeric, 3::numeric), (1, 2.25, 18446744073709549568, 5),
             (1, 3, 18446744073709549568, NULL), (2, 4, 5, 6), (2, 7, 8, 9)) v(g, d, dl, ul)
GROUP BY g ORDER BY g;

------------------------------------------------------------------------------
-- The 5 real TellCo rows (all 55 columns plus the CSV text forms)
------------------------------------------------------------------------------
CREATE TABLE real5 (LIKE engage.xdr);
ALTER TABLE real5 ADD COLUMN "Start_csv" text, ADD COLUMN "End_csv" text,
    ADD COLUMN "Last Location Name_csv" text;
-- (pg_regress runs from the top of the source tree)
\copy real5 FROM 'test/data/xdr_real_rows_head5.csv' CSV HEADER
SELECT count(*) FROM real5;

SELECT "MSISDN/Number"::bigint AS msisdn, e.*
FROM (SELECT "MSISDN/Number",
             engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)") AS e
      FROM real5 GROUP BY 1) s, LATERAL (SELECT (s.e).*) e
ORDER BY 1;

-- Against plain SQL, per user and whole table
SELECT count(*) AS users_differing
FROM (SELECT "MSISDN/Number",
             (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).*
      FROM real5 GROUP BY 1) e
JOIN (SELECT "MSISDN/Number", count(*) AS sessions,
             sum("Dur. (ms)"::numeric) AS duration_ms,
             sum("Total DL (Bytes)"::numeric) AS dl_bytes,
             sum("Total UL (Bytes)"::numeric) AS ul_bytes
      FROM real5 GROUP BY 1) p USING ("MSISDN/Number")
WHERE (e.sessions, e.duration_ms, e.dl_bytes, e.ul_bytes, e.total_bytes)
   IS DISTINCT FROM (p.sessions, p.duration_ms, p.dl_bytes, p.ul_bytes, p.dl_bytes + p.ul_bytes);

SELECT (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).*
FROM real5;

------------------------------------------------------------------------------
-- xDR rows rebuilt from the real per-user aggregates: split each user's
-- sessions, duration and traffic over that many rows, then engagement_agg
-- must give each user's totals back exactly.
------------------------------------------------------------------------------
CREATE TABLE real_users (msisdn float8, cluster int, sessions float8,
                         duration_ms float8, total_data float8);
\copy real_users FROM 'test/data/user_engagement_real.csv' CSV HEADER
SELECT count(*) AS users, sum(sessions) AS sessions FROM real_users;

-- Row j of a user with s sessions gets floor(x / s), plus the remainder on
-- row 1; its traffic is split 1/8 UL, the rest DL.
CREATE TABLE rebuilt AS
SELECT u.msisdn AS "MSISDN/Number",
       (floor(u.duration_ms / u.sessions)
        + CASE WHEN j = 1 THEN u.duration_ms - floor(u.duration_ms / u.sessions) * u.sessions ELSE 0 END)::float8 AS "Dur. (ms)",
       t.traffic - floor(t.traffic / 8) AS "Total DL (Bytes)",
       floor(t.traffic / 8) AS "Total UL (Bytes)"
FROM real_users u
CROSS JOIN LATERAL generate_series(1, u.sessions::int) j
CROSS JOIN LATERAL (SELECT (floor(u.total_data / u.sessions)
        + CASE WHEN j = 1 THEN u.total_data - floor(u.total_data / u.sessions) * u.sessions ELSE 0 END)::float8 AS traffic) t
ORDER BY hashfloat8(u.msisdn + j);	-- shuffle the rows of each user
SELECT count(*) AS rows FROM rebuilt;

SELECT count(*) AS users_checked,
       count(*) FILTER (WHERE (e).sessions <> u.sessions
                           OR (e).duration_ms <> u.duration_ms::numeric
                           OR (e).total_bytes <> u.total_data::numeric) AS users_differing
FROM (SELECT "MSISDN/Number" AS msisdn,
             engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)") AS e
      FROM rebuilt GROUP BY 1) s
JOIN real_users u USING (msisdn);

-- The same through the bigint and numeric overloads
SELECT count(*) FILTER (WHERE (e).total_bytes <> u.total_data::numeric) AS bigint_differing,
       count(*) FILTER (WHERE (n).total_bytes <> u.total_data::numeric) AS numeric_differing
FROM (SELECT "MSISDN/Number" AS msisdn,
             engage.engagement_agg("Dur. (ms)"::bigint, "Total DL (Bytes)"::bigint, "Total UL (Bytes)"::bigint) AS e,
             engage.engagement_agg("Dur. (ms)"::numeric, "Total DL (Bytes)"::numeric, "Total UL (Bytes)"::numeric) AS n
      FROM rebuilt GROUP BY 1) s
JOIN real_users u USING (msisdn);

-- Top 5 users by sessions, ties broken by MSISDN ascending
SELECT "MSISDN/Number"::bigint AS msisdn, (e).sessions, (e).duration_ms, (e).total_bytes
FROM (SELECT "MSISDN/Number",
             engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)") AS e
      FROM rebuilt GROUP BY 1) s
ORDER BY (e).sessions DESC, 1
LIMIT 5;

------------------------------------------------------------------------------
-- Parallel plan: Partial Aggregate, same results as the serial plan
------------------------------------------------------------------------------
-- A third of subscriber 3's durations have a fractional part: that group's
-- state turns wide part-way, in the workers and in the combine step.
CREATE TABLE par AS
SELECT i, (i % 5000)::float8 AS msisdn,
       (1000 + i % 977)::float8 + CASE WHEN i % 15000 = 3 THEN 0.5 ELSE 0 END AS dur,
       CASE WHEN i % 101 = 0 THEN NULL ELSE (i * 7919 % 1000003)::float8 END AS dl,
       CASE WHEN i % 211 = 0 THEN 'NaN'::float8 ELSE (i % 4096)::float8 END AS ul
FROM generate_series(1, 200000) i;
ANALYZE par;

CREATE TABLE serial_result AS
SELECT (engage.engagement_agg(dur, dl, ul)).* FROM par;
SELECT * FROM serial_result;

SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

-- plan_shows(query, pattern): does EXPLAIN ANALYZE of the query show it?
CREATE FUNCTION plan_shows(query text, pattern text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || query LOOP
    IF line ~ pattern THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END
$$;

EXPLAIN (COSTS OFF)
SELECT (engage.engagement_agg(dur, dl, ul)).* FROM par;
SELECT plan_shows('SELECT engage.engagement_agg(dur, dl, ul) FROM par',
                  'Workers Launched: [1-9]') AS workers_launched;

CREATE TABLE parallel_result AS
SELECT (engage.engagement_agg(dur, dl, ul)).* FROM par;
SELECT * FROM parallel_result;
SELECT count(*) AS rows_differing FROM (
  (SELECT * FROM parallel_result EXCEPT ALL SELECT * FROM serial_result)
  UNION ALL
  (SELECT * FROM serial_result EXCEPT ALL SELECT * FROM parallel_result)) d;

-- Grouped by subscriber, and through bigint and numeric
SELECT plan_shows('SELECT msisdn, engage.engagement_agg(dur, dl, ul) FROM par GROUP BY 1',
                  'Partial (Hash|Group)?Aggregate') AS grouped_partial_aggregate;
CREATE TABLE parallel_grouped AS
SELECT msisdn, (engage.engagement_agg(dur, dl, ul)).* FROM par GROUP BY 1;
SELECT plan_shows('SELECT engage.engagement_agg(dur::bigint, dl::bigint, (i % 7 - 1)::bigint) FROM par',
                  'Partial Aggregate') AS bigint_partial_aggregate,
       plan_shows('SELECT engage.engagement_agg(dur::numeric, dl::numeric, ul::numeric) FROM par',
                  'Partial Aggregate') AS numeric_partial_aggregate;
CREATE TABLE parallel_typed AS
SELECT (engage.engagement_agg(dur::bigint, dl::bigint, (i % 7 - 1)::bigint)) AS b,
       (engage.engagement_agg(dur::numeric, dl::numeric, ul::numeric)) AS n
FROM par;

RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;

SELECT count(*) AS groups_differing FROM (
  (SELECT * FROM parallel_grouped
   EXCEPT ALL SELECT msisdn, (engage.engagement_agg(dur, dl, ul)).* FROM par GROUP BY 1)
  UNION ALL
  (SELECT msisdn, (engage.engagement_agg(dur, dl, ul)).* FROM par GROUP BY 1
   EXCEPT ALL SELECT * FROM parallel_grouped)) d;
SELECT t.b IS NOT DISTINCT FROM s.b AS bigint_same, t.n IS NOT DISTINCT FROM s.n AS numeric_same,
       (t.b).rejected_values AS bigint_rejected, (t.n).rejected_values AS numeric_rejected
FROM parallel_typed t,
     (SELECT (engage.engagement_agg(dur::bigint, dl::bigint, (i % 7 - 1)::bigint)) AS b,
             (engage.engagement_agg(dur::numeric, dl::numeric, ul::numeric)) AS n
      FROM par) s;

-- And against plain SQL, per group
SELECT count(*) AS groups_differing_from_plain_sql
FROM parallel_grouped e
JOIN (SELECT msisdn, count(*) AS sessions, sum(dur::numeric) AS duration_ms,
             sum(dl::numeric) AS dl_bytes,
             sum(ul::numeric) FILTER (WHERE ul <> 'NaN') AS ul_bytes,
             count(*) FILTER (WHERE dl IS NULL) AS null_values,
             count(*) FILTER (WHERE ul = 'NaN') AS rejected_values
      FROM par GROUP BY 1) p USING (msisdn)
WHERE (e.sessions, e.duration_ms, e.dl_bytes, e.ul_bytes, e.total_bytes, e.null_values, e.rejected_values)
   IS DISTINCT FROM (p.sessions, p.duration_ms, p.dl_bytes, p.ul_bytes,
                     coalesce(p.dl_bytes, 0) + coalesce(p.ul_bytes, 0), p.null_values, p.rejected_values);

------------------------------------------------------------------------------
-- traffic_agg: per-group sums of (DL, UL) column pairs, with the same policy
------------------------------------------------------------------------------
SELECT (engage.traffic_agg(a, b, c, d)).*
FROM (VALUES (1::float8, 2::float8, NULL::float8, 'NaN'::float8), (3, -1, NULL, 4.5),
             ('Infinity', 0, NULL, '-Infinity')) v(a, b, c, d);
-- no rows: NULL, as sum() gives
SELECT engage.traffic_agg(a, b) IS NULL AS no_rows FROM (VALUES (1::float8, 2::float8)) v(a, b) WHERE false;
-- against plain SQL, per group, serial and parallel (Partial Aggregate)
CREATE TABLE traffic_sql AS
SELECT msisdn, sum(dur) AS s1, sum(dl) FILTER (WHERE dl >= 0 AND dl < 'Infinity') AS s2,
       sum(ul) FILTER (WHERE ul >= 0 AND ul < 'Infinity') AS s3, sum(dur + 1) AS s4,
       count(*) FILTER (WHERE dl IS NULL) + count(*) FILTER (WHERE ul IS NULL) AS nulls,
       count(*) FILTER (WHERE NOT (dl >= 0 AND dl < 'Infinity'))
       + count(*) FILTER (WHERE NOT (ul >= 0 AND ul < 'Infinity')) AS rejected
FROM par GROUP BY 1;
CREATE TABLE traffic_serial AS
SELECT msisdn, (engage.traffic_agg(dur, dl, ul, dur + 1)).* FROM par GROUP BY 1;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT plan_shows('SELECT msisdn, engage.traffic_agg(dur, dl, ul, dur + 1) FROM par GROUP BY 1',
                  'Partial (Hash|Group)?Aggregate') AS traffic_partial_aggregate;
CREATE TABLE traffic_parallel AS
SELECT msisdn, (engage.traffic_agg(dur, dl, ul, dur + 1)).* FROM par GROUP BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups, sum(nulls) AS nulls, sum(rejected) AS rejected,
       count(*) FILTER (WHERE (t.dl_bytes[1], t.ul_bytes[1], t.dl_bytes[2], t.ul_bytes[2], t.null_values, t.rejected_values)
                              IS DISTINCT FROM (q.s1, q.s2, q.s3, q.s4, q.nulls, q.rejected)) AS serial_differing,
       count(*) FILTER (WHERE (p.dl_bytes, p.ul_bytes, p.null_values, p.rejected_values)
                              IS DISTINCT FROM (t.dl_bytes, t.ul_bytes, t.null_values, t.rejected_values)) AS parallel_differing
FROM traffic_sql q JOIN traffic_serial t USING (msisdn) JOIN traffic_parallel p USING (msisdn);
-- called directly, on a state, and on bad arguments
SELECT engage.traffic_accum(NULL, 1::float8, 'NaN'::float8);
SELECT engage.traffic_final(engage.traffic_combine('{0,1,5,NaN}', '{2,0,1,7}'));
SELECT engage.traffic_agg(a) FROM (VALUES (1::float8)) v(a);
SELECT engage.traffic_agg(a, b) FROM (VALUES ('1'::text, 2::float8)) v(a, b);
SELECT engage.traffic_agg(VARIADIC ARRAY['1'::text, '2']);
SELECT engage.traffic_combine('{0,0,1,2}', '{0,0,1,2,3,4}');
SELECT engage.traffic_final('{0,0,-1,NaN}');

------------------------------------------------------------------------------
-- traffic_agg's two forms.  PostgreSQL picks traffic_agg(VARIADIC double
-- precision[]) (0.2.0, the form Citus can split) for double precision
-- arguments, an exact match, and for integer, bigint, numeric and real ones,
-- cast; other types reach traffic_agg(VARIADIC "any") (0.1.0), which
-- refuses them (above: text)
------------------------------------------------------------------------------
EXPLAIN (VERBOSE, COSTS OFF)
SELECT engage.traffic_agg(dur, dl), engage.traffic_agg(i, i::bigint, i::numeric, i::real) FROM par;
-- integer, bigint, numeric and real arguments: the sums of the values cast
SELECT (engage.traffic_agg(a, b, c, d)).*,
       (engage.traffic_agg(a::float8, b::float8, c::float8, d::float8)).* AS cast_explicitly
FROM (VALUES (1::int, 2::bigint, 3.5::numeric, 4.25::real), (-1, 9007199254740993, 'NaN', 'Infinity'),
             (NULL, NULL, 1e-3, NULL)) v(a, b, c, d);
-- a VARIADIC array: its elements are the columns
SELECT (engage.traffic_agg(VARIADIC ARRAY[1::float8, 2])).*;
SELECT (engage.traffic_agg(VARIADIC a)).*
FROM (VALUES ('{1,2,3,4}'::float8[]), ('{NULL,1,NaN,1}'), ('{5,5,5,5}')) v(a);
-- The "any" form under another name (the same definition) against the
-- double precision[] form and plain SQL (traffic_sql, above), per group,
-- serial and parallel: the same sums bit for bit (float8 compared exactly;
-- the third pair sums fractions, whose rounding depends on the order of the
-- additions: the same in the serial plans, not in parallel ones, which are
-- compared on the sums of whole numbers)
CREATE AGGREGATE traffic_agg_any(VARIADIC "any") (
	SFUNC = engage.traffic_accum, STYPE = double precision[],
	FINALFUNC = engage.traffic_final, COMBINEFUNC = engage.traffic_combine, PARALLEL = SAFE);
SELECT count(DISTINCT (aggtransfn, aggfinalfn, aggcombinefn, aggtranstype, aggkind, aggnumdirectargs)) = 1
       AND count(*) = 2 AS same_definition
FROM pg_aggregate
WHERE aggfnoid IN ('engage.traffic_agg("any")'::regprocedure, 'traffic_agg_any("any")'::regprocedure);
SELECT aggfnoid::regprocedure AS aggregate, aggtransfn::regprocedure AS transition,
       aggcombinefn, aggtranstype::regtype AS state, proparallel
FROM pg_aggregate JOIN pg_proc p ON p.oid = aggfnoid
WHERE aggfnoid IN ('engage.traffic_agg("any")'::regprocedure, 'engage.traffic_agg(double precision[])'::regprocedure)
ORDER BY 1::text;
CREATE TABLE traffic_any AS
SELECT msisdn, traffic_agg_any(dur, dl, ul, dur + 1, dur / 7, i / 3.0::float8) AS t FROM par GROUP BY 1;
CREATE TABLE traffic_array AS
SELECT msisdn, engage.traffic_agg(dur, dl, ul, dur + 1, dur / 7, i / 3.0::float8) AS t FROM par GROUP BY 1;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT plan_shows('SELECT msisdn, traffic_agg_any(dur, dl, ul, dur + 1, dur / 7, i / 3.0::float8) FROM par GROUP BY 1',
                  'Partial (Hash|Group)?Aggregate') AS any_partial_aggregate;
CREATE TABLE traffic_any_parallel AS
SELECT msisdn, traffic_agg_any(dur, dl, ul, dur + 1, dur / 7, i / 3.0::float8) AS t FROM par GROUP BY 1;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
SELECT count(*) AS groups,
       count(*) FILTER (WHERE a.t IS DISTINCT FROM r.t) AS any_differing,
       count(*) FILTER (WHERE ((ap.t).dl_bytes[1:2], (ap.t).ul_bytes[1:2], (ap.t).null_values, (ap.t).rejected_values)
                              IS DISTINCT FROM ((a.t).dl_bytes[1:2], (a.t).ul_bytes[1:2], (a.t).null_values,
                                                (a.t).rejected_values)) AS any_parallel_differing,
       count(*) FILTER (WHERE ((r.t).dl_bytes[1], (r.t).ul_bytes[1], (r.t).dl_bytes[2], (r.t).ul_bytes[2],
                               (r.t).null_values, (r.t).rejected_values)
                              IS DISTINCT FROM (q.s1, q.s2, q.s3, q.s4, q.nulls, q.rejected)) AS sql_differing,
       count(*) FILTER (WHERE (r.t).dl_bytes[3] <> floor((r.t).dl_bytes[3])
                        AND (r.t).ul_bytes[3] <> floor((r.t).ul_bytes[3])) AS fractional_sums
FROM traffic_any a JOIN traffic_array r USING (msisdn) JOIN traffic_any_parallel ap USING (msisdn)
JOIN traffic_sql q USING (msisdn);
-- the same sums through bigint and numeric columns (cast) as through double precision
SELECT count(*) FILTER (WHERE (SELECT engage.traffic_agg(dl::bigint, dl::numeric, i, ul) FROM par WHERE dl IS NOT NULL AND i <= 1000)
                              IS DISTINCT FROM (SELECT engage.traffic_agg(dl, dl, i::float8, ul) FROM par WHERE dl IS NOT NULL AND i <= 1000)) AS typed_differing;
DROP TABLE traffic_any, traffic_array, traffic_any_parallel;
DROP AGGREGATE traffic_agg_any(VARIADIC "any");

-- Rows without a subscriber: the idiom that leaves them out, and the count
SELECT count(*) FILTER (WHERE msisdn IS NULL) AS rows_without_subscriber,
       count(DISTINCT msisdn) AS users
FROM (VALUES (1::float8), (NULL), (2), (1)) v(msisdn);
SELECT msisdn, (engage.engagement_agg(10::float8, 1::float8, 1::float8)).sessions
FROM (VALUES (1::float8), (NULL), (2), (1)) v(msisdn)
WHERE msisdn IS NOT NULL
GROUP BY 1 ORDER BY 1;

------------------------------------------------------------------------------
-- Generated xDR data (TellCo layout): engagement_agg against count() and
-- sum() per subscriber and over the whole table
------------------------------------------------------------------------------
SELECT engage.generate_xdr('gen_xdr', 30000, seed => 7);
SELECT count(*) AS rows,
       count(*) FILTER (WHERE "MSISDN/Number" IS NULL) AS rows_without_subscriber,
       count(DISTINCT "MSISDN/Number") AS users
FROM gen_xdr;

SELECT count(*) AS users_checked,
       count(*) FILTER (WHERE (e.sessions, e.duration_ms, e.dl_bytes, e.ul_bytes, e.total_bytes,
                               e.null_values, e.rejected_values)
                        IS DISTINCT FROM
                        (p.sessions, p.duration_ms, p.dl_bytes, p.ul_bytes, p.dl_bytes + p.ul_bytes,
                         p.null_values, 0::bigint)) AS users_differing
FROM (SELECT "MSISDN/Number",
             (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).*
      FROM gen_xdr WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1) e
JOIN (SELECT "MSISDN/Number", count(*) AS sessions,
             sum("Dur. (ms)"::numeric) AS duration_ms,
             sum("Total DL (Bytes)"::numeric) AS dl_bytes,
             sum("Total UL (Bytes)"::numeric) AS ul_bytes,
             count(*) FILTER (WHERE "Dur. (ms)" IS NULL)
               + count(*) FILTER (WHERE "Total DL (Bytes)" IS NULL)
               + count(*) FILTER (WHERE "Total UL (Bytes)" IS NULL) AS null_values
      FROM gen_xdr WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1) p USING ("MSISDN/Number");

SELECT e.sessions = p.sessions AS sessions_equal,
       e.duration_ms = p.duration_ms AS duration_equal,
       e.total_bytes = p.total_bytes AS traffic_equal,
       e.sessions, e.duration_ms, e.total_bytes
FROM (SELECT (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).*
      FROM gen_xdr) e,
     (SELECT count(*) AS sessions, sum("Dur. (ms)"::numeric) AS duration_ms,
             sum("Total DL (Bytes)"::numeric) + sum("Total UL (Bytes)"::numeric) AS total_bytes
      FROM gen_xdr) p;

-- The sums are built directly in numeric's on-disk format: they must equal,
-- print and hash as the numeric that PostgreSQL makes of the same integer
SELECT count(*) AS values_checked,
       count(*) FILTER (WHERE e <> v OR e::text <> v::text
                        OR hash_numeric(e) <> hash_numeric(v)
                        OR numeric_send(e) <> numeric_send(v)) AS values_differing
FROM (SELECT v, (engage.engagement_agg(v, 0::numeric, 0::numeric)).duration_ms AS e
      FROM (SELECT DISTINCT v
            FROM (SELECT (10::numeric ^ p)::numeric(30,0) + delta AS v
                  FROM generate_series(0, 19) p, generate_series(-2, 2) delta
                  UNION ALL SELECT 18446744073709551615
                  UNION ALL SELECT 9223372036854775807
                  UNION ALL SELECT 9223372036854775808
                  UNION ALL SELECT i::numeric * 10000 FROM generate_series(0, 100) i
                  UNION ALL SELECT hashint8(i)::numeric + 9223372036854775808
                            FROM generate_series(1, 1000) i
                  UNION ALL SELECT abs(hashint8(i)) >> (i % 64) FROM generate_series(1, 1000) i) s
            WHERE v >= 0 AND v < 18446744073709551616) d
      GROUP BY v) r;
