/*-------------------------------------------------------------------------
 *
 * hours_agg.c
 *	  The hours of activity from the per-user scan (issue 11):
 *	  engage.hours_agg(integer), a user's sessions by hour of day as a
 *	  compact histogram (bytea); engage.hours_sum_agg(bytea), the sum of
 *	  users' histograms as 24 exact counts; engage.hours_counts(bytea), one
 *	  histogram as 24 counts.
 *
 * run_analysis's per-user query (store_user_engagement, and on Citus the
 * workers' INSERT ... SELECT) stores each user's histogram with the
 * user's row; the cluster statistics then sum them by cluster in their
 * single read of the run's users, instead of a second scan of the source
 * joined with the users.
 *
 * The histogram: for each hour of day with sessions, in increasing hour
 * order, one byte (the hour, 0 to 23) and the count as an unsigned LEB128
 * varint (7 bits a byte, least significant first, the high bit set on
 * every byte but the last; 1 to 9 bytes, the shortest encoding, a count
 * of 1 to 2^63 - 1).  A user of one session takes 2 bytes; a histogram
 * of no session is empty.  A histogram read from outside (hours_sum_agg,
 * hours_counts) is checked whole: anything else is an error
 * (22P03), never a wrong count.
 *
 * hours_agg's state is a bigint[] (Citus splits aggregates whose state
 * has a text form; so do engagement_agg and traffic_agg) of one element
 * per hour with sessions, in increasing hour order: the hour in the top
 * 8 bits, the count in the low 56; then empty slots (0), room for more
 * hours.  A user has one or two sessions mostly, so the state that
 * parallel workers and Citus's workers pass on is small, where 24 counts
 * would take 216 bytes per user.  Inside an aggregate the state is
 * updated in place: the initial state has two empty slots, so that most
 * users' states are never reallocated; a new hour without room makes a
 * new array of twice the slots (the executor moves it into the
 * aggregate's context).
 *
 * hours_sum_agg's state is a bigint[] of the 24 counts (its groups are
 * few: the clusters); sums past 2^63 - 1 are an error.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "utils/array.h"

#include "engage.h"

#define HOURS			24
#define HOUR_SHIFT		56
#define COUNT_MASK		((INT64CONST(1) << HOUR_SHIFT) - 1)
#define MAX_VARINT		9		/* bytes of a count up to 2^63 - 1 */

/*
 * The elements of a state array (a plain one-dimensional bigint[] of at
 * most max elements, no NULL) and their number; an error for anything else
 * (a state passed in by hand).  An empty array has no dimension.
 */
static int64 *
state_elements(ArrayType *a, int max, const char *func, int *n)
{
	if (ARR_ELEMTYPE(a) != INT8OID || ARR_HASNULL(a) || ARR_NDIM(a) > 1 ||
		(ARR_NDIM(a) == 1 && (ARR_LBOUND(a)[0] != 1 || ARR_DIMS(a)[0] > max)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid state of %s", func),
				 errdetail("A state is a one-dimensional bigint[] of at most %d elements without NULL.",
						   max)));
	*n = ARR_NDIM(a) == 1 ? ARR_DIMS(a)[0] : 0;
	return (int64 *) ARR_DATA_PTR(a);
}

/*
 * A hours_agg state's elements, checked: n used ones (hours 0 to 23 in
 * increasing order, counts of at least 1), then empty ones (0) up to its
 * slots.
 */
static int64 *
packed_elements(ArrayType *a, int *n, int *slots)
{
	int64	   *e = state_elements(a, HOURS, "hours_agg", slots);
	int			prev = -1;
	int			i;

	for (i = 0; i < *slots && e[i] != 0; i++)
	{
		int64		hour = e[i] >> HOUR_SHIFT;

		if (hour <= prev || hour >= HOURS || (e[i] & COUNT_MASK) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid state of hours_agg"),
					 errdetail("Element %d is not an hour 0 to 23 after the previous one with a count of at least 1, nor an empty slot (0) after them.",
							   i + 1)));
		prev = (int) hour;
	}
	*n = i;
	for (; i < *slots; i++)
		if (e[i] != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid state of hours_agg"),
					 errdetail("Element %d follows an empty slot.", i + 1)));
	return e;
}

static pg_noinline void
count_out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("hours_agg count is out of range"),
			 errdetail("A count of one hour must be below 2^56.")));
}

/*
 * engage.hours_accum(state bigint[], hour integer): hours_agg's transition
 * function (strict: a NULL hour, of a start that gives no time, is not
 * counted).
 */
