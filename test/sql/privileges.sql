-- privileges: engage needs no superuser once it is created; every function
-- runs with the caller's rights (query texts included) and honours row-level
-- security; a hostile search_path changes nothing; texts from the data are
-- never markup in the charts and the report.
--
-- It runs in a database of its own (roles are shared by the cluster: their
-- names start with regress_engage_, and they are dropped at the end).
SELECT current_database() AS main_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regression_engage_privileges;
DROP ROLE IF EXISTS regress_engage_analyst, regress_engage_reader, regress_engage_outsider;
RESET client_min_messages;
CREATE DATABASE regression_engage_privileges;
\c regression_engage_privileges
SET extra_float_digits = 0;
\set SHOW_CONTEXT never

-- 1. The extension scripts installed (their SQL comments left out): no
-- CREATE OR REPLACE in an install script engage--V.sql (it could take over
-- an object someone created before), nothing SECURITY DEFINER in any.  An
-- upgrade script engage--A--B.sql may replace functions, but only those
-- that version A created (PostgreSQL itself refuses to replace an object
-- that is not a member of the extension).
CREATE TEMP TABLE scripts AS
SELECT f AS script,
       regexp_replace(regexp_replace(pg_read_file(d.dir || f), '/\*.*?\*/', '', 'g'), '--[^\n]*', '', 'g') AS body
FROM (SELECT setting || '/extension/' AS dir FROM pg_config WHERE name = 'SHAREDIR') d,
     pg_ls_dir(d.dir) AS f
WHERE f ~ '^engage--.*\.sql$';
SELECT s.script,
       (SELECT count(*) FROM regexp_matches(s.body, 'create\s+or\s+replace', 'gi')) AS create_or_replace,
       (SELECT count(*) FROM regexp_matches(s.body, 'create\s+or\s+replace\s+function', 'gi')) AS of_functions,
       (SELECT count(*) FROM regexp_matches(s.body, 'security\s+definer', 'gi')) AS security_definer
FROM scripts s ORDER BY s.script;
-- functions that an upgrade script replaces but the install script of the
-- version it starts from does not create
SELECT u.script, r[1] AS replaced_but_not_created
FROM scripts u
CROSS JOIN LATERAL regexp_matches(u.body, 'create\s+or\s+replace\s+function\s+@extschema@\.(\w+)\s*\(', 'gi') AS r
WHERE u.script ~ '^engage--[0-9.]+--[0-9.]+\.sql$'
  AND NOT EXISTS (SELECT FROM scripts f
                  WHERE f.script = 'engage--' || substring(u.script FROM '^engage--([0-9.]+)--') || '.sql'
                    AND f.body ~* ('create\s+function\s+@extschema@\.' || r[1] || '\s*\('))
ORDER BY 1, 2;

-- An object of the same name made before CREATE EXTENSION is not replaced:
-- the extension refuses to be created
CREATE SCHEMA engage;
CREATE FUNCTION engage.xml_escape(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
CREATE EXTENSION engage;
DROP SCHEMA engage CASCADE;
CREATE EXTENSION engage;

-- Every function is SECURITY INVOKER, with no role-changing settings; every
-- object in schema engage belongs to the extension
SELECT count(*) AS functions, count(*) FILTER (WHERE prosecdef) AS security_definer,
       count(*) FILTER (WHERE array_to_string(proconfig, ',') ~* 'role|session_authorization') AS set_role
FROM pg_proc WHERE pronamespace = 'engage'::regnamespace;
SELECT count(*) AS objects_not_in_extension
FROM (SELECT 'pg_proc'::regclass AS classid, oid FROM pg_proc WHERE pronamespace = 'engage'::regnamespace
      UNION ALL
      SELECT 'pg_class'::regclass, oid FROM pg_class
      WHERE relnamespace = 'engage'::regnamespace AND relkind IN ('r', 'v', 'S')
      UNION ALL
      SELECT 'pg_type'::regclass, oid FROM pg_type
      WHERE typnamespace = 'engage'::regnamespace AND typtype = 'c'
        AND (SELECT relkind FROM pg_class WHERE oid = typrelid) = 'c') o
WHERE NOT EXISTS (SELECT FROM pg_depend d
                  WHERE d.classid = o.classid AND d.objid = o.oid AND d.deptype = 'e'
                    AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'engage'));

