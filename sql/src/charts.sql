------------------------------------------------------------------------------
-- sql/src/charts.sql: standalone SVG charts and XML/HTML escaping
--
-- xml_escape, svg_bar_chart, svg_line_chart and svg_cluster_chart (C:
-- src/svg_sql.c over src/core/svg.c).
------------------------------------------------------------------------------

-- xml_escape is STRICT.  The chart functions are not, because their
-- optional texts default to NULL (left out) and mark_x NULL means no mark;
-- a NULL array, a NULL array element or a NULL title is an error.

CREATE FUNCTION @extschema@.xml_escape(text)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_xml_escape'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.xml_escape(text) IS
'The text escaped for XML and HTML (text and quoted attributes): & < > " '' as entities; invalid UTF-8, control characters other than tab, LF and CR, U+FFFE and U+FFFF as U+FFFD (the escaping the charts use)';

CREATE FUNCTION @extschema@.svg_bar_chart(labels text[], "values" double precision[], title text,
    x_label text DEFAULT NULL, y_label text DEFAULT NULL, unit text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_svg_bar_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.svg_bar_chart(text[], double precision[], text, text, text, text) IS
'A standalone SVG bar chart of up to 1,000 labelled values, each printed on its bar; unit ''B'' or NULL gives SI prefixes (1.2 GB, 12.3 k), any other unit is appended to the numbers';

CREATE FUNCTION @extschema@.svg_line_chart(x double precision[], y double precision[], title text,
    x_label text DEFAULT NULL, y_label text DEFAULT NULL,
    mark_x double precision DEFAULT NULL, mark_label text DEFAULT NULL)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_svg_line_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.svg_line_chart(double precision[], double precision[], text, text, text, double precision, text) IS
'A standalone SVG line chart with markers of up to 10,000 points (x, y), e.g. the elbow curve; mark_x highlights a point with a dashed line and mark_label (e.g. ''elbow: k = 3'')';

CREATE FUNCTION @extschema@.svg_cluster_chart(labels text[], sizes bigint[], metrics text[],
    profile double precision[], title text)
RETURNS text
AS 'MODULE_PATHNAME', 'engage_svg_cluster_chart'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.svg_cluster_chart(text[], bigint[], text[], double precision[], text) IS
'A standalone SVG chart of up to 50 clusters: users per cluster (count and share) and the k x m profile (2-D array, up to 12 metrics) as grouped bars relative to each metric''s overall mean';
