-- report: engage.report_html, one run's results as a self-contained HTML page.
-- An empty run log, so that the run ids start at 1 whatever the tests
-- before this one ran.
TRUNCATE engage.run, engage.result_user_engagement, engage.result_user_cluster,
         engage.result_cluster_stats, engage.result_top_users,
         engage.result_app_totals, engage.result_top_users_per_app, engage.result_elbow,
         engage.result_cluster_activity
         RESTART IDENTITY;
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.xdr;
SELECT engage.generate_xdr('public.xdr', 20000, seed => 5);
RESET client_min_messages;
\set SHOW_CONTEXT never

-- No run yet: errors with a hint
SELECT engage.report_html();
SELECT engage.report_html(1);

-- Bytes as the report writes them (SI prefixes, 1 kB = 1,000 bytes)
SELECT x, engage.format_bytes(x)
FROM unnest(ARRAY[0, 999, 999.7, 1000, 1536, 999949, 999950, 2.5e9, 8598031720265, -2500, NULL]::numeric[]) AS x;

-- The analysis of the generated data (run 1), and its report
SELECT engage.run_analysis('public.xdr');
CREATE TEMP TABLE rep AS SELECT engage.report_html() AS html;

-- A complete HTML5 page: no scripts, no external resources, the charts
-- inline (without their XML declarations)
SELECT left(html, 15) = '<!DOCTYPE html>' AS doctype,
       right(html, 8) = '</html>' || E'\n' AS ends_with_html,
       position('<meta charset="utf-8">' IN html) > 0 AS utf8,
       position('<title>User engagement report: public.xdr, run 1</title>' IN html) > 0 AS title,
       position('<style>' IN html) > 0 AS inline_css,
       position('<script' IN lower(html)) = 0 AS no_script,
       html !~* '(src|href|url)\s*[=(]' AS no_external_resources,
       position('<?xml' IN html) = 0 AS no_xml_declaration,
       html = engage.report_html(1) AS same_as_run_1,
       octet_length(html) BETWEEN 20000 AND 200000 AS reasonable_size
FROM rep;

-- The sections
SELECT s AS section, position(s IN html) > 0 AS present
FROM rep, unnest(ARRAY['<h1>User engagement report</h1>', '<h2>Top 10 users</h2>',
                       '<h3>By sessions</h3>', '<h3>By total session duration</h3>',
                       '<h3>By total traffic (DL + UL)</h3>', '<h2>Engagement clusters</h2>',
                       '<h2>Applications</h2>', '<h3>Top 3 applications</h3>',
                       '<h3>Application totals</h3>', '<h3>Top 10 users of each application</h3>',
                       '<h2>Elbow method</h2>', '<footer>']) WITH ORDINALITY AS u(s, n)
ORDER BY n;

-- The three charts: cluster chart, top 3 applications, elbow curve
SELECT (length(html) - length(replace(html, '<svg ', ''))) / 5 AS svg_elements,
       (length(html) - length(replace(html, '</svg>', ''))) / 6 AS svg_ends,
       position('<title>User engagement clusters (k = 3)</title>' IN html) > 0 AS cluster_chart,
       position('<title>Top 3 applications by total traffic</title>' IN html) > 0 AS apps_chart,
       position('<title>Elbow method: K-means inertia by k</title>' IN html) > 0 AS elbow_chart,
       position('elbow: k = 3' IN html) > 0 AS elbow_marked
FROM rep;

-- The run in figures, readably formatted
SELECT position(format('<div class="k">Rows read</div><div class="v">%s</div>', to_char(l.rows_read, 'FM999,999,990')) IN r.html) > 0 AS rows_read,
       position(format('<div class="k">Rows left out</div><div class="v">%s</div>', l.rows_without_subscriber) IN r.html) > 0 AS rows_left_out,
       position(format('<div class="k">Users</div><div class="v">%s</div>', to_char(l.users, 'FM999,999,990')) IN r.html) > 0 AS users,
       position(format('<div class="k">Clusters (k)</div><div class="v">%s</div>', l.k) IN r.html) > 0 AS k,
       position(format('<div class="k">Inertia</div><div class="v">%s</div>', to_char(l.inertia, 'FM999,999,990.0')) IN r.html) > 0 AS inertia,
       position(format('<div class="k">Elbow k</div><div class="v">%s</div>', l.elbow_k) IN r.html) > 0 AS elbow_k,
       position('<div class="v">public.xdr</div>' IN r.html) > 0 AS source
