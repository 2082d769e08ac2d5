-- upgrade: engage 0.1.0 upgraded to 0.2.0 (ALTER EXTENSION engage UPDATE)
-- keeps the results of its runs and the figures of its functions, and ends
-- with exactly the objects of a fresh 0.2.0 install.  Leaves engage 0.2.0
-- (fresh) installed for the tests after this one.

-- 1. engage 0.1.0, as released (its script names the C symbols of 0.1.0,
-- which the library keeps: src/compat.c)
SET client_min_messages = warning;
DROP EXTENSION engage CASCADE;
CREATE EXTENSION engage VERSION '0.1.0';
RESET client_min_messages;
SELECT extversion FROM pg_extension WHERE extname = 'engage';

-- Analyses of two tables with 0.1.0: public.upg_xdr, then public.upg_xdr2
-- (k = 2), whose run is the only one 0.1.0's views show
SET client_min_messages = warning;
SELECT engage.generate_xdr('public.upg_xdr', 4000, seed => 7);
SELECT engage.generate_xdr('public.upg_xdr2', 3000, seed => 8);
RESET client_min_messages;
SELECT engage.run_analysis('public.upg_xdr', k_max => 5) AS first_run \gset
SELECT :first_run IS NOT NULL AS run_ok;

-- What the results look like before the upgrade: every row of every view,
-- as text (float8 in its shortest exact form; the columns that 0.2.0 adds
-- to the views apart: name, engagement_score, the elbow's indexes), and the
-- report of the run
CREATE TEMP VIEW upg_results AS
SELECT 'latest_run' AS view, to_jsonb(t) ->> 'name' AS name, t.run_id,
       (t.run_id, t.started, t.ended, t.source, t.parameters, t.rows_read, t.rows_without_subscriber,
        t.rejected_values, t.users, t.k, t.inertia, t.elbow_k, t.status, t.error, t.sqlstate)::text AS row
FROM engage.latest_run t
UNION ALL SELECT 'user_engagement', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.user_engagement t
UNION ALL SELECT 'user_clusters', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name' - 'engagement_score')::text FROM engage.user_clusters t
UNION ALL SELECT 'cluster_stats', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.cluster_stats t
UNION ALL SELECT 'top_users', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.top_users t
UNION ALL SELECT 'app_usage', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.app_usage t
UNION ALL SELECT 'app_totals', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.app_totals t
UNION ALL SELECT 'top_users_per_app', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.top_users_per_app t
UNION ALL SELECT 'top_apps', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name')::text FROM engage.top_apps t
UNION ALL SELECT 'elbow', to_jsonb(t) ->> 'name', t.run_id, (to_jsonb(t) - 'name' - 'davies_bouldin' - 'calinski_harabasz')::text FROM engage.elbow t;
CREATE TEMP TABLE results_first AS SELECT view, row FROM upg_results;
SELECT engage.run_analysis('public.upg_xdr2', k => 2, k_max => 3) AS other_run \gset
CREATE TEMP TABLE results_0_1 AS SELECT view, row FROM upg_results;
SELECT view, count(*) AS rows, count(*) FILTER (WHERE run_id = :other_run) AS of_the_other_run
FROM upg_results GROUP BY view ORDER BY view;
CREATE TEMP TABLE report_0_1 AS SELECT engage.report_html(:first_run) AS doc, engage.report_html(:other_run) AS other_doc;

-- The four functions whose C symbol 0.2.0 renames, called through their
-- symbols of 0.1.0
SELECT p.oid::regprocedure AS function, p.prosrc AS symbol
FROM pg_proc p
WHERE p.pronamespace = 'engage'::regnamespace
  AND p.proname IN ('svg_bar_chart', 'svg_line_chart', 'svg_cluster_chart', 'kmeans_assign')
ORDER BY 1::text;
CREATE TEMP TABLE charts_0_1 AS
SELECT engage.svg_bar_chart('{a,b,c}', '{3,1,2}', 'bars', 'x', 'y', 'B') AS bar,
       engage.svg_line_chart('{1,2,3,4}', '{9,4,2,1}', 'line', 'k', 'inertia', 2, 'elbow: k = 2') AS line,
       engage.svg_cluster_chart('{a,b}', '{10,20}', '{m1,m2}', '{{1,2},{3,4}}', 'clusters') AS clusters;
\set points 'SELECT msisdn, sessions, duration_ms, total_bytes FROM engage.result_user_engagement WHERE run_id = ' :first_run
CREATE TEMP TABLE assign_0_1 AS
SELECT a.key, a.cluster, a.distance::text AS distance
FROM engage.kmeans_assign(engage.kmeans_model(:'points', 3), :'points') AS a;
SELECT count(*) AS assigned FROM assign_0_1;

-- A message of 0.1.0 (the routine name first)
\set VERBOSITY terse
SELECT engage.report_html(-1);
\set VERBOSITY default

-- What an administrator adds: a grant on a view, and a view of their own
-- on one (the upgrade replaces the views in place, adding the column name
-- at their end: both stay)
GRANT SELECT ON engage.cluster_stats TO PUBLIC;
CREATE VIEW public.upg_dashboard AS SELECT c.run_id, c.cluster, c.users FROM engage.cluster_stats c;

-- 2. The upgrade
ALTER EXTENSION engage UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'engage';

-- The runs of 0.1.0 belong to their source's analysis (engage.run.name):
-- the views show the latest run of each, with the name.  The run of
-- public.upg_xdr2 is in the views as 0.1.0 showed it, unchanged; the run
-- of public.upg_xdr (hidden by the later run in 0.1.0) as 0.1.0 showed it
-- before; their reports are the same pages.
SELECT run_id, name, source, status FROM engage.run ORDER BY run_id;
SELECT name, run_id FROM engage.latest_run ORDER BY name;
SELECT (SELECT count(*) FROM results_0_1) AS rows_before,
       (SELECT count(*) FROM (TABLE results_0_1
                              EXCEPT ALL SELECT view, row FROM upg_results WHERE name = 'public.upg_xdr2') d) AS missing,
       (SELECT count(*) FROM (SELECT view, row FROM upg_results WHERE name = 'public.upg_xdr2'
                              EXCEPT ALL TABLE results_0_1) d) AS added;
SELECT (SELECT count(*) FROM results_first) AS rows_first,
       (SELECT count(*) FROM (TABLE results_first
                              EXCEPT ALL SELECT view, row FROM upg_results WHERE name = 'public.upg_xdr') d) AS missing,
       (SELECT count(*) FROM (SELECT view, row FROM upg_results WHERE name = 'public.upg_xdr'
                              EXCEPT ALL TABLE results_first) d) AS added,
       (SELECT count(*) FROM upg_results WHERE name IS NULL OR name NOT IN ('public.upg_xdr', 'public.upg_xdr2')) AS other_names;
-- the runs of 0.1.0 kept no model: no engagement score, and nothing for a
-- warm start to match
SELECT name, count(*) AS users, count(engagement_score) AS scores FROM engage.user_clusters GROUP BY name ORDER BY name;
SELECT run_id, cluster_model IS NULL AS no_model, warm_start_run FROM engage.run ORDER BY run_id;
SELECT doc = engage.report_html(:first_run) AS same_report, other_doc = engage.report_html(:other_run) AS same_other_report,
       other_doc = engage.report_html() AS latest_report, other_doc = engage.report_html(name => 'public.upg_xdr2') AS by_name
FROM report_0_1;

-- The administrator's grant and view are still there
SELECT has_table_privilege('public', 'engage.cluster_stats', 'SELECT') AS public_grant_kept,
       (SELECT count(*) FROM public.upg_dashboard) AS dashboard_rows;
REVOKE SELECT ON engage.cluster_stats FROM PUBLIC;
DROP VIEW public.upg_dashboard;

-- The four functions on their new symbols, with the same results
SELECT p.oid::regprocedure AS function, p.prosrc AS symbol
FROM pg_proc p
WHERE p.pronamespace = 'engage'::regnamespace
  AND p.proname IN ('svg_bar_chart', 'svg_line_chart', 'svg_cluster_chart', 'kmeans_assign')
ORDER BY 1::text;
SELECT bar = engage.svg_bar_chart('{a,b,c}', '{3,1,2}', 'bars', 'x', 'y', 'B') AS same_bar,
       line = engage.svg_line_chart('{1,2,3,4}', '{9,4,2,1}', 'line', 'k', 'inertia', 2, 'elbow: k = 2') AS same_line,
       clusters = engage.svg_cluster_chart('{a,b}', '{10,20}', '{m1,m2}', '{{1,2},{3,4}}', 'clusters') AS same_clusters
FROM charts_0_1;
SELECT count(*) AS differing FROM (
  (SELECT * FROM assign_0_1
   EXCEPT ALL
   SELECT a.key, a.cluster, a.distance::text
   FROM engage.kmeans_assign(engage.kmeans_model(:'points', 3), :'points') AS a)
  UNION ALL
  (SELECT a.key, a.cluster, a.distance::text
   FROM engage.kmeans_assign(engage.kmeans_model(:'points', 3), :'points') AS a
   EXCEPT ALL
   TABLE assign_0_1)) d;

-- The message of 0.2.0 (the CONTEXT line names the function)
\set VERBOSITY terse
SELECT engage.report_html(-1);
\set VERBOSITY default

-- run_analysis of 0.2.0 on the same table: the same figures as the run of
-- 0.1.0, but for K-means and the elbow, which 0.2.0 fits with the split
-- K-means (kmeans_fit_sampled's and elbow_fit_sampled's algorithms, the
-- same on one node and on Citus): Lloyd's iteration from other starts,
-- and a local optimum close to 0.1.0's (below)
SELECT engage.run_analysis('public.upg_xdr', k_max => 5) > :first_run AS second_run_ok;
-- The figures of a run, without its run_id and times (and clusters)
CREATE FUNCTION pg_temp.run_figures(run bigint) RETURNS TABLE (result text, figures text)
LANGUAGE sql STABLE AS $$
SELECT 'user_engagement', (t.msisdn, t.sessions, t.duration_ms, t.dl_bytes, t.ul_bytes, t.total_bytes)::text
FROM engage.result_user_engagement t WHERE t.run_id = run
UNION ALL SELECT 'user_cluster', (t.msisdn, t.sessions, t.duration_ms, t.total_bytes)::text
FROM engage.result_user_cluster t WHERE t.run_id = run
UNION ALL SELECT 'user_cluster', (t.msisdn, t.sessions, t.duration_ms, t.total_bytes)::text
FROM engage.result_user_engagement t JOIN engage.run r USING (run_id) WHERE t.run_id = run AND r.clusters_on_read
UNION ALL SELECT 'cluster_stats', (t.cluster, t.label)::text
FROM engage.result_cluster_stats t WHERE t.run_id = run
UNION ALL SELECT 'top_users', (t.metric, t.rank, t.msisdn, t.value)::text
FROM engage.result_top_users t WHERE t.run_id = run
UNION ALL SELECT 'app_totals', (t.application, t.position, t.rank, t.users, t.dl_bytes, t.ul_bytes, t.total_bytes)::text
FROM engage.result_app_totals t WHERE t.run_id = run
UNION ALL SELECT 'top_users_per_app', (t.application, t.rank, t.msisdn, t.total_bytes)::text
FROM engage.result_top_users_per_app t WHERE t.run_id = run
UNION ALL SELECT 'elbow', (t.k, t.is_elbow)::text
FROM engage.result_elbow t WHERE t.run_id = run
$$;
SELECT max(run_id) AS second_run FROM engage.run WHERE status = 'ok' \gset
SELECT (SELECT count(*) FROM pg_temp.run_figures(:first_run)) AS rows_0_1,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.run_figures(:first_run)
                              EXCEPT ALL SELECT * FROM pg_temp.run_figures(:second_run)) d) AS only_0_1,
       (SELECT count(*) FROM (SELECT * FROM pg_temp.run_figures(:second_run)
                              EXCEPT ALL SELECT * FROM pg_temp.run_figures(:first_run)) d) AS only_0_2;
