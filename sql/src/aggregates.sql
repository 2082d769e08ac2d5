------------------------------------------------------------------------------
-- sql/src/aggregates.sql: the per-group aggregates of xDR sessions
--
-- engagement_agg (sessions, exact sums of duration, DL and UL bytes) and
-- traffic_agg (DL and UL sums of several applications, in two forms), their
-- result types and their transition, combine and final functions (C:
-- src/engagement_agg.c, src/traffic_agg.c).
------------------------------------------------------------------------------

-- engagement_agg: per-user engagement

CREATE TYPE @extschema@.engagement AS (
	sessions bigint,
	duration_ms numeric,
	dl_bytes numeric,
	ul_bytes numeric,
	total_bytes numeric,
	null_values bigint,
	rejected_values bigint
);

COMMENT ON TYPE @extschema@.engagement IS
'Engagement of one group of xDR sessions: sessions (rows), exact sums of duration, DL, UL and DL + UL bytes, and counts of NULL and rejected (NaN, infinite, negative) measures';

-- Transition state: a bigint[], compact (5 elements) until a group needs the
-- wide form (13 elements); see src/engagement_agg.c for both layouts.

CREATE FUNCTION @extschema@.engagement_accum(bigint[], double precision, double precision, double precision)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_accum_float8'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_accum(bigint[], bigint, bigint, bigint)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_accum_int8'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_accum(bigint[], numeric, numeric, numeric)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_accum_numeric'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_engagement_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.engagement_final(bigint[])
RETURNS @extschema@.engagement
AS 'MODULE_PATHNAME', 'engage_engagement_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.engagement_accum(bigint[], double precision, double precision, double precision) IS
'Transition function of engagement_agg(double precision, double precision, double precision)';
COMMENT ON FUNCTION @extschema@.engagement_accum(bigint[], bigint, bigint, bigint) IS
'Transition function of engagement_agg(bigint, bigint, bigint)';
COMMENT ON FUNCTION @extschema@.engagement_accum(bigint[], numeric, numeric, numeric) IS
'Transition function of engagement_agg(numeric, numeric, numeric)';
COMMENT ON FUNCTION @extschema@.engagement_combine(bigint[], bigint[]) IS
'Combine function of engagement_agg: merges two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.engagement_final(bigint[]) IS
'Final function of engagement_agg: turns the state into an engage.engagement value';

CREATE AGGREGATE @extschema@.engagement_agg(double precision, double precision, double precision) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0}',
	SSPACE = 64,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.engagement_agg(bigint, bigint, bigint) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0}',
	SSPACE = 64,
	PARALLEL = SAFE
);