FROM engage.latest_run l, rep r;

-- The top users of the views are in the report
SELECT t.msisdn AS top_by_sessions, position('<td>' || t.msisdn || '</td>' IN r.html) > 0 AS in_report
FROM engage.top_users t, rep r WHERE t.metric = 'sessions' AND t.rank = 1;
SELECT t.metric, count(*) AS users,
       count(*) FILTER (WHERE position('<td>' || t.msisdn || '</td>' IN r.html) > 0) AS in_report
FROM engage.top_users t, rep r GROUP BY t.metric ORDER BY t.metric;
SELECT count(*) AS top_users_per_app,
       count(*) FILTER (WHERE position('<td>' || t.msisdn || '</td><td class="n">'
                                       || engage.format_bytes(t.total_bytes) || '</td>' IN r.html) > 0) AS in_report
FROM engage.top_users_per_app t, rep r;

-- Each cluster with its label, description and size; each application
SELECT c.cluster, c.label,
       position(format('<div class="lbl">%s &middot; %s</div>', c.cluster, c.label) IN r.html) > 0 AS label_present,
       position(engage.xml_escape(c.description) IN r.html) > 0 AS description_present,
       position('<td class="n">' || to_char(c.users, 'FM999,999,990') || '</td>' IN r.html) > 0 AS users_present
FROM engage.cluster_stats c, rep r ORDER BY c.cluster;
SELECT a.rank, a.application, position('<td>' || a.application || '</td>' IN r.html) > 0 AS in_report
FROM engage.app_totals a, rep r ORDER BY a.rank;

-- The elbow table marks the elbow's row
SELECT e.k, position(format('<tr class="mark"><td class="n">%s</td>', e.k) IN r.html) > 0 AS marked
FROM engage.elbow e, rep r WHERE e.is_elbow;

-- An older kept run is reported from its own rows; NULL is the latest
SELECT engage.run_analysis('public.xdr', k => 2, seed => 1, k_max => 4);
SELECT position('<title>User engagement report: public.xdr, run 1</title>' IN engage.report_html(1)) > 0 AS run_1,
       position('3 &middot; high engagement' IN engage.report_html(1)) > 0 AS run_1_has_3_clusters,
       engage.report_html() = engage.report_html(2) AS latest_is_run_2,
       position('2 &middot; high engagement' IN engage.report_html(2)) > 0 AS run_2_has_2_clusters,
       position('3 &middot;' IN engage.report_html(2)) = 0 AS run_2_has_no_cluster_3,
       position('K-means inertia for k = 1..4' IN engage.report_html(2)) > 0 AS run_2_elbow_1_to_4;

-- Texts from the data are escaped: hostile application names (run 3), and
-- no elbow curve (k_max => 0): two charts
SELECT engage.run_analysis('public.xdr', k_max => 0, applications =>
  '{"<script>alert(1)</script>": ["Gaming DL (Bytes)", "Gaming UL (Bytes)"],
    "A & B \"quoted\" ''single''": ["Youtube DL (Bytes)", "Youtube UL (Bytes)"]}');
WITH r AS (SELECT engage.report_html(3) AS html)
SELECT position('<script' IN lower(html)) = 0 AS no_script_element,
       position('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>' IN html) > 0 AS script_escaped_in_table,
       position('<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>' IN html) > 0 AS script_escaped_in_heading,
       position('<td>A &amp; B &quot;quoted&quot; &#39;single&#39;</td>' IN html) > 0 AS quotes_escaped,
       position('The elbow curve was skipped' IN html) > 0 AS elbow_skipped,
       (length(html) - length(replace(html, '<svg ', ''))) / 5 AS svg_elements,
       position('<div class="k">Elbow k</div><div class="v">&ndash;</div>' IN html) > 0 AS no_elbow_k