-- K-means and the elbow: each k's inertia at most 1e-3 (relative) above
-- 0.1.0's (elbow_fit_sampled drops a run 1e-3 above its k's best; here
-- its k = 5 is 1% below), the k = 3 inertia within 1e-4 of 0.1.0's, and at
-- least 99% of the users in the same cluster
SELECT count(*) AS ks, count(*) FILTER (WHERE b.inertia <= a.inertia * (1 + 1e-3)) AS inertia_not_above
FROM engage.result_elbow a JOIN engage.result_elbow b USING (k)
WHERE a.run_id = :first_run AND b.run_id = :second_run;
SELECT abs(b.inertia - a.inertia) <= 1e-4 * a.inertia AS kmeans_inertia_close,
       (SELECT count(*) FILTER (WHERE x.cluster = y.cluster) >= 0.99 * count(*) AND count(*) > 0
        FROM engage.result_user_cluster x
        JOIN (SELECT e.msisdn, (engage.kmeans_nearest(r.cluster_model,
                                   ARRAY[e.sessions, COALESCE(e.duration_ms, 0), COALESCE(e.total_bytes, 0)]::float8[])).cluster
              FROM engage.result_user_engagement e JOIN engage.run r USING (run_id)
              WHERE e.run_id = :second_run AND r.clusters_on_read) y USING (msisdn)
        WHERE x.run_id = :first_run) AS clusters_agree
