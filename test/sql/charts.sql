-- Charts: standalone SVG documents and XML/HTML escaping

-- escaping
SELECT engage.xml_escape('<script>alert(1)</script>');
SELECT engage.xml_escape('Tom & Jerry say "hi" and ''bye''');
SELECT engage.xml_escape('plain, café, € and 📱 stay as they are');
SELECT engage.xml_escape('') = '' AS empty_stays_empty;
SELECT engage.xml_escape(NULL) IS NULL AS strict;
SELECT engage.xml_escape(E'tab\there') = E'tab\there' AS tab_kept;
SELECT engage.xml_escape(E'bell\x07') AS control_replaced;

-- a small bar chart: the whole document
SELECT engage.svg_bar_chart(ARRAY['Gaming', 'Other', 'YouTube'],
                            ARRAY[6.4e14, 6.3e14, 3.4e13],
                            'Top 3 applications', 'application', 'total traffic', 'B');

-- hostile labels are text, never markup
WITH c AS (
  SELECT engage.svg_bar_chart(ARRAY['<script>alert(1)</script>', 'A & B', 'say "hi"', 'it''s'],
                              ARRAY[1, 2, 3, 4], '<b>title</b>') AS svg)
SELECT position('<script' IN svg) = 0 AS no_script_element,
       position('&lt;script&gt;alert(1)&lt;/script&gt;' IN svg) > 0 AS script_escaped,
       position('A &amp; B' IN svg) > 0 AS amp_escaped,
       position('say &quot;hi&quot;' IN svg) > 0 AS quotes_escaped,
       position('it&#39;s' IN svg) > 0 AS apostrophe_escaped,
       position('<title>&lt;b&gt;title&lt;/b&gt;</title>' IN svg) > 0 AS title_escaped
FROM c;

-- edge cases: all zero, negative values, other units, one bar, many bars
WITH c AS (SELECT engage.svg_bar_chart(ARRAY['a', 'b'], ARRAY[0, 0], 'zeros') AS svg)
SELECT md5(svg), position('>0</text>' IN svg) > 0 AS zero_label FROM c;
WITH c AS (SELECT engage.svg_bar_chart(ARRAY['loss', 'gain'], ARRAY[-5, 3], 'signs', NULL, NULL, 'ms') AS svg)
SELECT md5(svg), position('>-5 ms</text>' IN svg) > 0 AS negative_label FROM c;
WITH c AS (SELECT engage.svg_bar_chart(ARRAY['share'], ARRAY[12.5], 'one', NULL, NULL, '%') AS svg)
SELECT md5(svg), position('>12.5%</text>' IN svg) > 0 AS percent_label FROM c;
WITH c AS (SELECT engage.svg_bar_chart(array_agg('bar ' || i ORDER BY i), array_agg(i * 1e6::float8 ORDER BY i), 'a thousand bars') AS svg
           FROM generate_series(1, 1000) i)
SELECT md5(svg), length(svg) FROM c;
WITH c AS (SELECT engage.svg_bar_chart(ARRAY[repeat('é', 100)], ARRAY[1e300], repeat('long ', 100)) AS svg)
SELECT md5(svg), position(repeat('é', 23) || '…</text>' IN svg) > 0 AS label_cut FROM c;

-- the elbow curve with k = 3 marked
WITH c AS (
  SELECT engage.svg_line_chart(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
                               ARRAY[300000, 170000, 140000, 131000, 125000, 121000, 118000, 116000, 114500, 113000],
                               'Elbow method', 'k (clusters)', 'inertia', 3, 'elbow: k = 3') AS svg)
SELECT md5(svg),
       position('>elbow: k = 3</text>' IN svg) > 0 AS mark_label,
       position('stroke-dasharray="6 4"' IN svg) > 0 AS dashed_line,
       position('r="7"' IN svg) > 0 AS highlighted_point,
       position('>300 k</text>' IN svg) > 0 AS y_tick
FROM c;
SELECT position('>x = 2.5</text>' IN engage.svg_line_chart(ARRAY[1, 2, 3], ARRAY[3, 2, 1], 'default mark label', mark_x => 2.5)) > 0 AS default_mark_label;
SELECT md5(engage.svg_line_chart(ARRAY[1], ARRAY[1], 'one point'));

-- clusters: sizes and profile
WITH c AS (
  SELECT engage.svg_cluster_chart(ARRAY['1 low engagement', '2 medium engagement', '3 high engagement'],
                                  ARRAY[61000, 38000, 7856]::bigint[],
                                  ARRAY['sessions', 'duration (ms)', 'traffic (bytes)'],
                                  ARRAY[[1.0, 90000, 4e8], [2.2, 200000, 9e8], [6.1, 700000, 3e9]],
                                  'User engagement clusters') AS svg)
SELECT md5(svg),
       position('>61,000</text>' IN svg) > 0 AS size_label,
       position('>57.1%</text>' IN svg) > 0 AS share_label,
       position('overall mean' IN svg) > 0 AS relative_to_mean