PG_FUNCTION_INFO_V1(engage_hours_accum);
Datum
engage_hours_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int32		hour = PG_GETARG_INT32(1);
	int64	   *e;
	int64		grown[HOURS];
	int			n;
	int			slots;
	int			i;

	if (hour < 0 || hour >= HOURS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("hour %d is out of range for hours_agg", hour),
				 errdetail("An hour of day is 0 to 23.")));
	/* in place inside an aggregate; a copy when called directly */
	state = AggCheckCallContext(fcinfo, NULL) ? PG_GETARG_ARRAYTYPE_P(0) :
		PG_GETARG_ARRAYTYPE_P_COPY(0);
	e = packed_elements(state, &n, &slots);
	for (i = 0; i < n && (e[i] >> HOUR_SHIFT) < hour; i++)
		;
	if (i < n && (e[i] >> HOUR_SHIFT) == hour)
	{
		if ((e[i] & COUNT_MASK) == COUNT_MASK)
			count_out_of_range();
		e[i]++;
		PG_RETURN_ARRAYTYPE_P(state);
	}
	if (n < slots)
	{
		/* a new hour in an empty slot */
		memmove(e + i + 1, e + i, sizeof(int64) * (n - i));
		e[i] = ((int64) hour << HOUR_SHIFT) | 1;
		PG_RETURN_ARRAYTYPE_P(state);
	}
	/* no room: a new array, the executor frees the old one */
	memset(grown, 0, sizeof(grown));
	memcpy(grown, e, sizeof(int64) * i);
	grown[i] = ((int64) hour << HOUR_SHIFT) | 1;
	memcpy(grown + i + 1, e + i, sizeof(int64) * (n - i));
	PG_RETURN_ARRAYTYPE_P(engage_int8_array(grown, Min(HOURS, Max(2 * slots, n + 1))));
}

/*
 * engage.hours_combine(a bigint[], b bigint[]): hours_agg's combine
 * function, the merge of two sorted lists: into a, in place inside an
 * aggregate, when it has the room
 */
PG_FUNCTION_INFO_V1(engage_hours_combine);
Datum
engage_hours_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64	   *a,
			   *b;
	int64		merged[HOURS];
	union
	{
		char		data[ARR_OVERHEAD_NONULLS(1) + HOURS * sizeof(int64)];
		int64		align;
	}			bbuf;
	int			na,
				nb,
				slots,
				bslots,
				i = 0,
				j = 0,
				n = 0;

	state = AggCheckCallContext(fcinfo, NULL) ? PG_GETARG_ARRAYTYPE_P(0) :
		PG_GETARG_ARRAYTYPE_P_COPY(0);
	a = packed_elements(state, &na, &slots);
	/* a worker's state, read without a palloc'd copy (engage_array_local) */
	b = packed_elements(engage_array_local(PG_GETARG_DATUM(1), &bbuf, sizeof(bbuf)), &nb, &bslots);
	while (i < na || j < nb)
	{
		if (j == nb || (i < na && (a[i] >> HOUR_SHIFT) < (b[j] >> HOUR_SHIFT)))
			merged[n++] = a[i++];
		else if (i == na || (b[j] >> HOUR_SHIFT) < (a[i] >> HOUR_SHIFT))
			merged[n++] = b[j++];
		else
		{
			int64		sum = (a[i] & COUNT_MASK) + (b[j] & COUNT_MASK);

			if (sum > COUNT_MASK)
				count_out_of_range();
			merged[n++] = (a[i] & ~COUNT_MASK) | sum;
			i++;
			j++;
		}
	}
	if (n <= slots)
	{
		memcpy(a, merged, sizeof(int64) * n);
		PG_RETURN_ARRAYTYPE_P(state);
	}
	PG_RETURN_ARRAYTYPE_P(engage_int8_array(merged, n));
}

/* Append count as a LEB128 varint at p; the bytes written */
static int
put_varint(uint8 *p, uint64 count)
{
	int			n = 0;

	while (count >= 0x80)
	{
		p[n++] = (uint8) (count | 0x80);
		count >>= 7;
	}
	p[n++] = (uint8) count;
	return n;
}

/* engage.hours_final(bigint[]) returns bytea: hours_agg's histogram */
PG_FUNCTION_INFO_V1(engage_hours_final);
Datum
engage_hours_final(PG_FUNCTION_ARGS)
{
	int64	   *e;
	int			n;
	int			slots;
	int			i;
	bytea	   *result;
	uint8	   *p;
	int			len = 0;

	e = packed_elements(PG_GETARG_ARRAYTYPE_P(0), &n, &slots);
	result = (bytea *) palloc(VARHDRSZ + n * (1 + MAX_VARINT));
	p = (uint8 *) VARDATA(result);
	for (i = 0; i < n; i++)
	{
		p[len++] = (uint8) (e[i] >> HOUR_SHIFT);
		len += put_varint(p + len, (uint64) (e[i] & COUNT_MASK));
	}
	SET_VARSIZE(result, VARHDRSZ + len);
	PG_RETURN_BYTEA_P(result);
}

/*
 * Decode a histogram into counts[24] (zeros for the hours it has not),
 * checking it whole: hours 0 to 23 in increasing order, each followed by
 * a count of 1 to 2^63 - 1 in the shortest encoding.
 */