CREATE AGGREGATE @extschema@.engagement_agg(numeric, numeric, numeric) (
	SFUNC = @extschema@.engagement_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.engagement_final,
	COMBINEFUNC = @extschema@.engagement_combine,
	INITCOND = '{0,0,0,0,0}',
	SSPACE = 64,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.engagement_agg(double precision, double precision, double precision) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';
COMMENT ON AGGREGATE @extschema@.engagement_agg(bigint, bigint, bigint) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';
COMMENT ON AGGREGATE @extschema@.engagement_agg(numeric, numeric, numeric) IS
'Per-group engagement of xDR sessions (duration ms, DL bytes, UL bytes): sessions, exact sums, NULL and rejected counts';

-- traffic_agg: per-user traffic of several applications

CREATE TYPE @extschema@.traffic AS (
	dl_bytes double precision[],
	ul_bytes double precision[],
	null_values bigint,
	rejected_values bigint
);

COMMENT ON TYPE @extschema@.traffic IS
'Traffic of one group of xDR sessions in several applications: dl_bytes[i] and ul_bytes[i] are the sums of the i-th (DL, UL) column pair (NULL when the column has no accepted value), with counts of NULL and rejected (NaN, infinite, negative) values';

-- Transition state: a double precision[] of 2 + number of columns elements
-- (see src/traffic_agg.c).

CREATE FUNCTION @extschema@.traffic_accum(double precision[], VARIADIC "any")
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'engage_traffic_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.traffic_combine(double precision[], double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'engage_traffic_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.traffic_final(double precision[])
RETURNS @extschema@.traffic
AS 'MODULE_PATHNAME', 'engage_traffic_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.traffic_accum(double precision[], "any") IS
'Transition function of traffic_agg';
COMMENT ON FUNCTION @extschema@.traffic_combine(double precision[], double precision[]) IS
'Combine function of traffic_agg: merges two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.traffic_final(double precision[]) IS
'Final function of traffic_agg: turns the state into an engage.traffic value';

CREATE AGGREGATE @extschema@.traffic_agg(VARIADIC "any") (
	SFUNC = @extschema@.traffic_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.traffic_final,
	COMBINEFUNC = @extschema@.traffic_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.traffic_agg(VARIADIC "any") IS
'Per-group traffic of several applications from (DL, UL) double precision column pairs: the sums of each column as two arrays, NULL and rejected (NaN, infinite, negative) values skipped and counted';

-- The form Citus can split (0.2.0): one declared argument, the columns as a
-- double precision[], so that worker_partial_agg can check the argument
-- against the declaration.  PostgreSQL picks it for double precision
-- arguments (an exact match, where "any" is none) and for bigint, integer
-- and numeric ones (an implicit cast to the preferred numeric type); other
-- types still reach the "any" form, which refuses them.  Same state,
-- combine and final functions, same results bit for bit.

CREATE FUNCTION @extschema@.traffic_accum(double precision[], VARIADIC double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'engage_traffic_accum_array'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.traffic_accum(double precision[], double precision[]) IS
'Transition function of traffic_agg(VARIADIC double precision[])';

CREATE AGGREGATE @extschema@.traffic_agg(VARIADIC double precision[]) (
	SFUNC = @extschema@.traffic_accum,
	STYPE = double precision[],
	FINALFUNC = @extschema@.traffic_final,
	COMBINEFUNC = @extschema@.traffic_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.traffic_agg(VARIADIC double precision[]) IS
'Per-group traffic of several applications from (DL, UL) column pairs cast to double precision: the sums of each column as two arrays, NULL and rejected (NaN, infinite, negative) values skipped and counted; the form that PostgreSQL picks for numeric arguments and that Citus can split (the same results as traffic_agg(VARIADIC "any"))';

-- hours_agg, hours_sum_agg: the hours of activity from the per-user scan
-- (issue 11).  hours_agg is a user's sessions by hour of day as a compact
-- histogram (bytea: for each hour with sessions, the hour's byte and its
-- count as a varint; 2 bytes for one session), stored with the user's row
-- by run_analysis's per-user step; hours_sum_agg sums users' histograms
-- into 24 exact counts (run_analysis's cluster statistics, by cluster).
-- Their states are bigint[] (see src/hours_agg.c), which Citus can split.

CREATE FUNCTION @extschema@.hours_accum(bigint[], integer)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_accum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_final(bigint[])
RETURNS bytea
AS 'MODULE_PATHNAME', 'engage_hours_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.hours_accum(bigint[], integer) IS
'Transition function of hours_agg: counts one session in its hour (an error outside 0..23)';
COMMENT ON FUNCTION @extschema@.hours_combine(bigint[], bigint[]) IS
'Combine function of hours_agg: merges two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.hours_final(bigint[]) IS
'Final function of hours_agg: the state as a compact histogram (bytea)';

CREATE AGGREGATE @extschema@.hours_agg(integer) (
	SFUNC = @extschema@.hours_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.hours_final,
	COMBINEFUNC = @extschema@.hours_combine,
	INITCOND = '{0,0}',
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.hours_agg(integer) IS
'Sessions by hour of day (the argument, 0 to 23; NULL: not counted) as a compact histogram: for each hour with sessions, in increasing order, a byte of the hour and the count as an unsigned LEB128 varint (2 bytes for one session; empty for none); hours_counts reads it, hours_sum_agg sums histograms';

CREATE FUNCTION @extschema@.hours_counts(bytea)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_counts'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.hours_counts(bytea) IS
'The 24 counts (hours 0 to 23) of a histogram of hours_agg; an error (22P03) for a bytea that is not one';

CREATE FUNCTION @extschema@.hours_sum_accum(bigint[], bytea)
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_sum_accum'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_sum_combine(bigint[], bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_sum_combine'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.hours_sum_final(bigint[])
RETURNS bigint[]
AS 'MODULE_PATHNAME', 'engage_hours_sum_final'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.hours_sum_accum(bigint[], bytea) IS
'Transition function of hours_sum_agg: adds a histogram of hours_agg (NULL: skipped)';
COMMENT ON FUNCTION @extschema@.hours_sum_combine(bigint[], bigint[]) IS
'Combine function of hours_sum_agg: adds two partial states (parallel workers, Citus)';
COMMENT ON FUNCTION @extschema@.hours_sum_final(bigint[]) IS
'Final function of hours_sum_agg: the 24 counts';

CREATE AGGREGATE @extschema@.hours_sum_agg(bytea) (
	SFUNC = @extschema@.hours_sum_accum,
	STYPE = bigint[],
	FINALFUNC = @extschema@.hours_sum_final,
	COMBINEFUNC = @extschema@.hours_sum_combine,
	PARALLEL = SAFE
);

COMMENT ON AGGREGATE @extschema@.hours_sum_agg(bytea) IS
'The sum of histograms of hours_agg: 24 exact counts (bigint[], hours 0 to 23; an error past 2^63 - 1); NULL histograms skipped, NULL when there is none';
