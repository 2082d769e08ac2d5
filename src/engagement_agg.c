/*-------------------------------------------------------------------------
 *
 * engagement_agg.c
 *	  engage.engagement_agg(duration_ms, dl_bytes, ul_bytes): per-group
 *	  engagement of xDR sessions (sessions, exact sums of duration, DL, UL
 *	  and DL + UL bytes, counts of NULL and rejected measures).
 *
 * Exactness.  Every accepted value is split into an integer part, added to
 * an unsigned 128-bit sum (two uint64 words with carry), and a fractional
 * part, added to a float8.  Integer-valued inputs (durations in ms, byte
 * counts) therefore sum exactly, in any row order and in any plan (serial,
 * parallel, Citus), up to 2^128 - 1 per group; only the fractional parts of
 * non-integer inputs are rounded.
 *
 * Policy for faulty measures.  A NULL measure is skipped and counted in
 * null_values (the row still counts as a session).  NaN, +/-Infinity and
 * negative values come from faulty probes: they are skipped and counted in
 * rejected_values, so nothing is lost silently.  A finite value of 2^64 or
 * more cannot be a duration in ms or a byte count of one session: it raises
 * an error naming the value.  A sum that would pass 2^128 - 1 raises an
 * error too.  A measure with no accepted value in the group sums to NULL, as
 * SQL's sum() does; total_bytes is NULL only when both DL and UL are.
 *
 * The transition state is a plain bigint[ENGAGEMENT_NSLOTS] (not internal)
 * so that partial aggregation needs no serialization and Citus can push it
 * down to its workers.  Inside an aggregate the state is updated in place,
 * with no allocation per row.
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
#include "utils/numeric.h"

/* Layout of the bigint[] transition state */
#define ES_ROWS			0		/* rows aggregated (sessions) */
#define ES_NULLS		1		/* NULL measures skipped */
#define ES_REJECTED		2		/* NaN, infinite or negative measures skipped */
#define ES_PRESENT		3		/* bit m set: measure m had an accepted value */
#define ES_SUM_LO(m)	(4 + 2 * (m))	/* low word of measure m's integer sum */
#define ES_SUM_HI(m)	(5 + 2 * (m))	/* high word of measure m's integer sum */
#define ES_FRAC(m)		(10 + (m))	/* float8 bits: sum of fractional parts */
#define ENGAGEMENT_NSLOTS 13

#define ENGAGEMENT_NMEASURES 3	/* duration, DL bytes, UL bytes */
#define ENGAGEMENT_NATTS 7		/* attributes of engage.engagement */

/* 2^64 as a double: the first value too large for one measure */
#define TWO_POW_64 18446744073709551616.0

static const char *const measure_names[ENGAGEMENT_NMEASURES] = {
	"duration_ms", "dl_bytes", "ul_bytes"
};

/* Check that an array is a well-formed state and return its slots */
static inline int64 *
engagement_state_slots(ArrayType *state)
{
	if (ARR_NDIM(state) != 1 ||
		ARR_DIMS(state)[0] != ENGAGEMENT_NSLOTS ||
		ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement_agg state"),
				 errdetail("The state must be a one-dimensional bigint array of %d elements without nulls.",
						   ENGAGEMENT_NSLOTS)));
	return (int64 *) ARR_DATA_PTR(state);
}

/* Build a zeroed state array in the current memory context */
static pg_noinline ArrayType *
engagement_state_new(void)
{
	Datum		zeros[ENGAGEMENT_NSLOTS];
	int			i;

	for (i = 0; i < ENGAGEMENT_NSLOTS; i++)
		zeros[i] = Int64GetDatum(0);
	return construct_array(zeros, ENGAGEMENT_NSLOTS, INT8OID,
						   sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * Get the state argument for updating: in place inside an aggregate, a copy
 * when called directly (so that a caller's value is never modified).
 */
static pg_noinline ArrayType *
engagement_state_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return engagement_state_new();
	if (AggCheckCallContext(fcinfo, NULL))
		return PG_GETARG_ARRAYTYPE_P(argno);
	return PG_GETARG_ARRAYTYPE_P_COPY(argno);
}

/*
 * The transition functions' hot path: inside a plain aggregate the state is
 * the plain (never toasted) array that the aggregate made from INITCOND, so
 * it is used as it is, without a call to detoast it.
 */
static inline ArrayType *
engagement_trans_state(FunctionCallInfo fcinfo)
{
	if (likely(!PG_ARGISNULL(0) && fcinfo->context != NULL &&
			   IsA(fcinfo->context, AggState)))
	{
		struct varlena *value = (struct varlena *) PG_GETARG_POINTER(0);

		if (likely(!VARATT_IS_EXTENDED(value)))
			return (ArrayType *) value;
	}
	return engagement_state_arg(fcinfo, 0);
}

/* Add an unsigned 64-bit value to measure m's 128-bit sum */
static inline void
engagement_add_uint64(int64 *slots, int m, uint64 value)
{
	uint64		lo = (uint64) slots[ES_SUM_LO(m)];
	uint64		hi = (uint64) slots[ES_SUM_HI(m)];
	uint64		newlo = lo + value;

	if (newlo < lo)
	{
		if (unlikely(hi == PG_UINT64_MAX))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("engagement_agg sum of %s is out of range",
							measure_names[m]),
					 errdetail("A sum must be below 2^128.")));
		hi++;
	}
	slots[ES_SUM_LO(m)] = (int64) newlo;
	slots[ES_SUM_HI(m)] = (int64) hi;
	slots[ES_PRESENT] |= (INT64CONST(1) << m);
}

