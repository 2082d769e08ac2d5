-- xdr_generator: the deterministic synthetic xDR data set (engage.xdr_rows,
-- engage.generate_xdr).  Every figure shown is either exact by construction
-- or a deterministic count; ranges are checked as booleans.

-- 20,000 rows; users defaults to round(20000 * 106856 / 150001.0) = 14247
SELECT engage.generate_xdr('xdr_a', 20000);
SELECT count(*) AS rows, count(DISTINCT "IMSI") <= 14247 AS imsi_per_user
FROM xdr_a;

-- Same arguments: the same table
SELECT engage.generate_xdr('xdr_b', 20000, NULL, 0);
SELECT (SELECT count(*) FROM (TABLE xdr_a EXCEPT ALL TABLE xdr_b) d) AS a_not_b,
       (SELECT count(*) FROM (TABLE xdr_b EXCEPT ALL TABLE xdr_a) d) AS b_not_a;

-- Another seed: other rows
SELECT engage.generate_xdr('xdr_c', 20000, seed => 1);
SELECT count(*) AS a_not_c FROM (TABLE xdr_a EXCEPT ALL TABLE xdr_c) d;

-- One call for all rows = the table (made in chunks of 5,000)
SELECT (SELECT count(*) FROM (TABLE xdr_a EXCEPT ALL
                              SELECT * FROM engage.xdr_rows(20000, 14247, 0, 0, 20000)) d) AS table_not_call,
       (SELECT count(*) FROM (SELECT * FROM engage.xdr_rows(20000, 14247, 0, 0, 20000) EXCEPT ALL
                              TABLE xdr_a) d) AS call_not_table;

-- Chunks of 777 rows, last chunk first = the table
SELECT (SELECT count(*) FROM (TABLE xdr_a EXCEPT ALL
                              SELECT r.* FROM generate_series(25, 0, -1) c
                              CROSS JOIN LATERAL engage.xdr_rows(20000, 14247, 0, c * 777,
                                                                 least(777, 20000 - c * 777)) r) d) AS table_not_chunks,
       (SELECT count(*) FROM (SELECT r.* FROM generate_series(25, 0, -1) c
                              CROSS JOIN LATERAL engage.xdr_rows(20000, 14247, 0, c * 777,
                                                                 least(777, 20000 - c * 777)) r
                              EXCEPT ALL TABLE xdr_a) d) AS chunks_not_table;

-- Row 12345 alone = row 12345 within a larger range
SELECT (SELECT r FROM engage.xdr_rows(20000, 14247, 0, 12345, 1) r)
       IS NOT DISTINCT FROM
       (SELECT r FROM engage.xdr_rows(20000, 14247, 0, 12340, 10) r LIMIT 1 OFFSET 5) AS same_row,
       (SELECT r FROM engage.xdr_rows(20000, 14247, 0, 12345, 1) r)
       IS NOT DISTINCT FROM
       (SELECT r FROM engage.xdr_rows(20000, 14247, 0, 12340, 10) r LIMIT 1 OFFSET 6) AS same_as_next_row;

-- Another number of users: other subscribers, same other columns
SELECT count(*) FILTER (WHERE a."MSISDN/Number" IS DISTINCT FROM b."MSISDN/Number") > 1000 AS other_msisdns,
       count(*) FILTER (WHERE a."Total DL (Bytes)" IS DISTINCT FROM b."Total DL (Bytes)") AS other_totals
FROM engage.xdr_rows(20000, 14247, 0, 0, 20000) WITH ORDINALITY AS a
JOIN engage.xdr_rows(20000, 10000, 0, 0, 20000) WITH ORDINALITY AS b USING (ordinality);

-- n = 0 and the last row
SELECT count(*) FROM engage.xdr_rows(20000, 14247, 0, 20000, 0);
SELECT count(*) FROM engage.xdr_rows(20000, 14247, 0, 19999, 1);

