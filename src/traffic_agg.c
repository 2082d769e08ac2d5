/*-------------------------------------------------------------------------
 *
 * traffic_agg.c
 *	  engage.traffic_agg: per-group DL and UL traffic of several
 *	  applications in one aggregate, from (DL, UL) column pairs.
 *
 * traffic_agg(dl_1, ul_1, dl_2, ul_2, ...) takes double precision
 * arguments in pairs and returns engage.traffic: dl_bytes[i] and
 * ul_bytes[i], the sums of the i-th pair over the group, and the counts of
 * NULL and rejected values.  The policy is engagement_agg's: a NULL is
 * skipped and counted in null_values; NaN, +/-Infinity and negative values
 * (faulty probes) are skipped and counted in rejected_values; a column
 * with no accepted value in the group sums to NULL (an array element), as
 * SQL's sum() does.  Sums are double precision, exact for integer byte
 * counts while a sum stays below 2^53 (9 PB per subscriber and application).
 *
 * It replaces, in run_analysis, one sum() FILTER (WHERE valid) per column
 * plus a CASE expression per column to count the rejected values: one
 * transition call per row instead of 2n + 1 aggregates and 3n expressions.
 *
 * Two forms share the state, the combine and the final function and give
 * the same results bit for bit (the same additions in the same order):
 * traffic_agg(VARIADIC double precision[]), which PostgreSQL picks for
 * double precision arguments (it matches them exactly, and casts bigint,
 * integer and numeric ones implicitly), and traffic_agg(VARIADIC "any") of
 * 0.1.0, which reads its argument types at run time and takes double
 * precision only.  Citus can split the first (worker_partial_agg /
 * coord_combine_agg: it checks the arguments against the declared types,
 * one double precision[]) but not the second (it packs the arguments in a
 * record, whose element count and types never match a VARIADIC "any"
 * declaration).
 *
 * The transition state is a plain double precision[] (not internal), so
 * the aggregate is combinable, parallel and pushable to Citus workers like
 * engagement_agg: [null count, rejected count, sum of argument 1, ...],
 * where a sum that is NaN means no accepted value yet (an accepted value is
 * never NaN).  Inside an aggregate it is updated in place.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "engage.h"

#define TS_NULLS	0			/* NULL values skipped */
#define TS_REJECTED 1			/* NaN, infinite or negative values skipped */
#define TS_SUM(i)	(2 + (i))	/* sum of argument i (0-based), NaN: none */
#define TRAFFIC_NATTS 4			/* attributes of engage.traffic */

/* as many columns as a call takes: FUNC_MAX_ARGS less the state, in pairs */
#define TRAFFIC_MAX_COLUMNS ((FUNC_MAX_ARGS - 1) / 2 * 2)

/*
 * The number of columns of a call, checked once per query (cached in
 * fn_extra): an even number of double precision arguments, passed one by
 * one (not as a VARIADIC array).
 */
static int
traffic_columns(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	int			ncols = PG_NARGS() - 1;
	int			i;

	if (flinfo->fn_extra != NULL)
		return ncols;
	if (get_fn_expr_variadic(flinfo))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be separate arguments, not a VARIADIC array"),
				 errhint("Pass the columns one by one: traffic_agg(dl_1, ul_1, dl_2, ul_2, ...).")));
	if (ncols < 2 || ncols % 2 != 0 || ncols > TRAFFIC_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arguments must be (DL, UL) pairs, 1 to %d of them",
						TRAFFIC_MAX_COLUMNS / 2),
				 errdetail_plural("The call has %d argument.", "The call has %d arguments.",
								  ncols, ncols)));
	for (i = 0; i < ncols; i++)
	{
		Oid			type = get_fn_expr_argtype(flinfo, i + 1);

		if (type != FLOAT8OID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("argument %d is %s, not double precision",
							i + 1, OidIsValid(type) ? format_type_be(type) : "of unknown type"),
					 errhint("Cast the column: traffic_agg(dl::double precision, ul::double precision, ...).")));
	}
	flinfo->fn_extra = flinfo;	/* checked */
	return ncols;
}

/* Check that an array is a well-formed state and return its slots */
static double *
traffic_state_slots(ArrayType *state, int *nslots)
{
	if (ARR_NDIM(state) != 1 || ARR_DIMS(state)[0] < 4 || ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid traffic_agg state"),
				 errdetail("The state must be a one-dimensional double precision array of at least 4 elements without nulls.")));
	*nslots = ARR_DIMS(state)[0];
	return (double *) ARR_DATA_PTR(state);
}