/* Add to measure m's sum of fractional parts (kept as float8 bits) */
static inline void
engagement_add_frac(int64 *slots, int m, double frac)
{
	double		sum;

	memcpy(&sum, &slots[ES_FRAC(m)], sizeof(double));
	sum += frac;
	memcpy(&slots[ES_FRAC(m)], &sum, sizeof(double));
}

/* Accumulate one double precision measure */
static inline void
engagement_add_float8(int64 *slots, int m, double x)
{
	uint64		ipart;

	if (likely(x >= 0.0 && x < TWO_POW_64))
	{
		ipart = (uint64) x;
		engagement_add_uint64(slots, m, ipart);
		/* below 2^53 the subtraction is exact; above, x is an integer */
		if (unlikely((double) ipart != x))
			engagement_add_frac(slots, m, x - (double) ipart);
	}
	else if (isnan(x) || x < 0.0 || isinf(x))
		slots[ES_REJECTED]++;
	else
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value %g of %s is out of range for engagement_agg",
						x, measure_names[m]),
				 errdetail("Each value must be below 2^64."),
				 errhint("Such a value is a faulty measure: filter it out or set it to NULL.")));
}

/* Accumulate one bigint measure */
static inline void
engagement_add_int8(int64 *slots, int m, int64 x)
{
	if (likely(x >= 0))
		engagement_add_uint64(slots, m, (uint64) x);
	else
		slots[ES_REJECTED]++;
}

/* Accumulate one numeric measure */
static void
engagement_add_numeric(int64 *slots, int m, Numeric x)
{
	Numeric		zero;
	Numeric		ipart;
	uint64		value;

	if (numeric_is_nan(x) || numeric_is_inf(x))
	{
		slots[ES_REJECTED]++;
		return;
	}
	zero = int64_to_numeric(0);
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(x),
										  NumericGetDatum(zero))) < 0)
	{
		slots[ES_REJECTED]++;
		return;
	}

	ipart = DatumGetNumeric(DirectFunctionCall2(numeric_trunc,
												NumericGetDatum(x),
												Int32GetDatum(0)));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(ipart),
										  NumericGetDatum(int64_to_numeric(PG_INT64_MAX)))) <= 0)
		value = (uint64) DatumGetInt64(DirectFunctionCall1(numeric_int8,
														   NumericGetDatum(ipart)));
	else
	{
		/* between 2^63 and 2^64 still fits; past that it is out of range */
		char	   *digits = DatumGetCString(DirectFunctionCall1(numeric_out,
																 NumericGetDatum(ipart)));
		char	   *end;

		errno = 0;
		value = strtoull(digits, &end, 10);
		if (errno == ERANGE || *end != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %s of %s is out of range for engagement_agg",
							strlen(digits) > 30 ? numeric_out_sci(ipart, 6) : digits,
							measure_names[m]),
					 errdetail("Each value must be below 2^64."),
					 errhint("Such a value is a faulty measure: filter it out or set it to NULL.")));
	}
	engagement_add_uint64(slots, m, value);

	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(x),
										  NumericGetDatum(ipart))) != 0)
	{
		Numeric		frac = numeric_sub_opt_error(x, ipart, NULL);

		engagement_add_frac(slots, m,
							DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
															   NumericGetDatum(frac))));
	}
}

/*
 * Transition functions, one per argument type.  Non-strict: a row with NULL
 * measures still counts as a session.
 */