-- Totals: six applications' DL (not Other), all seven applications' UL
SELECT count(*) FILTER (WHERE "Total DL (Bytes)" IS DISTINCT FROM
           "Social Media DL (Bytes)" + "Google DL (Bytes)" + "Email DL (Bytes)" +
           "Youtube DL (Bytes)" + "Netflix DL (Bytes)" + "Gaming DL (Bytes)") AS bad_total_dl,
       count(*) FILTER (WHERE "Total UL (Bytes)" IS DISTINCT FROM
           "Social Media UL (Bytes)" + "Google UL (Bytes)" + "Email UL (Bytes)" +
           "Youtube UL (Bytes)" + "Netflix UL (Bytes)" + "Gaming UL (Bytes)" +
           "Other UL (Bytes)") AS bad_total_ul,
       count(*) FILTER (WHERE "Total DL (Bytes)" = "Social Media DL (Bytes)" + "Google DL (Bytes)" +
           "Email DL (Bytes)" + "Youtube DL (Bytes)" + "Netflix DL (Bytes)" + "Gaming DL (Bytes)" +
           "Other DL (Bytes)") AS total_dl_with_other
FROM xdr_a;

-- Per-application bytes: never NULL, integers, in the real ranges
SELECT count(*) FILTER (WHERE NOT (a.dl >= 0 AND a.dl <= a.max_dl AND a.dl = trunc(a.dl)
                                   AND a.ul >= 0 AND a.ul <= a.max_ul AND a.ul = trunc(a.ul))
                        OR a.dl IS NULL OR a.ul IS NULL) AS bad_app_bytes,
       count(*) AS app_values
FROM xdr_a x
CROSS JOIN LATERAL (VALUES
    ("Social Media DL (Bytes)", "Social Media UL (Bytes)", 3.6e6, 6.5e4),
    ("Google DL (Bytes)", "Google UL (Bytes)", 1.15e7, 4.3e6),
    ("Email DL (Bytes)", "Email UL (Bytes)", 3.6e6, 1.1e6),
    ("Youtube DL (Bytes)", "Youtube UL (Bytes)", 2.3e7, 2.2e7),
    ("Netflix DL (Bytes)", "Netflix UL (Bytes)", 2.3e7, 2.2e7),
    ("Gaming DL (Bytes)", "Gaming UL (Bytes)", 8.43e8, 1.6e7),
    ("Other DL (Bytes)", "Other UL (Bytes)", 8.43e8, 1.6e7)) a(dl, ul, max_dl, max_ul);

-- MSISDN: about 0.7% NULL, otherwise 11 digits starting 336 or 337
SELECT count(*) FILTER (WHERE "MSISDN/Number" IS NULL) AS null_msisdn,
       round(100.0 * count(*) FILTER (WHERE "MSISDN/Number" IS NULL) / count(*), 1) AS null_pct,
       count(*) FILTER (WHERE "MSISDN/Number"::bigint::text !~ '^33[67][0-9]{8}$'
                        OR "MSISDN/Number" <> trunc("MSISDN/Number")) AS bad_msisdn
FROM xdr_a;

-- One MSISDN, IMSI, IMEI and handset per subscriber
SELECT count(*) AS users_with_two_identities
FROM (SELECT "MSISDN/Number"
      FROM xdr_a
      WHERE "MSISDN/Number" IS NOT NULL AND "IMSI" IS NOT NULL
      GROUP BY 1
      HAVING count(DISTINCT ("IMSI", "IMEI", "Handset Type")) > 1) s;

-- Identifier ranges
SELECT min("IMSI") >= 2.082e14 AND max("IMSI") < 2.0821e14 AS imsi_ok,
       min("IMEI") >= 3.5e13 AND max("IMEI") <= 8.6e13 AS imei_ok,
       min("Bearer Id") >= 6.9e18 AND max("Bearer Id") <= 1.32e19 AS bearer_ok,
       count(*) FILTER (WHERE "Bearer Id" IS NULL) BETWEEN 80 AND 190 AS bearer_nulls_ok