FROM r;

-- No applications (run 4): a note instead of the section's tables; the
-- cluster chart only.  Run 4 prunes run 1 (keep_runs 3).
SELECT engage.run_analysis('public.xdr', k_max => 0, applications => '{}');
WITH r AS (SELECT engage.report_html() AS html)
SELECT position('run 4</title>' IN html) > 0 AS run_4,
       position('has no application usage' IN html) > 0 AS no_apps_note,
       position('<h3>Top 3 applications</h3>' IN html) = 0 AS no_apps_tables,
       (length(html) - length(replace(html, '<svg ', ''))) / 5 AS svg_elements
FROM r;

-- A failed run (run 5) leaves the latest report as it was
\set VERBOSITY terse
SELECT engage.run_analysis('public.xdr', duration_column => 'no such column');
\set VERBOSITY default
SELECT position('run 4</title>' IN engage.report_html()) > 0 AS still_run_4;

-- Errors: a pruned run, a failed run, a run that does not exist
SELECT engage.report_html(1);
SELECT engage.report_html(5);
SELECT engage.report_html(99);
SELECT engage.report_html(-1);

-- Analyses by name (run 6: "xdr k2", k = 2, on public.xdr): the latest
-- successful run of the analysis; without arguments the most recent run of
-- any analysis.  A name that is not the source's is in the title, the
-- heading line and the source card; a run named after its source (run 4)
-- has its report as before.
SELECT engage.run_analysis('public.xdr', k => 2, seed => 1, k_max => 0, name => 'xdr k2');
SELECT engage.report_html(name => 'public.xdr') = engage.report_html(4) AS public_xdr_is_run_4,
       engage.report_html(name => 'xdr k2') = engage.report_html(6) AS xdr_k2_is_run_6,
       engage.report_html() = engage.report_html(6) AS latest_is_run_6,
       engage.report_html(6, 'xdr k2') = engage.report_html(6) AS run_and_its_name;
WITH r AS (SELECT engage.report_html(name => 'xdr k2') AS html)
SELECT position('<title>User engagement report: xdr k2 (public.xdr), run 6</title>' IN html) > 0 AS title,
       position('<p class="sub">Engagement analysis <code>xdr k2</code> of the xDR table <code>public.xdr</code> by engage.run_analysis, run 6.</p>' IN html) > 0 AS heading,
       position('<div class="k">Source table</div><div class="v">public.xdr</div><div class="d">analysis xdr k2</div>' IN html) > 0 AS source_card,
       position('2 &middot; high engagement' IN html) > 0 AS two_clusters,
       position('3 &middot;' IN html) = 0 AS no_cluster_3
FROM r;
WITH r AS (SELECT engage.report_html(4) AS html)
SELECT position('<title>User engagement report: public.xdr, run 4</title>' IN html) > 0 AS title,
       position('<p class="sub">Engagement analysis of the xDR table <code>public.xdr</code> by engage.run_analysis, run 4.</p>' IN html) > 0 AS heading,
       position('<div class="d">analysis ' IN html) = 0 AS no_analysis_in_card
FROM r;
-- Errors: a run of another analysis, an analysis that does not exist, one
-- whose runs all failed (run 7), an empty name
SELECT engage.report_html(4, 'xdr k2');
SELECT engage.report_html(name => 'no such analysis');
\set VERBOSITY terse
SELECT engage.run_analysis('public.xdr', duration_column => 'no such column', name => 'broken');
\set VERBOSITY default
SELECT engage.report_html(name => 'broken');
SELECT engage.report_html(name => '');

-- Documented, stable, not strict
SELECT obj_description('engage.report_html(bigint, text)'::regprocedure) IS NOT NULL AS commented,
       obj_description('engage.format_bytes(numeric)'::regprocedure) IS NOT NULL AS format_bytes_commented,
       p.provolatile, p.proisstrict
FROM pg_proc p WHERE p.oid = 'engage.report_html(bigint, text)'::regprocedure;

DROP TABLE rep, xdr;