-- 2. A hostile search_path: a schema first in the path, before pg_catalog,
-- with functions, operators, types and a relation named like those engage
-- uses.  Each one counts the call (a sequence: not rolled back) and raises.
CREATE TABLE public.priv_pts (id int, a float8, b float8);
INSERT INTO public.priv_pts VALUES (1, 0, 0), (2, 0, 1), (3, 1, 0), (4, 10, 10), (5, 10, 11), (6, 11, 10), (7, 50, 50);
CREATE SCHEMA regress_hostile;
CREATE SEQUENCE regress_hostile.calls;
CREATE FUNCTION regress_hostile.trap(what pg_catalog.text) RETURNS boolean LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_catalog.nextval('regress_hostile.calls'); RAISE EXCEPTION 'hostile % called', what; END $$;
CREATE FUNCTION regress_hostile.format(pg_catalog.text, pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('format()'); RETURN NULL; END $$;
CREATE FUNCTION regress_hostile.format(pg_catalog.text, bigint) RETURNS pg_catalog.text
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('format()'); RETURN NULL; END $$;
CREATE FUNCTION regress_hostile.jsonb_each(jsonb) RETURNS TABLE (key pg_catalog.text, value jsonb)
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('jsonb_each()'); END $$;
CREATE FUNCTION regress_hostile.quote_ident(pg_catalog.text) RETURNS pg_catalog.text
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('quote_ident()'); RETURN NULL; END $$;
CREATE FUNCTION regress_hostile.round(numeric) RETURNS numeric
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('round()'); RETURN NULL; END $$;
CREATE FUNCTION regress_hostile.sum(double precision, double precision) RETURNS double precision
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('sum()'); RETURN NULL; END $$;
CREATE AGGREGATE regress_hostile.sum(double precision) (SFUNC = regress_hostile.sum, STYPE = double precision);
CREATE FUNCTION regress_hostile.text_eq(pg_catalog.text, pg_catalog.text) RETURNS boolean
LANGUAGE sql AS $$ SELECT regress_hostile.trap('= (text, text)') $$;
CREATE OPERATOR regress_hostile.= (LEFTARG = pg_catalog.text, RIGHTARG = pg_catalog.text, FUNCTION = regress_hostile.text_eq);
CREATE FUNCTION regress_hostile.int84lt(bigint, integer) RETURNS boolean
LANGUAGE sql AS $$ SELECT regress_hostile.trap('< (bigint, integer)') $$;
CREATE OPERATOR regress_hostile.< (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = regress_hostile.int84lt);
CREATE FUNCTION regress_hostile.int84mi(bigint, integer) RETURNS bigint
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('- (bigint, integer)'); RETURN NULL; END $$;
CREATE OPERATOR regress_hostile.- (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = regress_hostile.int84mi);
CREATE FUNCTION regress_hostile.numeric_int4_mul(numeric, integer) RETURNS numeric
LANGUAGE plpgsql AS $$ BEGIN PERFORM regress_hostile.trap('* (numeric, integer)'); RETURN NULL; END $$;
CREATE OPERATOR regress_hostile.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = regress_hostile.numeric_int4_mul);
CREATE FUNCTION regress_hostile.check_value(pg_catalog.text) RETURNS boolean
LANGUAGE sql AS $$ SELECT regress_hostile.trap('a domain named like a type') $$;
CREATE DOMAIN regress_hostile.text AS pg_catalog.text CHECK (regress_hostile.check_value(VALUE));
CREATE DOMAIN regress_hostile.jsonb AS pg_catalog.jsonb CHECK (regress_hostile.check_value(VALUE::pg_catalog.text));
CREATE VIEW regress_hostile.run AS SELECT 1::bigint AS run_id WHERE regress_hostile.trap('relation run');
CREATE VIEW regress_hostile.xdr AS SELECT 1::bigint AS x WHERE regress_hostile.trap('relation xdr');

-- The traps work: each of these calls one (with the hostile schema first)
SET search_path = regress_hostile, pg_catalog, public;
SELECT 'a'::pg_catalog.text = 'b'::pg_catalog.text;
SELECT 1::bigint < 2;
SELECT 1.5 * 2;
SELECT format('%s', 'x'::pg_catalog.text);
SELECT 'x'::text;
SELECT * FROM run;
RESET search_path;
SELECT last_value AS trap_calls FROM regress_hostile.calls;
SELECT setval('regress_hostile.calls', 1, false);