PG_FUNCTION_INFO_V1(engage_engagement_accum_float8);
Datum
engage_engagement_accum_float8(PG_FUNCTION_ARGS)
{
	ArrayType  *state = engagement_trans_state(fcinfo);
	int64	   *slots = engagement_state_slots(state);
	int			m;

	slots[ES_ROWS]++;
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		if (PG_ARGISNULL(m + 1))
			slots[ES_NULLS]++;
		else
			engagement_add_float8(slots, m, PG_GETARG_FLOAT8(m + 1));
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(engage_engagement_accum_int8);
Datum
engage_engagement_accum_int8(PG_FUNCTION_ARGS)
{
	ArrayType  *state = engagement_trans_state(fcinfo);
	int64	   *slots = engagement_state_slots(state);
	int			m;

	slots[ES_ROWS]++;
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		if (PG_ARGISNULL(m + 1))
			slots[ES_NULLS]++;
		else
			engagement_add_int8(slots, m, PG_GETARG_INT64(m + 1));
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

PG_FUNCTION_INFO_V1(engage_engagement_accum_numeric);
Datum
engage_engagement_accum_numeric(PG_FUNCTION_ARGS)
{
	ArrayType  *state = engagement_trans_state(fcinfo);
	int64	   *slots = engagement_state_slots(state);
	int			m;

	slots[ES_ROWS]++;
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		if (PG_ARGISNULL(m + 1))
			slots[ES_NULLS]++;
		else
			engagement_add_numeric(slots, m, PG_GETARG_NUMERIC(m + 1));
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states (parallel workers, Citus workers) */
PG_FUNCTION_INFO_V1(engage_engagement_combine);
Datum
engage_engagement_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state1 = engagement_state_arg(fcinfo, 0);
	ArrayType  *state2 = PG_GETARG_ARRAYTYPE_P(1);
	int64	   *s1 = engagement_state_slots(state1);
	int64	   *s2 = engagement_state_slots(state2);
	int			m;

	s1[ES_ROWS] += s2[ES_ROWS];
	s1[ES_NULLS] += s2[ES_NULLS];
	s1[ES_REJECTED] += s2[ES_REJECTED];
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		double		frac;
		uint64		hi2 = (uint64) s2[ES_SUM_HI(m)];
		uint64		hi1 = (uint64) s1[ES_SUM_HI(m)];

		if (!(s2[ES_PRESENT] & (INT64CONST(1) << m)))
			continue;
		/* add the high word first, then the low word with its carry */
		if (hi1 + hi2 < hi1)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("engagement_agg sum of %s is out of range",
							measure_names[m]),
					 errdetail("A sum must be below 2^128.")));
		s1[ES_SUM_HI(m)] = (int64) (hi1 + hi2);
		engagement_add_uint64(s1, m, (uint64) s2[ES_SUM_LO(m)]);
		memcpy(&frac, &s2[ES_FRAC(m)], sizeof(double));
		if (frac != 0.0)
			engagement_add_frac(s1, m, frac);
	}
	PG_RETURN_ARRAYTYPE_P(state1);
}

/*
 * numeric's short on-disk format (src/backend/utils/adt/numeric.c,
 * struct NumericShort): after the varlena header, a uint16 header word
 * (NUMERIC_SHORT flag, sign, display scale, weight) and the base-10000
 * digits, most significant first, without leading or trailing zero digits.
 * This format is stored on disk, so it is stable across minor versions.
 */
#define NUMERIC_SHORT_FLAG		0x8000
#define NUMERIC_SHORT_WEIGHT_MASK 0x003F
#define NUMERIC_NBASE			10000

/*
 * An unsigned 64-bit integer as numeric, built directly in the short format
 * (what int64_to_numeric() returns, without its intermediate allocations:
 * the final function makes four of these per group).
 */
static Numeric
engagement_uint64_numeric(uint64 value)
{
	int16		digits[5];		/* least significant first; 2^64 < 10000^5 */
	int			ndigits = 0;
	int			low = 0;
	int			n;
	int			i;
	Size		len;
	uint16		header;
	char	   *p;
	Numeric		result;

	while (value != 0)
	{
		digits[ndigits++] = (int16) (value % NUMERIC_NBASE);
		value /= NUMERIC_NBASE;
	}
	while (low < ndigits && digits[low] == 0)
		low++;					/* trailing zero digits are not stored */
	n = ndigits - low;

	len = VARHDRSZ + sizeof(uint16) + n * sizeof(int16);
	result = (Numeric) palloc(len);
	SET_VARSIZE(result, len);
	/* positive, display scale 0, weight = ndigits - 1 (0 for zero) */
	header = NUMERIC_SHORT_FLAG |
		(n == 0 ? 0 : (uint16) ((ndigits - 1) & NUMERIC_SHORT_WEIGHT_MASK));
	p = (char *) result + VARHDRSZ;
	memcpy(p, &header, sizeof(uint16));
	p += sizeof(uint16);
	for (i = 0; i < n; i++)
		memcpy(p + i * sizeof(int16), &digits[ndigits - 1 - i], sizeof(int16));
	return result;
}

