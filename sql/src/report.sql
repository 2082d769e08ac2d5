------------------------------------------------------------------------------
-- sql/src/report.sql: helpers of the HTML report
--
-- format_bytes; the report itself, report_html, is in
-- sql/src/report_html.sql.
------------------------------------------------------------------------------

-- Bytes with SI prefixes (1 kB = 1,000 bytes), as the charts and the
-- cluster descriptions write them.
CREATE FUNCTION @extschema@.format_bytes(bytes numeric)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN CASE
	WHEN bytes = 'NaN' OR abs(bytes) = 'Infinity' THEN bytes::text || ' B'
	WHEN abs(bytes) < 999.5 THEN to_char(round(bytes), 'FM990') || ' B'
	-- past 999,999,999,999,999,999,999.9 YB: scientific notation
	WHEN abs(bytes) >= 999999999999999999999.95e24 THEN btrim(to_char(bytes, '9.9EEEE')) || ' B'
	ELSE (SELECT to_char(round(bytes / 1000::numeric ^ p.e, 1), 'FM999,999,999,999,999,999,990.0') || ' '
	             || (ARRAY['kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'])[p.e]
	      -- the prefix of the value rounded to 4 digits: 999,950 B is 1.0 MB, not 1000.0 kB
	      FROM (SELECT LEAST(8, GREATEST(1, floor(log(abs(round(bytes, (3 - floor(log(abs(bytes))))::integer))) / 3)))::integer AS e) p)
END;

COMMENT ON FUNCTION @extschema@.format_bytes(numeric) IS
'Bytes with an SI prefix and one decimal (1 kB = 1,000 bytes): 512 B, 1.2 kB, 345.6 MB, 8.6 TB (NaN B and Infinity B for those, scientific notation past 10^45 bytes); used by report_html';
