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
 * The transition state is a plain bigint[] (not internal) so that partial
 * aggregation needs no serialization and Citus can push it down to its
 * workers.  It has two forms.  A group starts in the compact form, five
 * slots (64 bytes with the array header, a memory chunk of that size, where
 * the wide form takes 128): the session count, three 64-bit sums, and the
 * NULL and rejected counts and the present bits packed in one word.  The
 * first value that the compact form cannot hold exactly (a fractional part,
 * a sum reaching 2^64, a count reaching 2^28, a numeric argument) turns the
 * group's state into the wide form of 13 slots, once, and the row is added
 * there.  Grouped by subscriber, where millions of groups share the hash
 * table, the smaller state means less memory and fewer spilled batches.
 * Inside an aggregate the state is updated in place, with no allocation per
 * row.
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

#include "engage.h"

/* Layout of the wide bigint[] transition state */
#define ES_ROWS			0		/* rows aggregated (sessions) */
#define ES_NULLS		1		/* NULL measures skipped */
#define ES_REJECTED		2		/* NaN, infinite or negative measures skipped */
#define ES_PRESENT		3		/* bit m set: measure m had an accepted value */
#define ES_SUM_LO(m)	(4 + 2 * (m))	/* low word of measure m's integer sum */
#define ES_SUM_HI(m)	(5 + 2 * (m))	/* high word of measure m's integer sum */
#define ES_FRAC(m)		(10 + (m))	/* float8 bits: sum of fractional parts */
#define ENGAGEMENT_NSLOTS 13

/*
 * Layout of the compact state: EC_PACKED holds the NULL count in bits 0-27,
 * the rejected count in bits 28-55 and the present bits in 56-58; the other
 * bits are zero.
 */
#define EC_ROWS			0		/* rows aggregated (sessions) */
#define EC_SUM(m)		(1 + (m))	/* measure m's sum, below 2^64 */
#define EC_PACKED		4
#define ENGAGEMENT_NSLOTS_COMPACT 5
#define EC_COUNT_BITS	28
#define EC_COUNT_MAX	((UINT64CONST(1) << EC_COUNT_BITS) - 1)
#define EC_REJECTED_SHIFT EC_COUNT_BITS
#define EC_PRESENT_SHIFT (2 * EC_COUNT_BITS)
#define EC_PACKED_MASK	((UINT64CONST(1) << (EC_PRESENT_SHIFT + 3)) - 1)

#define ENGAGEMENT_NMEASURES 3	/* duration, DL bytes, UL bytes */
#define ENGAGEMENT_NATTS 7		/* attributes of engage.engagement */

/* 2^64 as a double: the first value too large for one measure */
#define TWO_POW_64 18446744073709551616.0

static const char *const measure_names[ENGAGEMENT_NMEASURES] = {
	"duration_ms", "dl_bytes", "ul_bytes"
};

/* The argument type of a transition function */
typedef enum EngagementInput
{
	ENGAGEMENT_FLOAT8,
	ENGAGEMENT_INT8,
	ENGAGEMENT_NUMERIC
} EngagementInput;

/* Raise the error of measure m's sum reaching 2^128 (out of the hot path) */
static pg_noinline pg_attribute_noreturn() void
engagement_sum_out_of_range(int m)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("engagement_agg sum of %s is out of range",
					measure_names[m]),
			 errdetail("A sum must be below 2^128.")));
}

/* Raise the error of a value of measure m of 2^64 or more, in text */
static pg_noinline pg_attribute_noreturn() void
engagement_value_out_of_range(const char *value, int m)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value %s of %s is out of range for engagement_agg",
					value, measure_names[m]),
			 errdetail("Each value must be below 2^64."),
			 errhint("Such a value is a faulty measure: filter it out or set it to NULL.")));
}

/*
 * Check that an array is a well-formed state (compact or wide) and return
 * its slots; *nslots is ENGAGEMENT_NSLOTS_COMPACT or ENGAGEMENT_NSLOTS.
 */