FROM engage.run a, engage.run b WHERE a.run_id = :first_run AND b.run_id = :second_run;

-- The runs of 0.1.0 count as earlier runs of their source's analysis: a
-- run of public.upg_xdr keeping 1 run prunes the run of 0.1.0 and the one
-- above, and leaves the other analysis (public.upg_xdr2) alone
SELECT engage.run_analysis('public.upg_xdr', k_max => 0, keep_runs => 1) IS NOT NULL AS third_run_ok;
SELECT run_id, name, status FROM engage.run ORDER BY run_id;
SELECT name, run_id FROM engage.latest_run ORDER BY name;

-- 3. The upgraded extension has exactly the objects of a fresh 0.2.0
-- install.  engage_objects describes each member object of the extension
-- (pg_depend, deptype 'e') by name, one row per property: functions
-- (arguments with their defaults, result, language, volatility,
-- strictness, parallel safety, security, cost, rows, settings, source or
-- symbol, library, privileges), aggregates (their support functions, state
-- and initial value), relations (kind, columns with their types, defaults
-- and NOT NULL, view definitions, indexes, constraints, triggers,
-- policies, privileges), composite types (attributes), sequences
-- (parameters, owner column), comments (of objects and columns), what
-- depends on the members (array types, indexes, rules, defaults, ...), and
-- the extension's own row (configuration tables, version).
CREATE TEMP VIEW engage_objects AS
WITH member AS (
	SELECT d.classid, d.objid, pg_describe_object(d.classid, d.objid, d.objsubid) AS object
	FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'engage' AND d.deptype = 'e'
), rel AS (	-- the relations among the members, and the row types of the composite types
	SELECT m.object, c.oid, c.relkind
	FROM member m JOIN pg_class c ON m.classid = 'pg_class'::regclass AND c.oid = m.objid
	UNION ALL
	SELECT m.object, c.oid, c.relkind
	FROM member m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
	JOIN pg_class c ON c.oid = t.typrelid
)
SELECT m.object, 'member' AS property, m.classid::regclass::text AS value
FROM member m
UNION ALL
SELECT m.object, 'comment', pg_catalog.obj_description(m.objid, m.classid::regclass::name)
FROM member m
UNION ALL
SELECT m.object, p.property, p.value
FROM member m JOIN pg_proc f ON m.classid = 'pg_proc'::regclass AND f.oid = m.objid
CROSS JOIN LATERAL (VALUES
	('kind', f.prokind::text),
	('arguments', pg_get_function_arguments(f.oid)),
	('identity arguments', pg_get_function_identity_arguments(f.oid)),
	('result', pg_get_function_result(f.oid)),
	('language', (SELECT l.lanname::text FROM pg_language l WHERE l.oid = f.prolang)),
	('volatility', f.provolatile::text),
	('strict', f.proisstrict::text),
	('parallel', f.proparallel::text),
	('security definer', f.prosecdef::text),
	('leakproof', f.proleakproof::text),
	('cost', f.procost::text),
	('rows', f.prorows::text),
	('settings', f.proconfig::text),
	('source', CASE WHEN length(f.prosrc) <= 80 THEN f.prosrc
	                ELSE format('%s characters, md5 %s', length(f.prosrc), md5(f.prosrc)) END),
	('SQL body', pg_get_function_sqlbody(f.oid)),
	('library', f.probin),
	('privileges', f.proacl::text)
) AS p(property, value)
UNION ALL
SELECT m.object, 'aggregate ' || p.property, p.value
FROM member m JOIN pg_aggregate a ON m.classid = 'pg_proc'::regclass AND a.aggfnoid = m.objid
CROSS JOIN LATERAL (VALUES
	('kind', a.aggkind::text),
	('direct arguments', a.aggnumdirectargs::text),
	('transition function', a.aggtransfn::regprocedure::text),
	('final function', a.aggfinalfn::regprocedure::text),
	('combine function', a.aggcombinefn::regprocedure::text),
	('serial function', a.aggserialfn::regprocedure::text),
	('deserial function', a.aggdeserialfn::regprocedure::text),
	('moving functions', concat_ws(' ', a.aggmtransfn::regprocedure, a.aggminvtransfn::regprocedure,
	                               a.aggmfinalfn::regprocedure, a.aggmtranstype::regtype, a.aggmtransspace,
	                               a.aggminitval)),
	('final extra, modify', concat_ws(' ', a.aggfinalextra, a.aggfinalmodify)),
	('sort operator', a.aggsortop::regoperator::text),
	('state type', a.aggtranstype::regtype::text),
	('state space', a.aggtransspace::text),
	('initial state', a.agginitval)
) AS p(property, value)
UNION ALL
SELECT r.object, p.property, p.value
FROM rel r JOIN pg_class c ON c.oid = r.oid
CROSS JOIN LATERAL (VALUES
	('relation kind', c.relkind::text),
	('persistence', c.relpersistence::text),
	('options', c.reloptions::text),
	('row security', concat_ws(' ', c.relrowsecurity, c.relforcerowsecurity)),
	-- (NULL and an explicit default are the same privileges: a grant
	-- revoked leaves the explicit default)
	('privileges', COALESCE(c.relacl, acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))::text),
	('view definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END)
) AS p(property, value)
UNION ALL
SELECT r.object, format('column %s %s', row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum), a.attname),
       concat_ws(' ', format_type(a.atttypid, a.atttypmod),
                 CASE WHEN a.attnotnull THEN 'NOT NULL' END,
                 'DEFAULT ' || pg_get_expr(ad.adbin, ad.adrelid),
                 'COLLATE ' || NULLIF(a.attcollation, 0)::regcollation::text,
                 'IDENTITY ' || NULLIF(a.attidentity::text, ''),
                 'GENERATED ' || NULLIF(a.attgenerated::text, ''),
                 'COMMENT ' || quote_literal(col_description(r.oid, a.attnum)),
                 'PRIVILEGES ' || a.attacl::text)
FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
UNION ALL
SELECT r.object, 'index ' || i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM rel r JOIN pg_index i ON i.indrelid = r.oid
UNION ALL
SELECT r.object, 'constraint ' || k.conname, pg_get_constraintdef(k.oid)
FROM rel r JOIN pg_constraint k ON k.conrelid = r.oid
UNION ALL
SELECT r.object, 'trigger ' || t.tgname, pg_get_triggerdef(t.oid)
FROM rel r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
UNION ALL
SELECT r.object, 'policy ' || y.polname,
       concat_ws(' ', y.polcmd, y.polpermissive, y.polroles::text, pg_get_expr(y.polqual, y.polrelid),
                 pg_get_expr(y.polwithcheck, y.polrelid))
FROM rel r JOIN pg_policy y ON y.polrelid = r.oid
UNION ALL
SELECT m.object, 'sequence',
       concat_ws(' ', s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle,
                 'OWNED BY ' || (SELECT pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                 FROM pg_depend d
                                 WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype = 'a'))
FROM member m JOIN pg_sequence s ON m.classid = 'pg_class'::regclass AND s.seqrelid = m.objid
UNION ALL
SELECT m.object, 'type', concat_ws(' ', t.typtype, t.typcategory, t.typacl)
FROM member m JOIN pg_type t ON m.classid = 'pg_type'::regclass AND t.oid = m.objid
UNION ALL
SELECT m.object, 'initial privileges', ip.initprivs::text
FROM member m JOIN pg_init_privs ip ON ip.classoid = m.classid AND ip.objoid = m.objid AND ip.objsubid = 0
UNION ALL
-- what belongs to a member without being one (automatic and internal
-- dependencies: array types, indexes, constraints, defaults, rules, ...;
-- the toast tables, named by their oid, are left out: they only come with
-- the tables)
SELECT m.object, 'dependent ' || d.deptype::text,
       pg_describe_object(d.classid, d.objid, d.objsubid)
