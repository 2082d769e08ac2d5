/*-------------------------------------------------------------------------
 *
 * engage.c
 *	  Module entry point of the engage extension: user engagement analytics
 *	  for telecom xDR data inside PostgreSQL.  Defines the GUCs and the
 *	  helpers that the SQL functions share (engage.h).
 *
 * The SQL functions live in the other files of src/, by feature:
 * engagement_agg.c (the per-user engagement aggregate), traffic_agg.c (the
 * per-application traffic aggregate), xdr_generator.c (synthetic xDR
 * data), kmeans_sql.c (K-means, the elbow, normalization) with points.c
 * (its points stage: reading, validating and ordering the points of a
 * query), svg_sql.c (the SVG charts) and user_engagement.c (the per-user
 * step of run_analysis).  They call the PostgreSQL-free numerical core in
 * src/core/.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "catalog/pg_type.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "engage.h"
#include "run_points.h"
#include "core/kmeans.h"

PG_MODULE_MAGIC;

/* engage.max_memory, in kB */
int			engage_max_memory_kb = 2 * 1024 * 1024;

/* engage.threads */
int			engage_threads = 2;

/*
 * engage.progress: read by engage.run_analysis with current_setting(), and
 * by the C functions that report how far a long loop has got
 */
bool		engage_progress = false;

/* Memory held between calls (see engage.h) */
Size		engage_held_bytes = 0;

void		_PG_init(void);

/* Define engage's GUCs */
void
_PG_init(void)
{
	DefineCustomIntVariable("engage.max_memory",
							"Memory that one clustering call may use for its points and work space.",
							"Checked before allocating; past it the call fails with an error.",
							&engage_max_memory_kb,
							2 * 1024 * 1024,
							1024,
							MAX_KILOBYTES,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("engage.threads",
							"Threads that one clustering call may use for its restarts and its steps over every point.",
							"The result does not depend on it; 1 runs everything in the backend's own thread.",
							&engage_threads,
							2,
							1,
							ECORE_MAX_THREADS,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("engage.progress",
							 "Reports the progress of engage.run_analysis as NOTICEs.",
							 "Each step with its duration, and within the long steps how far they have got.",
							 &engage_progress,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("engage");
}

/* An argument that must not be NULL (see engage.h) */
void
engage_require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
}

/* Fail cleanly past engage.max_memory (see engage.h) */
void
engage_check_memory(Size already, Size more)
{
	double		limit = (double) engage_max_memory_kb * 1024.0;

	/*
	 * The values kept for run_analysis's cluster statistics only spare a
	 * read of the run's rows: given up before a call is refused
	 */
	if ((double) (already + engage_held_bytes) + (double) more > limit)
		engage_run_stats_release();
	already += engage_held_bytes;
	if ((double) already + (double) more > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("memory needed exceeds engage.max_memory (%d MB)",
						engage_max_memory_kb / 1024),
				 errdetail("The call needs at least %.0f MB.",
						   ceil(((double) already + (double) more) / (1024.0 * 1024.0))),
				 errhint("Raise engage.max_memory (SET engage.max_memory = '4GB'), or cluster fewer points.")));
}

/* The blessed row type of a composite-returning function (see engage.h) */
TupleDesc
engage_result_tupdesc(FunctionCallInfo fcinfo, int natts, const char *type_name)
{
	TupleDesc	tupdesc = (TupleDesc) fcinfo->flinfo->fn_extra;
	MemoryContext oldcontext;

	if (tupdesc != NULL)
		return tupdesc;
	oldcontext = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (tupdesc->natts != natts)
		elog(ERROR, "%s must have %d attributes", type_name, natts);
	tupdesc = BlessTupleDesc(tupdesc);
	fcinfo->flinfo->fn_extra = tupdesc;
	MemoryContextSwitchTo(oldcontext);
	return tupdesc;
}

/*
 * A progress NOTICE (engage.progress on): the message, and the milliseconds
 * since start as its DETAIL, as run_analysis's own step NOTICEs.
 */
void
engage_progress_notice(TimestampTz start, const char *fmt,...)
{
	StringInfoData buf;
	long		ms;

	if (!engage_progress)
		return;
	ms = TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	ereport(NOTICE,
			(errmsg_internal("%s", buf.data),
			 errdetail("%ld ms.", ms)));
	pfree(buf.data);
}

/* A float8[] of the n doubles at v (engage.h) */
ArrayType *
engage_float8_array(const double *v, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Float8GetDatum(v[i]);
	return construct_array(d, n, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

/* A bigint[] of the n values at v (engage.h) */
ArrayType *
engage_int8_array(const int64 *v, int n)
{
	ArrayType  *a;
	Size		size = ARR_OVERHEAD_NONULLS(1) + sizeof(int64) * n;

	if (n == 0)
		return construct_empty_array(INT8OID);
	a = (ArrayType *) palloc0(size);
	SET_VARSIZE(a, size);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = INT8OID;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	memcpy(ARR_DATA_PTR(a), v, sizeof(int64) * n);
	return a;
}

/* A k x d float8[][] of the k * d doubles at v, row-major (engage.h) */
ArrayType *
engage_float8_matrix(const double *v, int k, int d)
{
	Datum	   *e = palloc(sizeof(Datum) * Max(k * d, 1));
	int			dims[2] = {k, d};
	int			lbs[2] = {1, 1};
	int			i;

	for (i = 0; i < k * d; i++)
		e[i] = Float8GetDatum(v[i]);
	return construct_md_array(e, NULL, 2, dims, lbs, FLOAT8OID, sizeof(float8),
							  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}