static inline int64 *
engagement_state_slots(ArrayType *state, int *nslots)
{
	int64	   *slots;

	if (ARR_NDIM(state) != 1 ||
		(ARR_DIMS(state)[0] != ENGAGEMENT_NSLOTS &&
		 ARR_DIMS(state)[0] != ENGAGEMENT_NSLOTS_COMPACT) ||
		ARR_HASNULL(state) ||
		ARR_ELEMTYPE(state) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement_agg state"),
				 errdetail("The state must be a one-dimensional bigint array of %d or %d elements without nulls.",
						   ENGAGEMENT_NSLOTS_COMPACT, ENGAGEMENT_NSLOTS)));
	slots = (int64 *) ARR_DATA_PTR(state);
	*nslots = ARR_DIMS(state)[0];
	if (*nslots == ENGAGEMENT_NSLOTS_COMPACT &&
		((uint64) slots[EC_PACKED] & ~EC_PACKED_MASK) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid engagement_agg state"),
				 errdetail("The last element of a compact state must be below 2^59.")));
	return slots;
}

/* A state array of nslots slots, copied from slots, in the current context */
static pg_noinline ArrayType *
engagement_state_make(const int64 *slots, int nslots)
{
	Size		size = ARR_OVERHEAD_NONULLS(1) + nslots * sizeof(int64);
	ArrayType  *state = (ArrayType *) palloc(size);

	SET_VARSIZE(state, size);
	state->ndim = 1;
	state->dataoffset = 0;		/* no nulls bitmap */
	state->elemtype = INT8OID;
	ARR_DIMS(state)[0] = nslots;
	ARR_LBOUND(state)[0] = 1;
	memcpy(ARR_DATA_PTR(state), slots, nslots * sizeof(int64));
	return state;
}

/* A new, empty state: the compact form, as the aggregates' INITCOND */
static ArrayType *
engagement_state_new(void)
{
	int64		zeros[ENGAGEMENT_NSLOTS_COMPACT] = {0};

	return engagement_state_make(zeros, ENGAGEMENT_NSLOTS_COMPACT);
}

/* Any state's slots in the wide layout, in wide[ENGAGEMENT_NSLOTS] */
static void
engagement_expand(const int64 *slots, int nslots, int64 *wide)
{
	uint64		packed;
	int			m;

	if (nslots == ENGAGEMENT_NSLOTS)
	{
		memcpy(wide, slots, ENGAGEMENT_NSLOTS * sizeof(int64));
		return;
	}
	packed = (uint64) slots[EC_PACKED];
	memset(wide, 0, ENGAGEMENT_NSLOTS * sizeof(int64));	/* +0.0 fractions */
	wide[ES_ROWS] = slots[EC_ROWS];
	wide[ES_NULLS] = (int64) (packed & EC_COUNT_MAX);
	wide[ES_REJECTED] = (int64) ((packed >> EC_REJECTED_SHIFT) & EC_COUNT_MAX);
	wide[ES_PRESENT] = (int64) (packed >> EC_PRESENT_SHIFT);
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
		wide[ES_SUM_LO(m)] = slots[EC_SUM(m)];
}

/*
 * The wide form of a compact state, as a new array in the current memory
 * context (inside an aggregate, the executor moves the new state into the
 * aggregate's context and frees the old one).
 */
