------------------------------------------------------------------------------
-- sql/src/report_html.sql: engage.report_html, one run's results as a
-- self-contained HTML page
--
-- The report reads the run's rows from the result_* tables by run_id, so a
-- kept older run can be reported too; by default the latest successful run
-- of an analysis (name), or of any analysis.  Every text from the data goes
-- through xml_escape; the body itself is ASCII (entities for the rest), so
-- that it is the same in every database encoding.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.report_html(run_id bigint DEFAULT NULL, name text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.run;
	rid bigint;
	fi constant text := 'FM999,999,999,999,999,999,990';
	f1 constant text := 'FM999,999,999,999,999,999,990.0';
	f2 constant text := 'FM999,999,999,999,999,999,990.00';
	n_clusters integer;
	n_apps integer;
	n_elbow integer;
	app_traffic numeric;
	h text;
	part text;
	chart text;
	scaled text;			-- how the features were normalised, in words
	prev bigint;			-- the previous successful run of the name
	most integer;			-- its most engaged cluster
	least integer;			-- the run's least engaged cluster
	n_movers bigint;
	mig_from integer[];		-- the from/to counts: cluster of prev, of rid, users
	mig_to integer[];
	mig_users bigint[];
BEGIN
	IF report_html.name IS NOT NULL AND report_html.name !~ '[^[:space:]]' THEN
		RAISE EXCEPTION 'name must not be empty'
			USING ERRCODE = 'invalid_parameter_value',
			      DETAIL = format('name is %L.', report_html.name),
			      HINT = 'Give the name of an analysis (engage.latest_run lists them), or leave name NULL to report the most recent successful run.';
	END IF;
	IF report_html.run_id IS NULL AND report_html.name IS NULL THEN
		-- the most recent successful run, of any analysis
		SELECT l.* INTO r FROM @extschema@.latest_run l ORDER BY l.run_id DESC LIMIT 1;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'there is no successful run to report'
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      HINT = 'Run engage.run_analysis() first; engage.run lists the runs and their status.';
		END IF;
	ELSIF report_html.run_id IS NULL THEN
		-- the latest successful run of the analysis
		SELECT l.* INTO r FROM @extschema@.latest_run l WHERE l.name = report_html.name;
		IF NOT FOUND THEN
			IF EXISTS (SELECT FROM @extschema@.run l WHERE l.name = report_html.name) THEN
				RAISE EXCEPTION 'analysis "%" has no successful run to report', report_html.name
					USING ERRCODE = 'object_not_in_prerequisite_state',
					      HINT = 'engage.run lists its runs, their status and errors.';
			END IF;
			RAISE EXCEPTION 'analysis "%" does not exist', report_html.name
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'engage.latest_run lists the analyses that have results; an analysis is named after its source table (schema-qualified) unless run_analysis was given a name.';
		END IF;
	ELSE
		SELECT l.* INTO r FROM @extschema@.run l WHERE l.run_id = report_html.run_id;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'run % does not exist', report_html.run_id
				USING ERRCODE = 'invalid_parameter_value',
				      HINT = 'engage.run lists the runs; report_html() without an argument reports the latest successful run.';
		END IF;
		IF r.name <> report_html.name THEN
			RAISE EXCEPTION 'run % is not a run of analysis "%"', r.run_id, report_html.name
				USING ERRCODE = 'invalid_parameter_value',
				      DETAIL = format('It is a run of analysis "%s".', r.name),
				      HINT = 'Give the run or the analysis: the analysis alone reports its latest successful run.';
		END IF;
		IF r.status <> 'ok' THEN
			RAISE EXCEPTION 'run % has no results to report', r.run_id
				USING ERRCODE = 'object_not_in_prerequisite_state',
				      DETAIL = format('Its status is %s.', r.status),
				      HINT = CASE r.status
				             WHEN 'failed' THEN 'A failed run stores no results; engage.run.error says why.'
				             WHEN 'pruned' THEN 'Its results were deleted to keep the last keep_runs successful runs.'
				             ELSE 'Report a run with status ok.' END;
		END IF;
	END IF;
	rid := r.run_id;

	SELECT count(*) INTO n_clusters FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid;
	SELECT count(*), sum(a.total_bytes) INTO n_apps, app_traffic
	FROM @extschema@.result_app_totals a WHERE a.run_id = rid;
	SELECT count(*) INTO n_elbow FROM @extschema@.result_elbow e WHERE e.run_id = rid;
	scaled := CASE COALESCE(r.normalization, 'zscore') WHEN 'zscore' THEN 'z-scored'
	               WHEN 'minmax' THEN 'min-max scaled' WHEN 'log' THEN 'log(1 + x), then z-scored,'
	               WHEN 'robust' THEN 'robust-scaled (median, interquartile range)' ELSE 'unscaled' END;

	-- Head, style and title
	h := '<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="engage.report_html">
<title>' || @extschema@.xml_escape(format('User engagement report: %s, run %s',
                                           CASE WHEN r.name = r.source THEN r.source
                                                ELSE format('%s (%s)', r.name, r.source) END, rid)) || '</title>