-- With that search_path: DROP and CREATE the extension, then its main
-- functions (the points queries name their tables with their schema)
SET search_path = regress_hostile, pg_catalog, public;
DROP EXTENSION engage;
CREATE EXTENSION engage;
SELECT engage.generate_xdr('public.priv_xdr', 300, 90, 11);
SELECT (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).sessions
FROM public.priv_xdr;
SELECT key, cluster FROM engage.kmeans_cluster('SELECT id, a, b FROM public.priv_pts', 3) ORDER BY key;
SELECT cluster, size FROM engage.kmeans_centroids('SELECT id, a, b FROM public.priv_pts', 3, 'minmax') ORDER BY cluster;
SELECT engage.kmeans_predict(engage.kmeans_model('SELECT id, a, b FROM public.priv_pts', 3), '{49, 49}');
SELECT count(*) FROM engage.kmeans_assign(engage.kmeans_model('SELECT id, a, b FROM public.priv_pts', 3),
                                          'SELECT id, a, b FROM public.priv_pts');
SELECT k, is_elbow FROM engage.elbow_inertia('SELECT id, a, b FROM public.priv_pts', 1, 4) ORDER BY k;
SELECT feature, scale FROM engage.scaling_params('SELECT id, a, b FROM public.priv_pts', 'minmax') ORDER BY feature;
SELECT count(*) FROM engage.normalize_points('SELECT id, ARRAY[a, b] FROM public.priv_pts');
SELECT engage.run_analysis('public.priv_xdr', k_max => 3) IS NOT NULL AS run_ok;
SELECT count(*) AS users FROM engage.user_engagement;
SELECT count(*) AS clusters FROM engage.cluster_stats;
SELECT count(*) AS apps FROM engage.top_apps;
SELECT length(engage.report_html()) > 20000 AS report_ok;
SELECT length(engage.svg_bar_chart('{a,b}', '{1,2}', 'bars', unit => 'B')) > 0 AS bar_ok,
       length(engage.svg_line_chart('{1,2,3}', '{3,2,1}', 'line', mark_x => 2)) > 0 AS line_ok,
       length(engage.svg_cluster_chart('{a,b}', '{1,2}', '{m}', '{{1},{2}}', 'clusters')) > 0 AS cluster_ok,
       engage.xml_escape('<&>'), engage.format_bytes(1536), engage.cluster_label(1, 3),
       engage.compare_to_average(3, 1);
SELECT engage.schedule_refresh('0 3 * * *', 'public.priv_xdr');
RESET search_path;
-- no trap was called
SELECT is_called AS hostile_object_called FROM regress_hostile.calls;

-- 3. Roles.  An analyst with USAGE on schema engage and its own xDR table; a
-- BI reader; an outsider who may not read the analyst's table.
CREATE ROLE regress_engage_analyst;
CREATE ROLE regress_engage_reader;
CREATE ROLE regress_engage_outsider;
GRANT USAGE ON SCHEMA engage TO regress_engage_analyst, regress_engage_reader, regress_engage_outsider;
CREATE SCHEMA regress_engage_data AUTHORIZATION regress_engage_analyst;
GRANT USAGE ON SCHEMA regress_engage_data TO regress_engage_outsider;