static pg_noinline ArrayType *
engagement_widen(const int64 *slots)
{
	int64		wide[ENGAGEMENT_NSLOTS];

	engagement_expand(slots, ENGAGEMENT_NSLOTS_COMPACT, wide);
	return engagement_state_make(wide, ENGAGEMENT_NSLOTS);
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
			engagement_sum_out_of_range(m);
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
		engagement_value_out_of_range(psprintf("%g", x), m);
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
			engagement_value_out_of_range(strlen(digits) > 30 ?
										  numeric_out_sci(ipart, 6) : digits, m);
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
 * Add one row of double precision (is_float8) or bigint measures to a
 * compact state, if the compact form holds the result exactly.  Returns
 * false, with the state unchanged, when the row needs the wide form: a
 * fractional part, a sum reaching 2^64, a count reaching 2^28, or a value
 * out of range (for which the wide path raises the error).
 */
static inline bool
engagement_compact_add_row(int64 *slots, FunctionCallInfo fcinfo, bool is_float8)
{
	uint64		packed = (uint64) slots[EC_PACKED];
	uint64		nulls = packed & EC_COUNT_MAX;
	uint64		rejected = (packed >> EC_REJECTED_SHIFT) & EC_COUNT_MAX;
	uint64		present = packed >> EC_PRESENT_SHIFT;
	uint64		sums[ENGAGEMENT_NMEASURES];
	int			m;

	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		uint64		value;

		sums[m] = (uint64) slots[EC_SUM(m)];
		if (PG_ARGISNULL(m + 1))
		{
			nulls++;
			continue;
		}
		if (is_float8)
		{
			double		x = PG_GETARG_FLOAT8(m + 1);

			if (unlikely(!(x >= 0.0 && x < TWO_POW_64)))
			{
				if (isnan(x) || x < 0.0 || isinf(x))
				{
					rejected++;
					continue;
				}
				return false;
			}
			value = (uint64) x;
			if (unlikely((double) value != x))
				return false;
		}
		else
		{
			int64		x = PG_GETARG_INT64(m + 1);

			if (unlikely(x < 0))
			{
				rejected++;
				continue;
			}
			value = (uint64) x;
		}
		if (unlikely(sums[m] + value < sums[m]))
			return false;
		sums[m] += value;
		present |= UINT64CONST(1) << m;
	}
	if (unlikely(nulls > EC_COUNT_MAX || rejected > EC_COUNT_MAX))
		return false;

	slots[EC_ROWS]++;
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
		slots[EC_SUM(m)] = (int64) sums[m];
	slots[EC_PACKED] = (int64) (nulls | (rejected << EC_REJECTED_SHIFT) |
								(present << EC_PRESENT_SHIFT));
	return true;
}

/*
 * The state to add a row to in the wide form: the state itself, or the wide
 * form of a compact one.
 */
static inline ArrayType *
engagement_wide_state(ArrayType *state, int nslots, int64 **slots)
{
	if (nslots == ENGAGEMENT_NSLOTS_COMPACT)
	{
		state = engagement_widen(*slots);
		*slots = (int64 *) ARR_DATA_PTR(state);
	}
	return state;
}

/*
 * The transition functions' shared body, inlined into each of them with a
 * constant input type, so that each keeps its own straight code: a
 * double precision or bigint row goes to a compact state when it fits
 * there; any other row, and every numeric row, to the wide form.
 * Non-strict: a row with NULL measures still counts as a session.
 */
static pg_attribute_always_inline Datum
engagement_accum(FunctionCallInfo fcinfo, EngagementInput input)
{
	ArrayType  *state = engagement_trans_state(fcinfo);
	int			nslots;
	int64	   *slots = engagement_state_slots(state, &nslots);
	int			m;

	if (input != ENGAGEMENT_NUMERIC &&
		likely(nslots == ENGAGEMENT_NSLOTS_COMPACT) &&
		likely(engagement_compact_add_row(slots, fcinfo, input == ENGAGEMENT_FLOAT8)))
		PG_RETURN_ARRAYTYPE_P(state);
	state = engagement_wide_state(state, nslots, &slots);

	slots[ES_ROWS]++;
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		if (PG_ARGISNULL(m + 1))
			slots[ES_NULLS]++;
		else if (input == ENGAGEMENT_FLOAT8)
			engagement_add_float8(slots, m, PG_GETARG_FLOAT8(m + 1));
		else if (input == ENGAGEMENT_INT8)
			engagement_add_int8(slots, m, PG_GETARG_INT64(m + 1));
		else
			engagement_add_numeric(slots, m, PG_GETARG_NUMERIC(m + 1));
	}
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Transition function of engagement_agg(double precision, ...) */
PG_FUNCTION_INFO_V1(engage_engagement_accum_float8);
Datum
engage_engagement_accum_float8(PG_FUNCTION_ARGS)
{
	return engagement_accum(fcinfo, ENGAGEMENT_FLOAT8);
}