<style>
body{margin:0;background:#f3f5f8;color:#1f2933;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:24px 28px 32px}
h1{margin:0 0 4px;font-size:26px}
h2{margin:0 0 4px;font-size:19px}
h3{margin:0 0 6px;font-size:15px}
p{margin:0 0 12px}
.sub,.note{color:#52606d}
code{font:13px/1.3 ui-monospace,"DejaVu Sans Mono",monospace;background:#eef1f5;padding:1px 4px;border-radius:3px}
section{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:18px 22px;margin:0 0 20px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin:16px 0 20px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px 14px}
.card .k{font-size:11px;color:#52606d;text-transform:uppercase;letter-spacing:.05em}
.card .v{font-size:20px;font-weight:600;overflow-wrap:anywhere}
.card .d{font-size:12px;color:#52606d}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:18px 24px;align-items:start}
.grid+h3{margin-top:16px}
.grid4{display:grid;grid-template-columns:repeat(auto-fill,minmax(270px,1fr));gap:16px 20px}
figure{margin:0 0 12px;text-align:center}
svg{max-width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;margin:0 0 8px}
th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}
thead th{background:#eef2f6;font-size:12px;color:#3e4c59;font-weight:600}
thead tr.group th{background:#e3e9f0;text-align:center}
.n{text-align:right;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
tr.mark td{background:#fff3cd;font-weight:600}
.g{border-left:1px solid #d5dce4}
.lbl{font-weight:600;white-space:nowrap}
.desc{font-weight:400;font-size:12px;color:#52606d;max-width:300px}
footer{color:#7b8794;font-size:12px;text-align:center}
</style>
</head>
<body>
<main>
<header>
<h1>User engagement report</h1>
<p class="sub">Engagement analysis '
		|| CASE WHEN r.name = r.source THEN ''
		        ELSE '<code>' || @extschema@.xml_escape(r.name) || '</code> ' END
		|| 'of the xDR table <code>' || @extschema@.xml_escape(r.source) || '</code> by engage.run_analysis, run '
		|| rid || '.</p>
</header>
';

	-- The run in figures
	SELECT string_agg(format('<div class="card"><div class="k">%s</div><div class="v">%s</div>%s</div>',
	                         c.k, c.v, COALESCE('<div class="d">' || c.d || '</div>', '')), E'\n' ORDER BY c.o)
	INTO part
	FROM (VALUES
		(1, 'Source table', @extschema@.xml_escape(r.source),
		    CASE WHEN r.name <> r.source THEN 'analysis ' || @extschema@.xml_escape(r.name) END),
		(2, 'Run', rid::text, @extschema@.xml_escape(format('%s, took %s s', to_char(r.started, 'YYYY-MM-DD HH24:MI:SS TZ'),
		                                                   to_char(extract(epoch FROM r.ended - r.started), f1)))),
		(3, 'Rows read', to_char(r.rows_read, fi),
		    CASE WHEN r.since IS NOT NULL OR r.until IS NOT NULL THEN
		         @extschema@.xml_escape(format('time window: sessions that start %s (column %s); %s rows left out for their start (no time)',
		                                       concat_ws(' and ', 'at or after ' || r.since, 'before ' || r.until),
		                                       r.start_column, to_char(r.rows_unparsed_start, fi))) END),
		(4, 'Rows left out', to_char(r.rows_without_subscriber, fi),
		    format('without subscriber (NULL MSISDN), %s%% of the rows; %s NaN, infinite or negative values skipped',
		           to_char(100.0 * r.rows_without_subscriber / NULLIF(r.rows_read, 0), f1),
		           to_char(COALESCE(r.rejected_values, 0), fi))),
		(5, 'Users', to_char(r.users, fi), 'distinct subscribers'),
		(6, 'Clusters (k)', r.k::text,
		    format('K-means on %s sessions, duration and traffic', scaled)
		    || CASE WHEN r.k_selection IS NULL THEN ''
		            WHEN r.k_chosen IS NULL THEN format('; k as given: k_selection %s chose none', r.k_selection)
		            ELSE format('; k chosen by %s on the elbow curve',
		                        CASE r.k_selection WHEN 'elbow' THEN 'the elbow (Kneedle)'
		                             WHEN 'silhouette' THEN 'the highest silhouette'
		                             ELSE 'the lowest Davies-Bouldin index' END) END),
		(7, 'Inertia', to_char(r.inertia, f1), 'sum of squared distances to the centroids'),
		(8, 'Elbow k', COALESCE(r.elbow_k::text, '&ndash;'),
		    CASE WHEN n_elbow = 0 THEN 'elbow curve skipped (k_max = 0)'
		         WHEN r.elbow_k IS NULL THEN 'the curve has no knee'
		         ELSE format('Kneedle over k = 1..%s', n_elbow) END)
	) AS c(o, k, v, d);
	h := h || '<div class="cards">' || E'\n' || part || E'\n</div>\n';

	-- Top 10 users by each metric
	SELECT string_agg(x.tbl, E'\n' ORDER BY x.o) INTO part
	FROM (SELECT m.o, format('<div><h3>%s</h3><table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">%s</th></tr></thead><tbody>%s</tbody></table></div>',
	                         m.title, m.col,
	                         COALESCE(string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td></tr>',
	                                                    t.rank, @extschema@.xml_escape(t.msisdn),
	                                                    CASE m.metric
	                                                    WHEN 'sessions' THEN to_char(t.value, fi)
	                                                    WHEN 'duration_ms' THEN to_char(t.value / 60000, f1)
	                                                    ELSE @extschema@.format_bytes(t.value) END),
	                                             '' ORDER BY t.rank),
	                                  '<tr><td colspan="3" class="note">no users</td></tr>')) AS tbl
	      FROM (VALUES (1, 'sessions', 'By sessions', 'sessions'),
	                   (2, 'duration_ms', 'By total session duration', 'duration (min)'),
	                   (3, 'total_bytes', 'By total traffic (DL + UL)', 'traffic')) AS m(o, metric, title, col)
	      LEFT JOIN @extschema@.result_top_users t ON t.run_id = rid AND t.metric = m.metric
	      GROUP BY m.o, m.title, m.col) x;
	h := h || '<section id="top-users">
<h2>Top 10 users</h2>
<p class="note">By value, descending; ties broken by MSISDN ascending. Users with no value are left out.</p>
<div class="grid">
' || part || '
</div>
</section>
';

	-- Engagement clusters: chart and statistics
	chart := '';
	IF n_clusters BETWEEN 1 AND 50 THEN
		SELECT @extschema@.svg_cluster_chart(
		           array_agg(c.cluster || ' ' || c.label ORDER BY c.cluster),
		           array_agg(c.users ORDER BY c.cluster),
		           ARRAY['sessions', 'duration (ms)', 'traffic (bytes)'],
		           array_agg(ARRAY[COALESCE(c.sessions_avg, 0), COALESCE(c.duration_ms_avg, 0),
		                           COALESCE(c.total_bytes_avg, 0)]::double precision[] ORDER BY c.cluster),
		           format('User engagement clusters (k = %s)', n_clusters))
		INTO chart
		FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid;
		chart := '<figure>' || regexp_replace(chart, '^<\?xml[^>]*\?>\s*', '') || '</figure>' || E'\n';
	ELSE
		chart := '<p class="note">No chart: the cluster chart shows at most 50 clusters.</p>' || E'\n';
	END IF;
	SELECT string_agg(format('<tr><td><div class="lbl">%s &middot; %s</div><div class="desc">%s</div></td>'
	                         '<td class="n">%s</td><td class="n">%s%%</td>'
	                         '<td class="n g">%s</td><td class="n">%s &ndash; %s</td><td class="n">%s</td>'
	                         '<td class="n g">%s</td><td class="n">%s &ndash; %s</td><td class="n">%s</td>'
	                         '<td class="n g">%s</td><td class="n">%s &ndash; %s</td><td class="n">%s</td>'
	                         '<td class="n g">%s</td></tr>',
	                         c.cluster, @extschema@.xml_escape(c.label), @extschema@.xml_escape(c.description),
	                         to_char(c.users, fi), to_char(100 * c.share, f1),
	                         to_char(c.sessions_avg, f2), to_char(c.sessions_min, fi), to_char(c.sessions_max, fi),
	                         to_char(c.sessions_total, fi),
	                         to_char(c.duration_ms_avg / 60000, f1), to_char(c.duration_ms_min / 60000, f1),
	                         to_char(c.duration_ms_max / 60000, f1), to_char(c.duration_ms_total / 3600000, f1),
	                         @extschema@.format_bytes(c.total_bytes_avg), @extschema@.format_bytes(c.total_bytes_min),
	                         @extschema@.format_bytes(c.total_bytes_max), @extschema@.format_bytes(c.total_bytes_total),
	                         to_char(c.inertia, f1)),
	                  E'\n' ORDER BY c.cluster)
	INTO part
	FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid;
	h := h || '<section id="clusters">
<h2>Engagement clusters</h2>
<p class="note">K-means (k = ' || r.k || ') on the ' || scaled || ' sessions, duration and traffic of each user; clusters are numbered by ascending centroid norm, so 1 is the least engaged. The chart''s lower panel shows each cluster''s averages relative to the average over all users.</p>
' || chart || '<table>
<thead><tr class="group"><th colspan="3"></th><th colspan="3" class="g">Sessions per user</th><th colspan="3" class="g">Duration per user (min)</th><th colspan="3" class="g">Traffic per user (DL + UL)</th><th class="g"></th></tr>
<tr><th>Cluster</th><th class="n">Users</th><th class="n">Share</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total (h)</th><th class="n g">avg</th><th class="n">min &ndash; max</th><th class="n">total</th><th class="n g">Inertia</th></tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';

	-- Top 10 users by engagement score (issue 13; a run that kept its model)
	IF (r.cluster_model).scale IS NOT NULL THEN
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td><td>%s &middot; %s</td></tr>',
		                         t.rank, @extschema@.xml_escape(t.msisdn), to_char(t.score, 'FM999,999,990.000'),
		                         t.cluster, @extschema@.xml_escape(s.label)),
		                  E'\n' ORDER BY t.rank)
		INTO part
		FROM (SELECT row_number() OVER (ORDER BY x.score DESC, x.msisdn) AS rank, x.*
		      FROM (SELECT u.msisdn, u.cluster,
		                   (@extschema@.user_cluster(z.m, u.sessions, u.duration_ms, u.total_bytes)).distance AS score
		            FROM (SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		                  FROM @extschema@.result_user_cluster x WHERE x.run_id = rid AND NOT r.clusters_on_read
		                  UNION ALL
		                  SELECT x.msisdn, (@extschema@.user_cluster(r.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
		                         x.sessions, x.duration_ms, x.total_bytes
		                  FROM @extschema@.result_user_engagement x WHERE x.run_id = rid AND r.clusters_on_read
		                  UNION ALL
		                  SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		                  FROM @extschema@.distributed_user_cluster(rid) x) u,
		                 (SELECT @extschema@.kmeans_model_clusters(r.cluster_model,
		                             ARRAY[@extschema@.least_engaged_cluster(r.cluster_model)]) AS m OFFSET 0) z
		            ORDER BY 3 DESC, 1 LIMIT 10) x) t
		JOIN @extschema@.result_cluster_stats s ON s.run_id = rid AND s.cluster = t.cluster;
		h := h || '<section id="engagement-score">
<h2>Top 10 users by engagement score</h2>
<p class="note">The engagement score is the distance, in the normalised space of the clustering, from a user''s sessions, duration and traffic to the centroid of the least engaged cluster (cluster '
		      || @extschema@.least_engaged_cluster(r.cluster_model) || ', the smallest centroid norm); ties broken by MSISDN.</p>
<table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">Score</th><th>Cluster</th></tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';
	END IF;

	-- Hours of activity (issue 13): each cluster's sessions by hour of
	-- day, one bar chart per cluster (at most 12) and the counts
	IF EXISTS (SELECT FROM @extschema@.result_cluster_activity a WHERE a.run_id = rid) THEN
		chart := '';
		IF n_clusters <= 12 THEN
			SELECT string_agg('<figure>' || regexp_replace(
			                      @extschema@.svg_bar_chart(x.hours, x.shares,
			                                                format('Cluster %s (%s): sessions by hour of day', x.cluster, x.label),
			                                                'hour of day', 'share of the cluster''s sessions', '%'),
			                      '^<\?xml[^>]*\?>\s*', '') || '</figure>', E'\n' ORDER BY x.cluster)
			INTO chart
			FROM (SELECT a.cluster, s.label, array_agg(a.hour::text ORDER BY a.hour) AS hours,
			             array_agg(round(100 * COALESCE(a.share, 0), 1)::double precision ORDER BY a.hour) AS shares
			      FROM @extschema@.result_cluster_activity a
			      JOIN @extschema@.result_cluster_stats s ON s.run_id = a.run_id AND s.cluster = a.cluster
			      WHERE a.run_id = rid
			      GROUP BY a.cluster, s.label) x;
		END IF;
		SELECT string_agg(format('<tr><td class="n">%s</td>%s</tr>', x.hour, x.cells), E'\n' ORDER BY x.hour)
		INTO part
		FROM (SELECT a.hour, string_agg(format('<td class="n">%s</td><td class="n">%s%%</td>', to_char(a.sessions, fi),
		                                       COALESCE(to_char(100 * a.share, f1), '&ndash;')), '' ORDER BY a.cluster) AS cells
		      FROM @extschema@.result_cluster_activity a WHERE a.run_id = rid GROUP BY a.hour) x;
		h := h || '<section id="activity">
<h2>Hours of activity</h2>
<p class="note">Sessions of each cluster''s users by the hour of day they start (column <code>'
		      || @extschema@.xml_escape(COALESCE(r.start_column, '')) || '</code>), and the share of the cluster''s sessions in each hour; sessions whose start gives no time are not counted.</p>
<div class="grid">
' || COALESCE(chart, '') || '
</div>
<table><thead><tr><th class="n">Hour</th>'
		      || (SELECT string_agg(format('<th class="n">%s &middot; %s</th><th class="n">share</th>', c.cluster, @extschema@.xml_escape(c.label)),
		                            '' ORDER BY c.cluster)
		          FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid) || '</tr></thead>
<tbody>
' || COALESCE(part, '') || '
</tbody>
</table>
</section>
';
	END IF;

	-- Segments over time (issue 13): who moved between the previous
	-- successful run of the analysis and this one, as a from/to matrix
	-- (engage.segment_migration's counts), and the users who fell from
	-- the most engaged segment of the previous run to the least engaged of
	-- this one (the largest normalised centroid norm, the smallest); for
	-- a run that kept its model (made by engage since issue 13)
	SELECT max(p.run_id) INTO prev FROM @extschema@.run p
	WHERE p.status = 'ok' AND p.name = r.name AND p.run_id < rid;
	IF (r.cluster_model).scale IS NULL THEN
		NULL;
	ELSIF prev IS NOT NULL THEN
		SELECT array_agg(m.f), array_agg(m.t), array_agg(m.n) INTO mig_from, mig_to, mig_users
		FROM (SELECT f.cluster AS f, t.cluster AS t, count(*) AS n
		FROM (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = prev
		      UNION ALL
		      SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster
		      FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		      WHERE p.run_id = prev AND p.clusters_on_read
		      UNION ALL
		      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(prev) x) f
		FULL JOIN
		     (SELECT x.msisdn, x.cluster FROM @extschema@.result_user_cluster x WHERE x.run_id = rid
		      UNION ALL
		      SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster
		      FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		      WHERE p.run_id = rid AND p.clusters_on_read
		      UNION ALL
		      SELECT x.msisdn, x.cluster FROM @extschema@.distributed_user_cluster(rid) x) t ON t.msisdn = f.msisdn
		GROUP BY 1, 2) m;
		SELECT c.cluster INTO most FROM @extschema@.result_cluster_stats c WHERE c.run_id = prev
		ORDER BY sqrt(c.centroid_normalized[1] ^ 2 + c.centroid_normalized[2] ^ 2 + c.centroid_normalized[3] ^ 2) DESC, c.cluster LIMIT 1;
		SELECT c.cluster INTO least FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid
		ORDER BY sqrt(c.centroid_normalized[1] ^ 2 + c.centroid_normalized[2] ^ 2 + c.centroid_normalized[3] ^ 2), c.cluster LIMIT 1;
		SELECT m.n INTO n_movers FROM unnest(mig_from, mig_to, mig_users) AS m(f, t, n) WHERE m.f = most AND m.t = least;
		-- the from/to matrix: a row per cluster of the previous run and one
		-- of new users, a column per cluster of this run and one of gone
		-- users; each cell shaded by its share of the largest cell
		WITH fr AS (
			SELECT row_number() OVER (ORDER BY c.cluster NULLS LAST) AS i, c.cluster,
			       COALESCE(c.cluster || ' ' || c.label, 'new') AS label
			FROM (SELECT x.cluster, x.label FROM @extschema@.result_cluster_stats x WHERE x.run_id = prev
			      UNION ALL SELECT NULL, NULL) c
		), tc AS (
			SELECT row_number() OVER (ORDER BY c.cluster NULLS LAST) AS j, c.cluster,
			       COALESCE(c.cluster || ' ' || c.label, 'gone') AS label
			FROM (SELECT x.cluster, x.label FROM @extschema@.result_cluster_stats x WHERE x.run_id = rid
			      UNION ALL SELECT NULL, NULL) c
		), cell AS (
			SELECT fr.i, tc.j, COALESCE(m.n, 0) AS n,
			       max(COALESCE(m.n, 0)) OVER () AS top
			FROM fr CROSS JOIN tc
			LEFT JOIN unnest(mig_from, mig_to, mig_users) AS m(f, t, n)
			       ON m.f IS NOT DISTINCT FROM fr.cluster AND m.t IS NOT DISTINCT FROM tc.cluster
			WHERE fr.cluster IS NOT NULL OR tc.cluster IS NOT NULL
		)
		SELECT format('<svg xmlns="http://www.w3.org/2000/svg" width="%1$s" height="%2$s" viewBox="0 0 %1$s %2$s" role="img" aria-label="Users by cluster, previous run by this run">'
		              '<style>text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:12px;fill:#1f2933}.t{font-size:15px;font-weight:600}.h{fill:#52606d}</style>'
		              '<text class="t" x="%3$s" y="20" text-anchor="middle">Users by cluster: run %4$s (rows) to run %5$s (columns)</text>%6$s%7$s%8$s</svg>',
		              190 + 150 * (SELECT count(*) FROM tc) + 10, 70 + 36 * (SELECT count(*) FROM fr) + 10,
		              (190 + 150 * (SELECT count(*) FROM tc) + 10) / 2, prev, rid,
		              (SELECT string_agg(format('<text x="180" y="%s" text-anchor="end">%s</text>', 70 + 36 * (fr.i - 1) + 23,
		                                        @extschema@.xml_escape(fr.label)), '' ORDER BY fr.i) FROM fr),
		              (SELECT string_agg(format('<text class="h" x="%s" y="58" text-anchor="middle">%s</text>', 190 + 150 * (tc.j - 1) + 75,
		                                        @extschema@.xml_escape(tc.label)), '' ORDER BY tc.j) FROM tc),
		              (SELECT string_agg(format('<rect x="%s" y="%s" width="146" height="32" fill="#2f6fab" fill-opacity="%s" stroke="#dde3ea"/>'
		                                        '<text x="%s" y="%s" text-anchor="middle"%s>%s</text>',
		                                        190 + 150 * (c.j - 1), 70 + 36 * (c.i - 1),
		                                        to_char(0.05 + COALESCE(0.9 * c.n / NULLIF(c.top, 0), 0), 'FM0.000'),
		                                        190 + 150 * (c.j - 1) + 73, 70 + 36 * (c.i - 1) + 21,
		                                        CASE WHEN c.top > 0 AND c.n > c.top / 2 THEN ' style="fill:#fff"' ELSE '' END,
		                                        to_char(c.n, fi)), '' ORDER BY c.i, c.j) FROM cell c))
		INTO chart;
		IF n_clusters > 50 OR (SELECT count(*) FROM @extschema@.result_cluster_stats c WHERE c.run_id = prev) > 50 THEN
			chart := '<p class="note">No chart: the migration chart shows at most 50 clusters per run (engage.segment_migration has the counts).</p>';
		END IF;
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s &rarr; %s</td><td class="n">%s &rarr; %s</td><td class="n">%s &rarr; %s</td></tr>',
		                         x.rank, @extschema@.xml_escape(x.msisdn), to_char(x.fs, fi), to_char(x.ts, fi),
		                         to_char(COALESCE(x.fd, 0) / 60000, f1), to_char(COALESCE(x.td, 0) / 60000, f1),
		                         @extschema@.format_bytes(COALESCE(x.fb, 0)), @extschema@.format_bytes(COALESCE(x.tb, 0))),
		                  E'\n' ORDER BY x.rank)
		INTO part
		FROM (SELECT row_number() OVER (ORDER BY COALESCE(f.total_bytes, 0) - COALESCE(t.total_bytes, 0) DESC, t.msisdn) AS rank,
		             t.msisdn, f.sessions AS fs, t.sessions AS ts, f.duration_ms AS fd, t.duration_ms AS td,
		             f.total_bytes AS fb, t.total_bytes AS tb
		      FROM (SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.result_user_cluster x WHERE x.run_id = prev
		            UNION ALL
		            SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
		                   x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		            WHERE p.run_id = prev AND p.clusters_on_read
		            UNION ALL
		            SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.distributed_user_cluster(prev) x) f
		      JOIN (SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.result_user_cluster x WHERE x.run_id = rid
		            UNION ALL
		            SELECT x.msisdn, (@extschema@.user_cluster(p.cluster_model, x.sessions, x.duration_ms, x.total_bytes)).cluster,
		                   x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.run p JOIN @extschema@.result_user_engagement x ON x.run_id = p.run_id
		            WHERE p.run_id = rid AND p.clusters_on_read
		            UNION ALL
		            SELECT x.msisdn, x.cluster, x.sessions, x.duration_ms, x.total_bytes
		            FROM @extschema@.distributed_user_cluster(rid) x) t ON t.msisdn = f.msisdn
		      WHERE f.cluster = most AND t.cluster = least
		      ORDER BY 1 LIMIT 10) x;
		h := h || '<section id="migration">
<h2>Segments over time</h2>
<p class="note">Users by cluster in the previous successful run of this analysis (run ' || prev || ', rows) and in this run (columns); <em>new</em>: users of this run only, <em>gone</em>: of the previous run only.</p>
<figure>' || chart || '</figure>
<h3>From the most to the least engaged segment</h3>
<p class="note">' || to_char(COALESCE(n_movers, 0), fi) || ' users went from cluster ' || most || ' ('
		      || @extschema@.xml_escape((SELECT c.label FROM @extschema@.result_cluster_stats c WHERE c.run_id = prev AND c.cluster = most))
		      || ', the most engaged of run ' || prev || ') to cluster ' || least || ' ('
		      || @extschema@.xml_escape((SELECT c.label FROM @extschema@.result_cluster_stats c WHERE c.run_id = rid AND c.cluster = least))
		      || ', the least engaged of this run); the 10 who lost the most traffic, ties broken by MSISDN:</p>
<table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">Sessions</th><th class="n">Duration (min)</th><th class="n">Traffic</th></tr></thead>
<tbody>
' || COALESCE(part, '<tr><td colspan="5" class="note">no users</td></tr>') || '
</tbody>
</table>
</section>
';
	ELSE
		h := h || '<section id="migration">
<h2>Segments over time</h2>
<p class="note">No previous successful run of this analysis is kept to compare with.</p>
</section>
';
	END IF;

	-- Applications: top 3, totals and top 10 users of each
	IF n_apps = 0 THEN
		h := h || '<section id="applications">
<h2>Applications</h2>
<p class="note">This run has no application usage (run_analysis was called with applications =&gt; ''{}'').</p>
</section>
';
	ELSE
		SELECT '<figure>' || regexp_replace(
		           @extschema@.svg_bar_chart(array_agg(a.application ORDER BY a.rank),
		                                     array_agg(COALESCE(a.total_bytes, 0)::double precision ORDER BY a.rank),
		                                     'Top 3 applications by total traffic', 'application', 'total traffic', 'B'),
		           '^<\?xml[^>]*\?>\s*', '') || '</figure>'
		INTO chart
		FROM @extschema@.result_app_totals a WHERE a.run_id = rid AND a.rank <= 3;
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
		                         a.rank, @extschema@.xml_escape(a.application), to_char(a.users, fi),
		                         COALESCE(@extschema@.format_bytes(a.total_bytes), '&ndash;'),
		                         COALESCE(to_char(100 * a.total_bytes / NULLIF(app_traffic, 0), f1) || '%', '&ndash;')),
		                  E'\n' ORDER BY a.rank)
		INTO part
		FROM @extschema@.result_app_totals a WHERE a.run_id = rid AND a.rank <= 3;
		h := h || '<section id="applications">
<h2>Applications</h2>
<p class="note">Traffic (DL + UL) of each application over the users'' rows (rows without subscriber left out).</p>
<div class="grid">
' || chart || '
<div><h3>Top 3 applications</h3>
<table><thead><tr><th class="n">#</th><th>Application</th><th class="n">Users</th><th class="n">Traffic</th><th class="n">Share</th></tr></thead>
<tbody>
' || part || '
</tbody></table>
';
		SELECT string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td></tr>',
		                         a.rank, @extschema@.xml_escape(a.application), to_char(a.users, fi),
		                         COALESCE(@extschema@.format_bytes(a.dl_bytes), '&ndash;'),
		                         COALESCE(@extschema@.format_bytes(a.ul_bytes), '&ndash;'),
		                         COALESCE(@extschema@.format_bytes(a.total_bytes), '&ndash;'),
		                         COALESCE(to_char(100 * a.total_bytes / NULLIF(app_traffic, 0), f1) || '%', '&ndash;')),
		                  E'\n' ORDER BY a.rank)
		INTO part
		FROM @extschema@.result_app_totals a WHERE a.run_id = rid;
		h := h || '<h3>Application totals</h3>
<table><thead><tr><th class="n">#</th><th>Application</th><th class="n">Users</th><th class="n">DL</th><th class="n">UL</th><th class="n">Total</th><th class="n">Share</th></tr></thead>
<tbody>
' || part || '
</tbody></table>
</div>
</div>
';
		SELECT string_agg(x.tbl, E'\n' ORDER BY x.rank) INTO part
		FROM (SELECT a.rank, format('<div><h3>%s</h3><table><thead><tr><th class="n">#</th><th>MSISDN</th><th class="n">traffic</th></tr></thead><tbody>%s</tbody></table></div>',
		                            @extschema@.xml_escape(a.application),
		                            COALESCE(string_agg(format('<tr><td class="n">%s</td><td>%s</td><td class="n">%s</td></tr>',
		                                                       t.rank, @extschema@.xml_escape(t.msisdn),
		                                                       @extschema@.format_bytes(t.total_bytes)),
		                                                '' ORDER BY t.rank),
		                                     '<tr><td colspan="3" class="note">no users</td></tr>')) AS tbl
		      FROM @extschema@.result_app_totals a
		      LEFT JOIN @extschema@.result_top_users_per_app t ON t.run_id = a.run_id AND t.application = a.application
		      WHERE a.run_id = rid
		      GROUP BY a.rank, a.application) x;
		h := h || '<h3>Top 10 users of each application</h3>
<div class="grid4">
' || part || '
</div>
</section>
';
	END IF;

	-- The elbow curve
	IF n_elbow = 0 THEN
		h := h || '<section id="elbow">
<h2>Elbow method</h2>
<p class="note">The elbow curve was skipped in this run (k_max =&gt; 0).</p>
</section>
';
	ELSE
		SELECT '<figure>' || regexp_replace(
		           @extschema@.svg_line_chart(array_agg(e.k::double precision ORDER BY e.k),
		                                      array_agg(e.inertia ORDER BY e.k),
		                                      'Elbow method: K-means inertia by k', 'k (clusters)', 'inertia',
		                                      r.elbow_k, format('elbow: k = %s', r.elbow_k)),
		           '^<\?xml[^>]*\?>\s*', '') || '</figure>'
		INTO chart
		FROM @extschema@.result_elbow e WHERE e.run_id = rid;
		SELECT string_agg(format('<tr%s><td class="n">%s</td><td class="n">%s</td><td class="n">%s</td><td>%s</td></tr>',
		                         CASE WHEN e.is_elbow THEN ' class="mark"' ELSE '' END,
		                         e.k, to_char(e.inertia, f1),
		                         COALESCE(to_char(e.silhouette, 'FM990.0000'), '&ndash;'),
		                         concat_ws(', ', CASE WHEN e.is_elbow THEN 'elbow' END,
		                                         CASE WHEN e.k = r.k THEN 'k of this run' END)),
		                  E'\n' ORDER BY e.k)
		INTO part
		FROM @extschema@.result_elbow e WHERE e.run_id = rid;
		h := h || '<section id="elbow">
<h2>Elbow method</h2>
<p class="note">K-means inertia for k = 1..' || n_elbow || ' and the simplified silhouette; the elbow is the k that Kneedle picks'
			|| CASE WHEN r.elbow_k IS NULL THEN ' (this curve has no knee).' ELSE format(': k = %s.', r.elbow_k) END || '</p>
<div class="grid">
' || chart || '
<table><thead><tr><th class="n">k</th><th class="n">Inertia</th><th class="n">Silhouette</th><th></th></tr></thead>
<tbody>
' || part || '
</tbody></table>
</div>
</section>
';
	END IF;

	RETURN h || '<footer>Made by engage.report_html(' || rid || ') from engage.run and the engage.result_* tables. Traffic in SI units (1 kB = 1,000 bytes); durations in minutes.</footer>
</main>
</body>
</html>
';
END
$$;

COMMENT ON FUNCTION @extschema@.report_html(bigint, text) IS
'One self-contained HTML5 page (inline CSS and SVG charts, no scripts or external resources) of a run of run_analysis: run_id, or the latest successful run of the analysis name, or (both NULL) the most recent successful run of any analysis: the run in figures, top 10 users, cluster statistics with labels and descriptions, the top 10 users by engagement score (runs that kept their model), the hours of activity of each cluster (runs whose source had a start column), the from/to matrix of the users'' clusters in the previous successful run of the analysis and this one (runs that kept their model) with the 10 users who lost the most traffic among those who went from its most to this run''s least engaged cluster, top 3 applications, application totals and top users, the elbow curve; every text from the data is escaped';