-- Every function but run_analysis and report_html needs nothing more
SET ROLE regress_engage_analyst;
SET search_path = regress_engage_data;
SELECT engage.generate_xdr('axdr', 300, 90, 11);
SELECT (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).sessions FROM axdr;
CREATE TABLE users AS
SELECT "MSISDN/Number" AS msisdn, (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).*
FROM axdr WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1;
SELECT count(*) AS points FROM engage.kmeans_cluster('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3);
SELECT count(*) AS clusters FROM engage.kmeans_centroids('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3);
SELECT count(*) AS ks FROM engage.elbow_inertia('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 1, 3);
SELECT count(*) AS features FROM engage.scaling_params('SELECT msisdn, sessions, duration_ms, total_bytes FROM users');
SELECT count(*) AS points FROM engage.normalize_points('SELECT msisdn, sessions, duration_ms, total_bytes FROM users');
SELECT engage.kmeans_predict(engage.kmeans_model('SELECT msisdn, sessions, duration_ms, total_bytes FROM users', 3), '{1, 0, 0}');
CREATE TABLE users_model AS
SELECT engage.kmeans_model('SELECT msisdn, sessions FROM users', 2) AS m;
GRANT SELECT ON users_model TO regress_engage_outsider;	-- the model, not the points
SELECT count(*) AS points FROM users_model, engage.kmeans_assign(m, 'SELECT msisdn, sessions FROM users');
SELECT length(engage.svg_bar_chart('{a}', '{1}', 't')) > 0 AS chart_ok;
-- run_analysis writes the run log and the result tables: without the grants
-- below it is refused, and so is the report
SELECT engage.run_analysis('axdr');
SELECT engage.report_html();
RESET ROLE;

-- What an admin grants an analyst (who runs run_analysis and report_html):
-- the rights on the run log, the result tables and the run id sequence
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA engage TO regress_engage_analyst;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA engage TO regress_engage_analyst;
-- and what a BI reader gets: the views
GRANT SELECT ON engage.latest_run, engage.user_engagement, engage.user_clusters, engage.cluster_stats,
                engage.top_users, engage.app_usage, engage.app_totals, engage.top_users_per_app,
                engage.top_apps, engage.elbow
TO regress_engage_reader;

SET ROLE regress_engage_analyst;
SELECT engage.run_analysis('axdr', k_max => 3) IS NOT NULL AS run_ok;
SELECT r.users = (SELECT count(*) FROM users) AS users_ok, r.status
FROM engage.latest_run r WHERE r.name = 'regress_engage_data.axdr';
SELECT position('<title>User engagement report: regress_engage_data.axdr' IN engage.report_html()) > 0 AS report_ok;
RESET ROLE;

-- run_analysis writes the users' rows in bulk (store_user_engagement), past
-- the executor's INSERT: it checks the INSERT privilege on
-- result_user_engagement itself, and refuses the table when row-level
-- security is enabled on it (it would not apply the policies)
REVOKE INSERT ON engage.result_user_engagement FROM regress_engage_analyst;
SET ROLE regress_engage_analyst;
SET client_min_messages = error;
SELECT engage.run_analysis('axdr', k_max => 0) IS NULL AS failed;
RESET client_min_messages;
SELECT status, sqlstate, error FROM engage.run ORDER BY run_id DESC LIMIT 1;
SELECT users FROM engage.store_user_engagement(0, $$SELECT 'a'::text, 1, 1::bigint, 1::numeric, 1::numeric,
    1::numeric, 2::numeric, 0::bigint, NULL::float8[], NULL::float8[], 0::bigint$$, 0);
RESET ROLE;
GRANT INSERT ON engage.result_user_engagement TO regress_engage_analyst;
ALTER TABLE engage.result_user_engagement ENABLE ROW LEVEL SECURITY;
CREATE POLICY all_rows ON engage.result_user_engagement TO regress_engage_analyst USING (true);
SET ROLE regress_engage_analyst;
SET client_min_messages = error;
SELECT engage.run_analysis('axdr', k_max => 0) IS NULL AS failed;
RESET client_min_messages;
SELECT status, sqlstate, error FROM engage.run ORDER BY run_id DESC LIMIT 1;
RESET ROLE;
DROP POLICY all_rows ON engage.result_user_engagement;
ALTER TABLE engage.result_user_engagement DISABLE ROW LEVEL SECURITY;
SELECT count(*) AS rows_of_failed_runs FROM engage.result_user_engagement u
JOIN engage.run r USING (run_id) WHERE r.status = 'failed';

-- and the users' clusters (store_user_clusters, run_analysis's K-means
-- step with k above 1000) the same way, on result_user_cluster: the INSERT
-- privilege, no row-level security.  run_analysis with k up to 1000 writes
-- no users' clusters (issue 11: computed where read), so its runs succeed
-- without that privilege and with row-level security on the table.
REVOKE INSERT ON engage.result_user_cluster FROM regress_engage_analyst;
SET ROLE regress_engage_analyst;
SET client_min_messages = error;
SELECT engage.run_analysis('axdr', k_max => 0) IS NULL AS failed;
RESET client_min_messages;
SELECT status, sqlstate, error FROM engage.run ORDER BY run_id DESC LIMIT 1;
SELECT engage.store_user_clusters(0, $$SELECT 'a'::text, 1::bigint, 1::numeric, 1::numeric, 1::numeric, 1::numeric$$, 1, 0);
RESET ROLE;
GRANT INSERT ON engage.result_user_cluster TO regress_engage_analyst;
ALTER TABLE engage.result_user_cluster ENABLE ROW LEVEL SECURITY;
CREATE POLICY all_rows ON engage.result_user_cluster TO regress_engage_analyst USING (true);
SET ROLE regress_engage_analyst;
SET client_min_messages = error;
SELECT engage.run_analysis('axdr', k_max => 0) IS NULL AS failed;
RESET client_min_messages;
SELECT status, sqlstate, error FROM engage.run ORDER BY run_id DESC LIMIT 1;
RESET ROLE;
DROP POLICY all_rows ON engage.result_user_cluster;
ALTER TABLE engage.result_user_cluster DISABLE ROW LEVEL SECURITY;
SELECT count(*) AS rows_of_failed_runs FROM engage.result_user_cluster u
JOIN engage.run r USING (run_id) WHERE r.status = 'failed';

-- The reader reads the views, and nothing else
SET ROLE regress_engage_reader;
SELECT count(*) > 0 AS reads_users FROM engage.user_engagement;
SELECT count(*) AS clusters FROM engage.cluster_stats WHERE name = 'regress_engage_data.axdr';
SELECT count(*) FROM engage.result_user_engagement;
SELECT engage.run_analysis('regress_engage_data.axdr');
RESET ROLE;

-- The query texts run with the caller's rights: the outsider may not read
-- the analyst's table (42501), even with the analyst's grants on engage
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA engage TO regress_engage_outsider;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA engage TO regress_engage_outsider;
SET ROLE regress_engage_outsider;
CREATE FUNCTION pg_temp.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN EXECUTE q; RETURN 'ok'; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM; END $$;
SELECT f, pg_temp.sqlstate_of(q) FROM (VALUES
  ('engagement_agg', $$SELECT engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)") FROM regress_engage_data.axdr$$),
  ('kmeans_cluster', $$SELECT * FROM engage.kmeans_cluster('SELECT msisdn, sessions FROM regress_engage_data.users', 2)$$),
  ('kmeans_centroids', $$SELECT * FROM engage.kmeans_centroids('SELECT msisdn, sessions FROM regress_engage_data.users', 2)$$),
  ('kmeans_model', $$SELECT engage.kmeans_model('SELECT msisdn, sessions FROM regress_engage_data.users', 2)$$),
  ('kmeans_assign', $$SELECT count(*) FROM engage.kmeans_assign((SELECT m FROM regress_engage_data.users_model), 'SELECT msisdn, sessions FROM regress_engage_data.users')$$),
  ('elbow_inertia', $$SELECT * FROM engage.elbow_inertia('SELECT msisdn, sessions FROM regress_engage_data.users')$$),
  ('scaling_params', $$SELECT * FROM engage.scaling_params('SELECT msisdn, sessions FROM regress_engage_data.users')$$),
  ('normalize_points', $$SELECT * FROM engage.normalize_points('SELECT msisdn, sessions FROM regress_engage_data.users')$$),
  ('generate_xdr', $$SELECT engage.generate_xdr('regress_engage_data.mine', 10)$$)
) AS t(f, q);
-- run_analysis: the failure is logged (the call returns NULL, with a warning)
SET client_min_messages = error;
SELECT engage.run_analysis('regress_engage_data.axdr') IS NULL AS failed;
RESET client_min_messages;
SELECT status, sqlstate, error FROM engage.run ORDER BY run_id DESC LIMIT 1;
RESET ROLE;

-- 4. Row-level security: a policy shows the outsider the users with an even
-- MSISDN only; engagement_agg, the clustering and run_analysis see those rows
ALTER TABLE regress_engage_data.axdr ENABLE ROW LEVEL SECURITY;
CREATE POLICY even_users ON regress_engage_data.axdr FOR SELECT TO regress_engage_outsider
USING ("MSISDN/Number"::bigint % 2 = 0);
GRANT SELECT ON regress_engage_data.axdr TO regress_engage_outsider;
SELECT count(*) AS all_rows, count(*) FILTER (WHERE "MSISDN/Number"::bigint % 2 = 0) AS visible_rows,
       count(DISTINCT "MSISDN/Number") FILTER (WHERE "MSISDN/Number"::bigint % 2 = 0) AS visible_users
FROM regress_engage_data.axdr \gset
SELECT :visible_rows < :all_rows AS policy_hides_rows;
SET ROLE regress_engage_outsider;
SELECT (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).sessions = :visible_rows AS agg_sees_visible_rows
FROM regress_engage_data.axdr;
SELECT count(*) = :visible_users AS kmeans_sees_visible_users
FROM engage.kmeans_cluster('SELECT "MSISDN/Number", (engage.engagement_agg("Dur. (ms)", "Total DL (Bytes)", "Total UL (Bytes)")).sessions
                            FROM regress_engage_data.axdr WHERE "MSISDN/Number" IS NOT NULL GROUP BY 1', 1);
SELECT engage.run_analysis('regress_engage_data.axdr', k_max => 0) IS NOT NULL AS run_ok;
SELECT rows_read = :visible_rows AS rows_read_ok, users = :visible_users AS users_ok
FROM engage.run ORDER BY run_id DESC LIMIT 1;
RESET ROLE;

-- 5. Texts from the data are never markup: an MSISDN (here the location
-- column) and an application named <script>alert(1)</script> & "q"
CREATE TABLE public.esc_xdr AS SELECT * FROM regress_engage_data.axdr;
UPDATE public.esc_xdr SET "Last Location Name" = '<script>alert(1)</script> & "q"'
WHERE "Bearer Id" IN (SELECT "Bearer Id" FROM public.esc_xdr ORDER BY "Bearer Id" LIMIT 40);
SELECT engage.run_analysis('public.esc_xdr', k_max => 2, msisdn_column => 'Last Location Name',
    applications => '{"<script>alert(1)</script> & \"q\"": ["Gaming DL (Bytes)", "Gaming UL (Bytes)"],
                      "Email": ["Email DL (Bytes)", "Email UL (Bytes)"]}') IS NOT NULL AS run_ok;
SELECT count(*) AS hostile_msisdn_in_top_users FROM engage.top_users
WHERE msisdn = '<script>alert(1)</script> & "q"';
CREATE TEMP TABLE outputs AS
SELECT 'report_html' AS output, engage.report_html() AS doc
UNION ALL
SELECT 'svg_bar_chart', engage.svg_bar_chart(ARRAY['<script>alert(1)</script> & "q"', 'b'], '{1,2}',
                                            '<script>alert(1)</script> & "q"', '<script>alert(1)</script> & "q"',
                                            '<script>alert(1)</script> & "q"', '<script>alert(1)</script> & "q"')
UNION ALL
SELECT 'svg_line_chart', engage.svg_line_chart('{1,2}', '{1,2}', '<script>alert(1)</script> & "q"',
                                              '<script>alert(1)</script> & "q"', '<script>alert(1)</script> & "q"',
                                              1, '<script>alert(1)</script> & "q"')
UNION ALL
SELECT 'svg_cluster_chart', engage.svg_cluster_chart(ARRAY['<script>alert(1)</script> & "q"', 'b'], '{1,2}',
                                                    ARRAY['<script>alert(1)</script> & "q"'], '{{1},{2}}',
                                                    '<script>alert(1)</script> & "q"');
SELECT output,
       position('<script' IN lower(doc)) = 0 AS no_script_tag,
       position('</script> & "q"' IN doc) = 0 AS no_raw_text,
       position('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;' IN doc) > 0 AS escaped_text_present
FROM outputs ORDER BY output;

-- Clean up: the database, then the roles
\c :main_db
DROP DATABASE regression_engage_privileges;
DROP ROLE regress_engage_analyst, regress_engage_reader, regress_engage_outsider;
SELECT count(*) AS roles_left FROM pg_roles
WHERE rolname IN ('regress_engage_analyst', 'regress_engage_reader', 'regress_engage_outsider');