/* A new state for ncols columns: no value counted, no sum yet */
static ArrayType *
traffic_state_new(int ncols)
{
	int			nslots = TS_SUM(ncols);
	Size		size = ARR_OVERHEAD_NONULLS(1) + nslots * sizeof(double);
	ArrayType  *state = (ArrayType *) palloc(size);
	double	   *slots;
	int			i;

	SET_VARSIZE(state, size);
	state->ndim = 1;
	state->dataoffset = 0;
	state->elemtype = FLOAT8OID;
	ARR_DIMS(state)[0] = nslots;
	ARR_LBOUND(state)[0] = 1;
	slots = (double *) ARR_DATA_PTR(state);
	slots[TS_NULLS] = 0.0;
	slots[TS_REJECTED] = 0.0;
	for (i = 0; i < ncols; i++)
		slots[TS_SUM(i)] = get_float8_nan();
	return state;
}

/*
 * Add value x of column i (0-based) to the state's slots: to the column's
 * sum when it is accepted (finite, not negative), else to the count of
 * rejected values.
 */
static inline void
traffic_add(double *slots, int i, double x)
{
	if (likely(x >= 0.0 && x < get_float8_infinity()))
	{
		double		sum = slots[TS_SUM(i)];

		slots[TS_SUM(i)] = isnan(sum) ? x : sum + x;
	}
	else
		slots[TS_REJECTED] += 1.0;	/* NaN, infinite or negative */
}

/*
 * Transition function of traffic_agg(VARIADIC "any") (not strict: a NULL
 * is counted).  Inside an
 * aggregate the state made on a group's first row is updated in place;
 * called directly, a copy of the state argument is returned.
 */
PG_FUNCTION_INFO_V1(engage_traffic_accum);
Datum
engage_traffic_accum(PG_FUNCTION_ARGS)
{
	int			ncols = traffic_columns(fcinfo);
	ArrayType  *state;
	double	   *slots;
	int			nslots;
	int			i;

	if (PG_ARGISNULL(0))
		state = traffic_state_new(ncols);
	else if (AggCheckCallContext(fcinfo, NULL))
		state = PG_GETARG_ARRAYTYPE_P(0);
	else
		state = PG_GETARG_ARRAYTYPE_P_COPY(0);
	slots = traffic_state_slots(state, &nslots);
	if (nslots != TS_SUM(ncols))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid traffic_agg state"),
				 errdetail("The state has %d elements, %d columns need %d.",
						   nslots, ncols, TS_SUM(ncols))));

	for (i = 0; i < ncols; i++)
	{
		if (PG_ARGISNULL(i + 1))
			slots[TS_NULLS] += 1.0;
		else
			traffic_add(slots, i, PG_GETARG_FLOAT8(i + 1));
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * The number of columns of a call of traffic_agg(VARIADIC double
 * precision[]): the length of the array of one row (the columns, or the
 * array a VARIADIC call passes), an even number from 2 to
 * TRAFFIC_MAX_COLUMNS.
 */
static int
traffic_array_columns(ArrayType *cols)
{
	int			ncols;

	if (ARR_ELEMTYPE(cols) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("the columns of traffic_agg must be double precision")));
	if (ARR_NDIM(cols) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("the columns of traffic_agg must be a one-dimensional array"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(cols))));
	ncols = ARR_NDIM(cols) == 1 ? ARR_DIMS(cols)[0] : 0;
	if (ncols < 2 || ncols % 2 != 0 || ncols > TRAFFIC_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arguments must be (DL, UL) pairs, 1 to %d of them",
						TRAFFIC_MAX_COLUMNS / 2),
				 errdetail_plural("The call has %d argument.", "The call has %d arguments.",
								  ncols, ncols)));
	return ncols;
}

/*
 * Transition function of traffic_agg(VARIADIC double precision[]) (not
 * strict: a NULL column is counted).  The same state and the same additions
 * as engage_traffic_accum, the columns read from the array of the row.
 * Every row of a group must have as many columns as the first.
 */