/* Transition function of engagement_agg(bigint, ...) */
PG_FUNCTION_INFO_V1(engage_engagement_accum_int8);
Datum
engage_engagement_accum_int8(PG_FUNCTION_ARGS)
{
	return engagement_accum(fcinfo, ENGAGEMENT_INT8);
}

/* Transition function of engagement_agg(numeric, ...): the wide form */
PG_FUNCTION_INFO_V1(engage_engagement_accum_numeric);
Datum
engage_engagement_accum_numeric(PG_FUNCTION_ARGS)
{
	return engagement_accum(fcinfo, ENGAGEMENT_NUMERIC);
}

/*
 * Combine two compact states into s1 if the compact form holds the result;
 * false, with s1 unchanged, otherwise.
 */
static bool
engagement_compact_combine(int64 *s1, const int64 *s2)
{
	uint64		p1 = (uint64) s1[EC_PACKED];
	uint64		p2 = (uint64) s2[EC_PACKED];
	uint64		nulls = (p1 & EC_COUNT_MAX) + (p2 & EC_COUNT_MAX);
	uint64		rejected = ((p1 >> EC_REJECTED_SHIFT) & EC_COUNT_MAX) +
		((p2 >> EC_REJECTED_SHIFT) & EC_COUNT_MAX);
	uint64		sums[ENGAGEMENT_NMEASURES];
	int			m;

	if (nulls > EC_COUNT_MAX || rejected > EC_COUNT_MAX)
		return false;
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
	{
		sums[m] = (uint64) s1[EC_SUM(m)] + (uint64) s2[EC_SUM(m)];
		if (sums[m] < (uint64) s1[EC_SUM(m)])
			return false;
	}
	s1[EC_ROWS] += s2[EC_ROWS];
	for (m = 0; m < ENGAGEMENT_NMEASURES; m++)
		s1[EC_SUM(m)] = (int64) sums[m];
	s1[EC_PACKED] = (int64) (nulls | (rejected << EC_REJECTED_SHIFT) |
							 ((p1 | p2) >> EC_PRESENT_SHIFT) << EC_PRESENT_SHIFT);
	return true;
}

/* Combine two partial states (parallel workers, Citus workers) */
PG_FUNCTION_INFO_V1(engage_engagement_combine);
Datum
engage_engagement_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state1 = engagement_state_arg(fcinfo, 0);
	/* a worker's state, read without a palloc'd copy (engage_array_local) */
	union
	{
		char		data[ARR_OVERHEAD_NONULLS(1) + ENGAGEMENT_NSLOTS * sizeof(int64)];
		int64		align;
	}			buf2;
	ArrayType  *state2 = engage_array_local(PG_GETARG_DATUM(1), &buf2, sizeof(buf2));
	int			n1,
				n2;
	int64	   *s1 = engagement_state_slots(state1, &n1);
	int64	   *raw2 = engagement_state_slots(state2, &n2);
	int64		s2[ENGAGEMENT_NSLOTS];
	int			m;

	if (n1 == ENGAGEMENT_NSLOTS_COMPACT && n2 == ENGAGEMENT_NSLOTS_COMPACT &&
		engagement_compact_combine(s1, raw2))
		PG_RETURN_ARRAYTYPE_P(state1);
	state1 = engagement_wide_state(state1, n1, &s1);
	engagement_expand(raw2, n2, s2);

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
			engagement_sum_out_of_range(m);
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
 * Room for an unsigned 64-bit integer as numeric: header, uint16 and at
 * most 5 base-10000 digits.  The final function builds its four numerics in
 * such buffers on its stack: heap_form_tuple copies them into the result,
 * so a group costs no allocation but the result's.
 */