FROM c;
SELECT position('largest magnitude' IN engage.svg_cluster_chart(ARRAY['a', 'b'], ARRAY[0, 0]::bigint[], ARRAY['m'],
                                                                 ARRAY[[-1], [2]], 'negative profile')) > 0 AS normalised;

-- bad input: NULLs
SELECT engage.svg_bar_chart(NULL, ARRAY[1], 't');
SELECT engage.svg_bar_chart(ARRAY['a'], NULL, 't');
SELECT engage.svg_bar_chart(ARRAY['a'], ARRAY[1], NULL);
SELECT engage.svg_bar_chart(ARRAY['a', NULL], ARRAY[1, 2], 't');
SELECT engage.svg_bar_chart(ARRAY['a', 'b'], ARRAY[1, NULL], 't');
SELECT engage.svg_line_chart(NULL, ARRAY[1], 't');
SELECT engage.svg_line_chart(ARRAY[1], ARRAY[1], NULL);
SELECT engage.svg_cluster_chart(ARRAY['a'], NULL, ARRAY['m'], ARRAY[[1]], 't');
SELECT engage.svg_cluster_chart(ARRAY['a'], ARRAY[1]::bigint[], ARRAY['m'], NULL, 't');
SELECT engage.svg_cluster_chart(ARRAY['a'], ARRAY[1]::bigint[], ARRAY['m'], ARRAY[[NULL]]::float8[], 't');
SELECT engage.svg_cluster_chart(ARRAY['a'], ARRAY[1]::bigint[], ARRAY[NULL], ARRAY[[1]], 't');
-- shapes and lengths
SELECT engage.svg_bar_chart(ARRAY['a', 'b'], ARRAY[1], 't');
SELECT engage.svg_bar_chart('{}'::text[], '{}'::float8[], 't');
SELECT engage.svg_bar_chart(ARRAY[['a'], ['b']], ARRAY[1, 2], 't');
SELECT engage.svg_line_chart(ARRAY[1, 2], ARRAY[1, 2, 3], 't');
SELECT engage.svg_cluster_chart(ARRAY['a', 'b'], ARRAY[1]::bigint[], ARRAY['m'], ARRAY[[1], [2]], 't');
SELECT engage.svg_cluster_chart(ARRAY['a'], ARRAY[1]::bigint[], ARRAY['m'], ARRAY[1], 't');
SELECT engage.svg_cluster_chart(ARRAY['a', 'b'], ARRAY[1, 2]::bigint[], ARRAY['m'], ARRAY[[1, 2], [3, 4]], 't');
SELECT engage.svg_cluster_chart(ARRAY['a'], ARRAY[1]::bigint[], '{}'::text[], ARRAY[[1]], 't');
-- bounds
SELECT engage.svg_bar_chart(array_agg(i::text), array_agg(i::float8), 't') FROM generate_series(1, 1001) i;
SELECT engage.svg_line_chart(array_agg(i::float8), array_agg(i::float8), 't') FROM generate_series(1, 10001) i;
SELECT engage.svg_cluster_chart(array_agg(i::text), array_agg(i::bigint), ARRAY['m'], array_fill(1::float8, ARRAY[51, 1]), 't') FROM generate_series(1, 51) i;
SELECT engage.svg_cluster_chart(ARRAY['a'], ARRAY[1]::bigint[], array_fill('m'::text, ARRAY[13]), array_fill(1::float8, ARRAY[1, 13]), 't');
-- values
SELECT engage.svg_bar_chart(ARRAY['a', 'b'], ARRAY[1, 'NaN']::float8[], 't');
SELECT engage.svg_bar_chart(ARRAY['a', 'b'], ARRAY[1, '-Infinity']::float8[], 't');
SELECT engage.svg_bar_chart(ARRAY['a', 'b'], ARRAY[1, 1e301], 't');
SELECT engage.svg_line_chart(ARRAY[1, 'Infinity']::float8[], ARRAY[1, 2], 't');
SELECT engage.svg_line_chart(ARRAY[1, 2], ARRAY['NaN', 2]::float8[], 't');
SELECT engage.svg_line_chart(ARRAY[1, 2], ARRAY[1, 2], 't', mark_x => 'NaN');
SELECT engage.svg_cluster_chart(ARRAY['a', 'b'], ARRAY[1, -1]::bigint[], ARRAY['m'], ARRAY[[1], [2]], 't');
SELECT engage.svg_cluster_chart(ARRAY['a', 'b'], ARRAY[1, 1]::bigint[], ARRAY['m', 'n'], ARRAY[[1, 2], [3, 'NaN']]::float8[], 't');

-- every chart function is immutable and parallel safe, and documented
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict, d.description IS NOT NULL AS documented
FROM pg_proc p
LEFT JOIN pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass
WHERE p.pronamespace = 'engage'::regnamespace
  AND p.proname IN ('xml_escape', 'svg_bar_chart', 'svg_line_chart', 'svg_cluster_chart')
ORDER BY 1;