FROM xdr_a;

-- Durations: real range, median about 86,399 ms, "Dur. (ms).1" in microseconds
SELECT min("Dur. (ms)") >= 7142 AND max("Dur. (ms)") <= 1859336 AS dur_range_ok,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY "Dur. (ms)") BETWEEN 82000 AND 91000 AS dur_median_ok,
       count(*) FILTER (WHERE "Dur. (ms).1" < "Dur. (ms)" * 1000
                        OR "Dur. (ms).1" > "Dur. (ms)" * 1000 + 999) AS bad_dur_us,
       count(*) FILTER (WHERE "Start ms" NOT BETWEEN 0 AND 999
                        OR "End ms" NOT BETWEEN 0 AND 999) AS bad_ms
FROM xdr_a;

-- Start and End: CSV text form in April 2019, Start in row order,
-- End = Start + duration
WITH r AS (
    SELECT ordinality AS i,
           to_timestamp("Start", 'FMMM/FMDD/YYYY FMHH24:MI') AS s,
           to_timestamp("End", 'FMMM/FMDD/YYYY FMHH24:MI') AS e,
           "Start", "End", "Start ms", "End ms", "Dur. (ms)" AS d
    FROM engage.xdr_rows(20000, 14247, 0, 0, 20000) WITH ORDINALITY)
SELECT count(*) FILTER (WHERE "Start" !~ '^4/([1-9]|[12][0-9]|30)/2019 ([0-9]|1[0-9]|2[0-3]):[0-5][0-9]$') AS bad_start_text,
       count(*) FILTER (WHERE "End" !~ '^[45]/([1-9]|[12][0-9]|30)/2019 ([0-9]|1[0-9]|2[0-3]):[0-5][0-9]$') AS bad_end_text,
       min(s) < '2019-04-02' AND max(s) >= '2019-04-30' AS spans_april,
       count(*) FILTER (WHERE e - s < make_interval(secs => (d - 60000) / 1000)
                        OR e - s > make_interval(secs => (d + 60000) / 1000)) AS bad_end,
       (SELECT count(*) FROM (SELECT s < lag(s) OVER (ORDER BY i) AS back FROM r) b WHERE back) AS out_of_order
FROM r;

-- Mostly-NULL columns at the real rates (percent)
SELECT round(100.0 * count(*) FILTER (WHERE "TCP DL Retrans. Vol (Bytes)" IS NULL) / count(*)) AS tcp_dl,
       round(100.0 * count(*) FILTER (WHERE "TCP UL Retrans. Vol (Bytes)" IS NULL) / count(*)) AS tcp_ul,
       round(100.0 * count(*) FILTER (WHERE "HTTP DL (Bytes)" IS NULL) / count(*)) AS http_dl,
       round(100.0 * count(*) FILTER (WHERE "HTTP UL (Bytes)" IS NULL) / count(*)) AS http_ul,
       round(100.0 * count(*) FILTER (WHERE "Avg RTT DL (ms)" IS NULL) / count(*)) AS rtt_dl,
       round(100.0 * count(*) FILTER (WHERE "Nb of sec with 37500B < Vol UL" IS NULL) / count(*)) AS sec_ul_37500,
       round(100.0 * count(*) FILTER (WHERE "Nb of sec with Vol DL < 6250B" IS NULL) / count(*)) AS sec_dl_6250
FROM xdr_a;

-- Throughput shares sum to 100; locations look like D42335A
SELECT count(*) FILTER (WHERE "DL TP < 50 Kbps (%)" + "50 Kbps < DL TP < 250 Kbps (%)" +
                              "250 Kbps < DL TP < 1 Mbps (%)" + "DL TP > 1 Mbps (%)" <> 100) AS bad_dl_shares,
       count(*) FILTER (WHERE "UL TP < 10 Kbps (%)" + "10 Kbps < UL TP < 50 Kbps (%)" +
                              "50 Kbps < UL TP < 300 Kbps (%)" + "UL TP > 300 Kbps (%)" <> 100) AS bad_ul_shares,
       count(*) FILTER (WHERE "Last Location Name" !~ '^[A-Z][0-9]{5}[A-Z]$') AS bad_locations,
       count(*) FILTER (WHERE "Last Location Name" IS NULL) BETWEEN 100 AND 220 AS location_nulls_ok
