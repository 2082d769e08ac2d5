------------------------------------------------------------------------------
-- sql/src/xdr.sql: the xDR layout and the synthetic data generator
--
-- The type engage.xdr (the TellCo CSV's 55 columns), xdr_rows (C:
-- src/xdr_generator.c) and generate_xdr, which makes a table of them.
------------------------------------------------------------------------------

-- The TellCo xDR layout: 55 columns, named as the CSV headers.
CREATE TYPE @extschema@.xdr AS (
	"Bearer Id" double precision,
	"Start" text,
	"Start ms" double precision,
	"End" text,
	"End ms" double precision,
	"Dur. (ms)" double precision,
	"IMSI" double precision,
	"MSISDN/Number" double precision,
	"IMEI" double precision,
	"Last Location Name" text,
	"Avg RTT DL (ms)" double precision,
	"Avg RTT UL (ms)" double precision,
	"Avg Bearer TP DL (kbps)" double precision,
	"Avg Bearer TP UL (kbps)" double precision,
	"TCP DL Retrans. Vol (Bytes)" double precision,
	"TCP UL Retrans. Vol (Bytes)" double precision,
	"DL TP < 50 Kbps (%)" double precision,
	"50 Kbps < DL TP < 250 Kbps (%)" double precision,
	"250 Kbps < DL TP < 1 Mbps (%)" double precision,
	"DL TP > 1 Mbps (%)" double precision,
	"UL TP < 10 Kbps (%)" double precision,
	"10 Kbps < UL TP < 50 Kbps (%)" double precision,
	"50 Kbps < UL TP < 300 Kbps (%)" double precision,
	"UL TP > 300 Kbps (%)" double precision,
	"HTTP DL (Bytes)" double precision,
	"HTTP UL (Bytes)" double precision,
	"Activity Duration DL (ms)" double precision,
	"Activity Duration UL (ms)" double precision,
	"Dur. (ms).1" double precision,
	"Handset Manufacturer" text,
	"Handset Type" text,
	"Nb of sec with 125000B < Vol DL" double precision,
	"Nb of sec with 1250B < Vol UL < 6250B" double precision,
	"Nb of sec with 31250B < Vol DL < 125000B" double precision,
	"Nb of sec with 37500B < Vol UL" double precision,
	"Nb of sec with 6250B < Vol DL < 31250B" double precision,
	"Nb of sec with 6250B < Vol UL < 37500B" double precision,
	"Nb of sec with Vol DL < 6250B" double precision,
	"Nb of sec with Vol UL < 1250B" double precision,
	"Social Media DL (Bytes)" double precision,
	"Social Media UL (Bytes)" double precision,
	"Google DL (Bytes)" double precision,
	"Google UL (Bytes)" double precision,
	"Email DL (Bytes)" double precision,
	"Email UL (Bytes)" double precision,
	"Youtube DL (Bytes)" double precision,
	"Youtube UL (Bytes)" double precision,
	"Netflix DL (Bytes)" double precision,
	"Netflix UL (Bytes)" double precision,
	"Gaming DL (Bytes)" double precision,
	"Gaming UL (Bytes)" double precision,
	"Other DL (Bytes)" double precision,
	"Other UL (Bytes)" double precision,
	"Total UL (Bytes)" double precision,
	"Total DL (Bytes)" double precision
);

COMMENT ON TYPE @extschema@.xdr IS
'One xDR record in the TellCo layout (55 columns named as the CSV headers); CREATE TABLE t (LIKE engage.xdr) makes a table for the real CSV';

-- Rows first_row .. first_row + n - 1 of a generated data set of total_rows
-- rows and about `users` subscribers.  Each row depends only on
-- (total_rows, users, seed, row number), so chunks can be generated in any
-- order and give the same table.
CREATE FUNCTION @extschema@.xdr_rows(total_rows bigint, users bigint, seed bigint, first_row bigint, n bigint)
RETURNS SETOF @extschema@.xdr
AS 'MODULE_PATHNAME', 'engage_xdr_rows'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
ROWS 10000;

COMMENT ON FUNCTION @extschema@.xdr_rows(bigint, bigint, bigint, bigint, bigint) IS
'Rows first_row .. first_row + n - 1 of the deterministic synthetic xDR data set (total_rows, users, seed), in the TellCo layout';

-- Create table_name (LIKE engage.xdr) and fill it with the whole data set
-- (total_rows, users, seed), in chunks of 5,000 rows so that each call's
-- tuplestore stays in work_mem.  users defaults to the real TellCo ratio of
-- 106,856 subscribers for 150,001 rows.  No SET search_path: an unqualified
-- table_name goes to the caller's current schema, and every other name here
-- is schema-qualified, operators and types included (OPERATOR(pg_catalog.*)):
-- an operator or type of the same name earlier in the caller's search_path,
-- or one that matches the argument types better, is never called.
CREATE FUNCTION @extschema@.generate_xdr(table_name text, total_rows bigint DEFAULT 150001, users bigint DEFAULT NULL, seed bigint DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
	chunk constant bigint := 5000;
	n_users bigint;
	target pg_catalog.text;
	inserted bigint;
BEGIN
	IF table_name IS NULL OR total_rows IS NULL OR seed IS NULL THEN
		RAISE EXCEPTION 'table_name, total_rows and seed must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF total_rows OPERATOR(pg_catalog.<) 1::bigint THEN
		RAISE EXCEPTION 'total_rows must be at least 1'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = pg_catalog.format('total_rows is %s.', total_rows);
	END IF;
	n_users := COALESCE(users,
		GREATEST(1, pg_catalog.round((total_rows::numeric OPERATOR(pg_catalog.*) 106856::numeric) OPERATOR(pg_catalog./) 150001::numeric)::bigint));
	-- checks users against total_rows (no rows are generated)
	PERFORM FROM @extschema@.xdr_rows(total_rows, n_users, seed, 0, 0);

	SELECT pg_catalog.string_agg(pg_catalog.quote_ident(part), '.' ORDER BY ord)
	INTO target
	FROM pg_catalog.unnest(pg_catalog.parse_ident(table_name)) WITH ORDINALITY AS p(part, ord);

	EXECUTE pg_catalog.format('CREATE TABLE %s (LIKE @extschema@.xdr)', target);
	EXECUTE pg_catalog.format(
		'INSERT INTO %s SELECT r.* FROM pg_catalog.generate_series(0::bigint, $1 OPERATOR(pg_catalog.-) 1::bigint) AS c(i) '
		'CROSS JOIN LATERAL @extschema@.xdr_rows($2, $3, $4, c.i OPERATOR(pg_catalog.*) $5, '
		'LEAST($5, $2 OPERATOR(pg_catalog.-) (c.i OPERATOR(pg_catalog.*) $5))) AS r',
		target)
	USING ((total_rows OPERATOR(pg_catalog.+) chunk) OPERATOR(pg_catalog.-) 1::bigint) OPERATOR(pg_catalog./) chunk,
	      total_rows, n_users, seed, chunk;
	GET DIAGNOSTICS inserted = ROW_COUNT;
	RETURN inserted;
END
$$;

COMMENT ON FUNCTION @extschema@.generate_xdr(text, bigint, bigint, bigint) IS
'Creates table table_name (LIKE engage.xdr) and fills it with the deterministic synthetic xDR data set (total_rows, users, seed); users defaults to the TellCo ratio (106,856 per 150,001 rows); returns the number of rows';