typedef union EngagementNumericBuf
{
	char		data[VARHDRSZ + sizeof(uint16) + 5 * sizeof(int16)];
	int32		align;
} EngagementNumericBuf;

/*
 * An unsigned 64-bit integer as numeric, built directly in the short format
 * (what int64_to_numeric() returns, without its intermediate allocations),
 * in buf, or palloc'd when buf is NULL.
 */
static Numeric
engagement_uint64_numeric(uint64 value, EngagementNumericBuf *buf)
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
	result = (Numeric) (buf != NULL ? buf->data : palloc(len));
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

/*
 * A non-negative 128-bit integer plus a fraction, as numeric: in buf (may
 * be NULL) when it is an integer below 2^64, palloc'd otherwise.
 */
static Numeric
engagement_sum_numeric(uint64 lo, uint64 hi, double frac, EngagementNumericBuf *buf)
{
	Numeric		result;

	if (likely(hi == 0))
		result = engagement_uint64_numeric(lo, buf);
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

/* Measure m's sum as numeric (see engagement_sum_numeric for buf) */
static Numeric
engagement_measure_numeric(const int64 *slots, int m, EngagementNumericBuf *buf)
{
	double		frac;

	memcpy(&frac, &slots[ES_FRAC(m)], sizeof(double));
	return engagement_sum_numeric((uint64) slots[ES_SUM_LO(m)],
								  (uint64) slots[ES_SUM_HI(m)], frac, buf);
}

/* DL + UL as numeric; the caller checked that at least one is present */
static Numeric
engagement_total_numeric(const int64 *slots, EngagementNumericBuf *buf)
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
		return numeric_add_opt_error(engagement_measure_numeric(slots, 1, NULL),
									 engagement_measure_numeric(slots, 2, NULL), NULL);
	memcpy(&f1, &slots[ES_FRAC(1)], sizeof(double));
	memcpy(&f2, &slots[ES_FRAC(2)], sizeof(double));
	return engagement_sum_numeric(lo, hi, f1 + f2, buf);
}

/* Final function: the state as an engage.engagement value */
PG_FUNCTION_INFO_V1(engage_engagement_final);
Datum
engage_engagement_final(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			nslots;
	int64	   *raw = engagement_state_slots(state, &nslots);
	int64		slots[ENGAGEMENT_NSLOTS];
	EngagementNumericBuf bufs[ENGAGEMENT_NATTS];
	TupleDesc	tupdesc = engage_result_tupdesc(fcinfo, ENGAGEMENT_NATTS, "engage.engagement");
	Datum		values[ENGAGEMENT_NATTS];
	bool		nulls[ENGAGEMENT_NATTS];
	int64		present;
	int			m;

	engagement_expand(raw, nslots, slots);
	present = slots[ES_PRESENT];

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
			values[1 + m] = NumericGetDatum(engagement_measure_numeric(slots, m, &bufs[1 + m]));
		else
			nulls[1 + m] = true;
	}
	if (present & ((INT64CONST(1) << 1) | (INT64CONST(1) << 2)))
		values[4] = NumericGetDatum(engagement_total_numeric(slots, &bufs[4]));
	else
		nulls[4] = true;
	values[5] = Int64GetDatum(slots[ES_NULLS]);
	values[6] = Int64GetDatum(slots[ES_REJECTED]);

	/*
	 * heap_form_tuple is most of this function's time, but the tuple is not
	 * built by hand: the server may write more into a composite datum's
	 * header than its headers' macros say (the PostgreSQL 15.20 build this
	 * was measured on stores a descriptor version in the typmod and t_ctid
	 * fields and sets two infomask bits), and such a value must be what the
	 * server's own code makes of it.
	 */
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