FROM xdr_a;

-- Handsets from a fixed list, NULL with the IMEI
SELECT "Handset Manufacturer", count(*) > 0 AS present
FROM xdr_a
GROUP BY 1
ORDER BY count(*) DESC, 1
LIMIT 5;
SELECT count(*) FILTER (WHERE ("Handset Manufacturer" IS NULL) <> ("IMEI" IS NULL)) AS bad_handset_nulls
FROM xdr_a;

-- Sessions per subscriber at 20,000 rows: heavy-tailed
SELECT sessions, count(*) AS users
FROM (SELECT "MSISDN/Number", count(*) AS sessions
      FROM xdr_a
      WHERE "MSISDN/Number" IS NOT NULL
      GROUP BY 1) s
GROUP BY 1
ORDER BY 1;

-- ... and at the real size (real: 77,730 users with 1 session, 21,452 with
-- 2, 4,422 with 3, 1,950 with 4, 938 with 5, ..., max 18)
SELECT engage.generate_xdr('xdr_real_size', 150001);
SELECT sessions, count(*) AS users
FROM (SELECT "MSISDN/Number", count(*) AS sessions
      FROM xdr_real_size
      WHERE "MSISDN/Number" IS NOT NULL
      GROUP BY 1) s
GROUP BY 1
ORDER BY 1;
DROP TABLE xdr_real_size;

-- users = 1 and users = total_rows
SELECT engage.generate_xdr('xdr_one_user', 50, 1);
SELECT count(*), count(DISTINCT "MSISDN/Number") AS users FROM xdr_one_user;
SELECT engage.generate_xdr('xdr_all_users', 50, 50);
SELECT count("MSISDN/Number"), count(DISTINCT "MSISDN/Number") AS users FROM xdr_all_users;

-- Schema-qualified name that needs quoting; the caller's search_path
CREATE SCHEMA "Xdr Schema";
SELECT engage.generate_xdr('"Xdr Schema"."Odd Name"', 10);
SELECT count(*) FROM "Xdr Schema"."Odd Name";
SET search_path = "Xdr Schema";
SELECT engage.generate_xdr('plain', 10);
RESET search_path;
SELECT count(*) FROM "Xdr Schema".plain;
DROP SCHEMA "Xdr Schema" CASCADE;

-- Bad input
SELECT * FROM engage.xdr_rows(10, 0, 0, 0, 1);
SELECT * FROM engage.xdr_rows(10, 11, 0, 0, 1);
SELECT * FROM engage.xdr_rows(10, 5, 0, -1, 1);
SELECT * FROM engage.xdr_rows(10, 5, 0, 0, -1);
SELECT * FROM engage.xdr_rows(10, 5, 0, 8, 3);
SELECT * FROM engage.xdr_rows(10, 5, 0, 11, 0);
SELECT * FROM engage.xdr_rows(10, 5, 0, 1, 9223372036854775807);
SELECT engage.generate_xdr('xdr_a', 10);
SELECT engage.generate_xdr('xdr_z', 0);
SELECT engage.generate_xdr('xdr_z', 10, 20);
SELECT engage.generate_xdr(NULL, 10);
SELECT engage.generate_xdr('xdr_z', 10, seed => NULL);
SELECT engage.generate_xdr('bad name', 10);
SELECT count(*) FROM pg_class WHERE relname = 'xdr_z';

DROP TABLE xdr_a, xdr_b, xdr_c, xdr_one_user, xdr_all_users;