/* A non-negative 128-bit integer plus a fraction, as numeric */
static Numeric
engagement_sum_numeric(uint64 lo, uint64 hi, double frac)
{
	Numeric		result;

	if (likely(hi == 0))
		result = engagement_uint64_numeric(lo);
	else
	{
		/* hi * 2^64 + lo, with each word split to stay within int64 */
		Numeric		two32 = int64_to_numeric(INT64CONST(1) << 32);
		Numeric		acc;

		acc = int64_to_numeric((int64) (hi >> 32));
		acc = numeric_mul_opt_error(acc, two32, NULL);
		acc = numeric_add_opt_error(acc, int64_to_numeric((int64) (hi & 0xFFFFFFFF)), NULL);
		acc = numeric_mul_opt_error(acc, two32, NULL);
		acc = numeric_add_opt_error(acc, int64_to_numeric((int64) (lo >> 32)), NULL);
		acc = numeric_mul_opt_error(acc, two32, NULL);
		result = numeric_add_opt_error(acc, int64_to_numeric((int64) (lo & 0xFFFFFFFF)), NULL);
	}
	if (unlikely(frac != 0.0))
		result = numeric_add_opt_error(result,
									   DatumGetNumeric(DirectFunctionCall1(float8_numeric,
																		   Float8GetDatum(frac))),
									   NULL);
	return result;
}

/* Measure m's sum as numeric */
static Numeric
engagement_measure_numeric(const int64 *slots, int m)
{
	double		frac;

	memcpy(&frac, &slots[ES_FRAC(m)], sizeof(double));
	return engagement_sum_numeric((uint64) slots[ES_SUM_LO(m)],
								  (uint64) slots[ES_SUM_HI(m)], frac);
}

/* DL + UL as numeric; the caller checked that at least one is present */
static Numeric
engagement_total_numeric(const int64 *slots)
{
	uint64		lo1 = (uint64) slots[ES_SUM_LO(1)];
	uint64		hi1 = (uint64) slots[ES_SUM_HI(1)];
	uint64		lo2 = (uint64) slots[ES_SUM_LO(2)];
	uint64		hi2 = (uint64) slots[ES_SUM_HI(2)];
	uint64		lo = lo1 + lo2;
	uint64		hi = hi1 + hi2;
	bool		overflow = (hi < hi1);
	double		f1,
				f2;

	if (lo < lo1)
	{
		overflow |= (hi == PG_UINT64_MAX);
		hi++;
	}
	if (overflow)
		/* past 2^128: add the two sums as numerics */
		return numeric_add_opt_error(engagement_measure_numeric(slots, 1),
									 engagement_measure_numeric(slots, 2), NULL);
	memcpy(&f1, &slots[ES_FRAC(1)], sizeof(double));
	memcpy(&f2, &slots[ES_FRAC(2)], sizeof(double));
	return engagement_sum_numeric(lo, hi, f1 + f2);
}

/* Final function: the state as an engage.engagement value */
PG_FUNCTION_INFO_V1(engage_engagement_final);
Datum
engage_engagement_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int64	   *slots = engagement_state_slots(state);
	TupleDesc	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Datum		values[ENGAGEMENT_NATTS];
	bool		nulls[ENGAGEMENT_NATTS];
	int64		present = slots[ES_PRESENT];
	int			m;

	/* Look up and bless the result row type once per query */
	if (tupdesc == NULL)
	{
		MemoryContext oldcontext = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		if (tupdesc->natts != ENGAGEMENT_NATTS)
			elog(ERROR, "engage.engagement must have %d attributes", ENGAGEMENT_NATTS);
		tupdesc = BlessTupleDesc(tupdesc);
		fcinfo->flinfo->fn_extra = tupdesc;
		MemoryContextSwitchTo(oldcontext);
	}

	/* a state made by the aggregate: counts >= 0, fractional sums finite */
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		double		frac;

		memcpy(&frac, &slots[ES_FRAC(m)], sizeof(double));
		if (!(frac >= 0.0 && frac < TWO_POW_64))
			break;
	}
	if (m < ENGAGEMENT_NMEASURES || slots[ES_ROWS] < 0 || slots[ES_NULLS] < 0 ||
		slots[ES_REJECTED] < 0 || (present & ~INT64CONST(7)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement_agg state"),
				 errdetail("The counts must not be negative and the fractional sums must be finite.")));

	memset(nulls, 0, sizeof(nulls));
	values[0] = Int64GetDatum(slots[ES_ROWS]);
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		if (present & (INT64CONST(1) << m))
			values[1 + m] = NumericGetDatum(engagement_measure_numeric(slots, m));
		else
			nulls[1 + m] = true;
	}
	if (present & ((INT64CONST(1) << 1) | (INT64CONST(1) << 2)))
		values[4] = NumericGetDatum(engagement_total_numeric(slots));
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(slots[ES_NULLS]);
	values[6] = Int64GetDatum(slots[ES_REJECTED]);

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