static void
decode_histogram(bytea *h, int64 *counts)
{
	const uint8 *p = (const uint8 *) VARDATA_ANY(h);
	int			len = VARSIZE_ANY_EXHDR(h);
	int			pos = 0;
	int			prev = -1;

	memset(counts, 0, sizeof(int64) * HOURS);
	while (pos < len)
	{
		int			hour = p[pos];
		int			at = pos;
		uint64		count = 0;
		int			shift = 0;
		uint8		byte;

		if (hour >= HOURS || hour <= prev)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid hours histogram"),
					 errdetail("Byte %d is hour %d: an hour is 0 to 23, after the previous one.",
							   at + 1, hour)));
		pos++;
		do
		{
			if (pos >= len || shift > 7 * (MAX_VARINT - 1))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid hours histogram"),
						 errdetail("The count of hour %d (byte %d) is %s.", hour, at + 1,
								   pos >= len ? "cut short" : "longer than 9 bytes")));
			byte = p[pos++];
			count |= (uint64) (byte & 0x7F) << shift;
			shift += 7;
		} while (byte & 0x80);
		if (count == 0 || count > (uint64) PG_INT64_MAX || (byte == 0 && shift > 7))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid hours histogram"),
					 errdetail("The count of hour %d (byte %d) is %s.", hour, at + 1,
							   count == 0 && shift == 7 ? "0" :
							   count > (uint64) PG_INT64_MAX ? "above 2^63 - 1" :
							   "not in its shortest encoding")));
		counts[hour] = (int64) count;
		prev = hour;
	}
}

/*
 * engage.hours_counts(bytea) returns bigint[]: a histogram of hours_agg
 * as its 24 counts, hours 0 to 23
 */
PG_FUNCTION_INFO_V1(engage_hours_counts);
Datum
engage_hours_counts(PG_FUNCTION_ARGS)
{
	int64		counts[HOURS];

	decode_histogram(PG_GETARG_BYTEA_PP(0), counts);
	PG_RETURN_ARRAYTYPE_P(engage_int8_array(counts, HOURS));
}

/* counts[i] += add[i], an error past 2^63 - 1 */
static void
add_counts(int64 *counts, const int64 *add)
{
	int			i;

	for (i = 0; i < HOURS; i++)
		if (pg_add_s64_overflow(counts[i], add[i], &counts[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("hours_sum_agg count is out of range"),
					 errdetail("The sessions of hour %d pass 2^63 - 1.", i)));
}

/*
 * counts[0..23] += the counts of a histogram of hours_agg, as
 * hours_sum_agg's transition adds it (the same errors): for the cluster
 * statistics that run_analysis sums from the rows its per-user step kept
 * (run_points.c)
 */
void
engage_hours_add(int64 *counts, bytea *histogram)
{
	int64		add[HOURS];

	decode_histogram(histogram, add);
	add_counts(counts, add);
}

/* A hours_sum_agg state's 24 counts, checked */
static int64 *
sum_state(ArrayType *a)
{
	int			n;
	int64	   *e = state_elements(a, HOURS, "hours_sum_agg", &n);
	int			i;

	if (n != HOURS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid state of hours_sum_agg"),
				 errdetail("A state is a bigint[] of 24 counts.")));
	for (i = 0; i < HOURS; i++)
		if (e[i] < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid state of hours_sum_agg"),
					 errdetail("Count %d is negative.", i + 1)));
	return e;
}

/*
 * engage.hours_sum_accum(state bigint[], histogram bytea): hours_sum_agg's
 * transition function; a NULL histogram (a run without start column) is
 * skipped, and the state stays NULL until a histogram comes.
 */
PG_FUNCTION_INFO_V1(engage_hours_sum_accum);
Datum
engage_hours_sum_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state;
	int64		counts[HOURS];

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	decode_histogram(PG_GETARG_BYTEA_PP(1), counts);
	if (PG_ARGISNULL(0))
		PG_RETURN_ARRAYTYPE_P(engage_int8_array(counts, HOURS));
	state = AggCheckCallContext(fcinfo, NULL) ? PG_GETARG_ARRAYTYPE_P(0) :
		PG_GETARG_ARRAYTYPE_P_COPY(0);
	add_counts(sum_state(state), counts);
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * engage.hours_sum_combine(a bigint[], b bigint[]): hours_sum_agg's
 * combine function (strict: a NULL state is the other one)
 */
PG_FUNCTION_INFO_V1(engage_hours_sum_combine);
Datum
engage_hours_sum_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = AggCheckCallContext(fcinfo, NULL) ? PG_GETARG_ARRAYTYPE_P(0) :
		PG_GETARG_ARRAYTYPE_P_COPY(0);

	add_counts(sum_state(a), sum_state(PG_GETARG_ARRAYTYPE_P(1)));
	PG_RETURN_ARRAYTYPE_P(a);
}

/*
 * engage.hours_sum_final(bigint[]) returns bigint[]: the 24 counts,
 * checked (a state passed in by hand)
 */
PG_FUNCTION_INFO_V1(engage_hours_sum_final);
Datum
engage_hours_sum_final(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);

	(void) sum_state(a);
	PG_RETURN_ARRAYTYPE_P(a);
}