PG_FUNCTION_INFO_V1(engage_traffic_accum_array);
Datum
engage_traffic_accum_array(PG_FUNCTION_ARGS)
{
	ArrayType  *cols;
	ArrayType  *state;
	double	   *slots;
	const double *x;
	bits8	   *nullmap;
	int			ncols;
	int			nslots;
	int			i;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the columns of traffic_agg must not be a NULL array"),
				 errhint("Pass the columns one by one: traffic_agg(dl_1, ul_1, dl_2, ul_2, ...).")));
	cols = PG_GETARG_ARRAYTYPE_P(1);
	ncols = traffic_array_columns(cols);

	if (PG_ARGISNULL(0))
		state = traffic_state_new(ncols);
	else if (AggCheckCallContext(fcinfo, NULL))
		state = PG_GETARG_ARRAYTYPE_P(0);
	else
		state = PG_GETARG_ARRAYTYPE_P_COPY(0);
	slots = traffic_state_slots(state, &nslots);
	if (nslots != TS_SUM(ncols))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid traffic_agg state"),
				 errdetail("The state has %d elements, %d columns need %d.",
						   nslots, ncols, TS_SUM(ncols)),
				 errhint("Every row of a group must have the same number of columns.")));

	/* the elements that are not NULL are stored one after the other */
	x = (const double *) ARR_DATA_PTR(cols);
	nullmap = ARR_NULLBITMAP(cols);
	for (i = 0; i < ncols; i++)
	{
		if (nullmap != NULL && (nullmap[i / 8] & (1 << (i % 8))) == 0)
			slots[TS_NULLS] += 1.0;
		else
			traffic_add(slots, i, *x++);
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states (parallel workers, Citus workers) */
PG_FUNCTION_INFO_V1(engage_traffic_combine);
Datum
engage_traffic_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state1 = AggCheckCallContext(fcinfo, NULL) ?
		PG_GETARG_ARRAYTYPE_P(0) : PG_GETARG_ARRAYTYPE_P_COPY(0);
	ArrayType  *state2 = PG_GETARG_ARRAYTYPE_P(1);
	int			n1,
				n2;
	double	   *s1 = traffic_state_slots(state1, &n1);
	double	   *s2 = traffic_state_slots(state2, &n2);
	int			i;

	if (n1 != n2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid traffic_agg state"),
				 errdetail("Partial states of %d and %d elements cannot be combined.", n1, n2)));
	s1[TS_NULLS] += s2[TS_NULLS];
	s1[TS_REJECTED] += s2[TS_REJECTED];
	for (i = TS_SUM(0); i < n1; i++)
	{
		if (isnan(s2[i]))
			continue;
		s1[i] = isnan(s1[i]) ? s2[i] : s1[i] + s2[i];
	}
	PG_RETURN_ARRAYTYPE_P(state1);
}

/*
 * n sums of a state, every other one from first, as float8[] (NaN: NULL):
 * the array that construct_md_array would build, made in place.
 */
static ArrayType *
traffic_sums_array(const double *slots, int first, int n)
{
	int			nnulls = 0;
	int			i;
	Size		size;
	ArrayType  *a;
	bits8	   *bitmap;
	double	   *data;

	for (i = 0; i < n; i++)
		if (isnan(slots[TS_SUM(first + 2 * i)]))
			nnulls++;
	size = (nnulls > 0 ? ARR_OVERHEAD_WITHNULLS(1, n) : ARR_OVERHEAD_NONULLS(1)) +
		(Size) (n - nnulls) * sizeof(double);
	a = (ArrayType *) palloc0(size);
	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = nnulls > 0 ? ARR_OVERHEAD_WITHNULLS(1, n) : 0;
	a->elemtype = FLOAT8OID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	bitmap = ARR_NULLBITMAP(a);
	data = (double *) ARR_DATA_PTR(a);
	for (i = 0; i < n; i++)
	{
		double		sum = slots[TS_SUM(first + 2 * i)];

		if (isnan(sum))
			continue;			/* its bit stays 0: NULL */
		if (bitmap != NULL)
			bitmap[i / 8] |= 1 << (i % 8);
		*data++ = sum;
	}
	return a;
}

/* Final function: the state as an engage.traffic value */
PG_FUNCTION_INFO_V1(engage_traffic_final);
Datum
engage_traffic_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nslots;
	double	   *slots = traffic_state_slots(state, &nslots);
	TupleDesc	tupdesc = engage_result_tupdesc(fcinfo, TRAFFIC_NATTS, "engage.traffic");
	Datum		values[TRAFFIC_NATTS];
	bool		nulls[TRAFFIC_NATTS] = {false, false, false, false};
	int			npairs = (nslots - TS_SUM(0)) / 2;
	int			i;

	/* a state made by the aggregate: whole counts, sums >= 0 or NaN */
	for (i = TS_SUM(0); i < nslots; i++)
		if (slots[i] < 0.0)
			break;
	if ((nslots - TS_SUM(0)) % 2 != 0 || i < nslots ||
		!(slots[TS_NULLS] >= 0.0 && slots[TS_NULLS] == floor(slots[TS_NULLS]) &&
		  slots[TS_NULLS] < 9.2e18) ||
		!(slots[TS_REJECTED] >= 0.0 && slots[TS_REJECTED] == floor(slots[TS_REJECTED]) &&
		  slots[TS_REJECTED] < 9.2e18))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid traffic_agg state"),
				 errdetail("The counts must be whole and not negative, the sums not negative, and the columns in pairs.")));

	values[0] = PointerGetDatum(traffic_sums_array(slots, 0, npairs));
	values[1] = PointerGetDatum(traffic_sums_array(slots, 1, npairs));
	values[2] = Int64GetDatum((int64) slots[TS_NULLS]);
	values[3] = Int64GetDatum((int64) slots[TS_REJECTED]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