FROM member m JOIN pg_depend d ON d.refclassid = m.classid AND d.refobjid = m.objid
WHERE d.deptype IN ('a', 'i')
  AND NOT EXISTS (SELECT FROM member x WHERE x.classid = d.classid AND x.objid = d.objid)
  AND NOT (d.classid = 'pg_class'::regclass AND (SELECT c.relkind FROM pg_class c WHERE c.oid = d.objid) = 't')
  AND NOT (d.classid = 'pg_type'::regclass
           AND (SELECT t.typrelid FROM pg_type t WHERE t.oid = d.objid) IN (SELECT c.oid FROM pg_class c WHERE c.relkind = 't'))
UNION ALL
SELECT 'extension engage', p.property, p.value
FROM pg_extension e
CROSS JOIN LATERAL (VALUES
	('version', e.extversion),
	('schema', e.extnamespace::regnamespace::text),
	('relocatable', e.extrelocatable::text),
	('configuration tables', (SELECT string_agg(format('%s %L', c::regclass, w), ', ' ORDER BY c::regclass::text)
	                          FROM unnest(e.extconfig, e.extcondition) AS x(c, w)))
) AS p(property, value)
WHERE e.extname = 'engage';

DROP VIEW upg_results;
CREATE TEMP TABLE objects_upgraded AS SELECT * FROM engage_objects;

-- A fresh install of 0.2.0
SET client_min_messages = warning;
DROP EXTENSION engage CASCADE;
RESET client_min_messages;
CREATE EXTENSION engage;
SELECT extversion FROM pg_extension WHERE extname = 'engage';
CREATE TEMP TABLE objects_fresh AS SELECT * FROM engage_objects;

-- What was described: the member objects by catalog, and properties
SELECT value AS catalog, count(*) AS members
FROM objects_fresh WHERE property = 'member' GROUP BY value ORDER BY value;
SELECT (SELECT count(*) FROM objects_upgraded) = (SELECT count(*) FROM objects_fresh) AS same_count,
       (SELECT count(*) > 1000 FROM objects_fresh) AS many_properties;

-- The difference, both ways: none
SELECT 'only after the upgrade' AS side, d.*
FROM (TABLE objects_upgraded EXCEPT TABLE objects_fresh) d
UNION ALL
SELECT 'only in a fresh install', d.*
FROM (TABLE objects_fresh EXCEPT TABLE objects_upgraded) d
ORDER BY 2, 3, 1;

DROP TABLE public.upg_xdr, public.upg_xdr2;
