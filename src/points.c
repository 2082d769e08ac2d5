/*-------------------------------------------------------------------------
 *
 * points.c
 *	  Reading the points of a clustering from a query.
 *
 * The query's first column is the key of each point (any type; kept in its
 * text form), its other columns are the numeric features (smallint,
 * integer, bigint, real, double precision or numeric), or it has one
 * double precision[] column holding all the features.  Rows stream through
 * an SPI cursor, read-only and with the caller's rights, into one dense
 * row-major float8 matrix.  Every growth is checked first against
 * engage.max_memory, so a query too large for it fails with a clear error
 * before anything big is allocated.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/plancache.h"

#include "points.h"

/* Rows fetched from the cursor at a time */
#define POINTS_FETCH_ROWS 10000

/* engage.max_memory, in kB */
int			engage_max_memory_kb = 2 * 1024 * 1024;

/*
 * Fail cleanly if holding `more` bytes on top of `already` would pass
 * engage.max_memory.
 */
void
engage_check_memory(Size already, Size more, const char *what)
{
	double		limit = (double) engage_max_memory_kb * 1024.0;

	if ((double) already + (double) more > limit)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s needs more memory than engage.max_memory allows", what),
				 errdetail("It needs at least %.0f MB; engage.max_memory is %d MB.",
						   ceil(((double) already + (double) more) / (1024.0 * 1024.0)),
						   engage_max_memory_kb / 1024),
				 errhint("Raise engage.max_memory (SET engage.max_memory = '4GB'), or cluster fewer points.")));
}

/* Is this a feature column type that converts to double precision? */
static bool
is_numeric_feature_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID ||
		typid == FLOAT4OID || typid == FLOAT8OID || typid == NUMERICOID;
}

/* A feature value as double precision */
static double
feature_to_double(Datum value, Oid typid)
{
	switch (typid)
	{
		case INT2OID:
			return (double) DatumGetInt16(value);
		case INT4OID:
			return (double) DatumGetInt32(value);
		case INT8OID:
			return (double) DatumGetInt64(value);
		case FLOAT4OID:
			return (double) DatumGetFloat4(value);
		case FLOAT8OID:
			return DatumGetFloat8(value);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
													  value));
		default:
			elog(ERROR, "unexpected feature type %u", typid);
	}
	return 0.0;					/* keep compiler quiet */
}

/* Report a NULL, NaN or infinite feature of a point */
static void
check_feature(double x, bool isnull, const char *fname, const char *feature,
			  const char *key)
{
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: feature \"%s\" of point \"%s\" is null",
						fname, feature, key),
				 errhint("Leave such points out of the points query, or replace the NULL with coalesce().")));
	if (isnan(x) || isinf(x))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s: feature \"%s\" of point \"%s\" is %s",
						fname, feature, key, isnan(x) ? "NaN" : "infinite"),
				 errhint("Leave such points out of the points query.")));
}

/*
 * Run `query` and read its points into `points`, allocated in the memory
 * context current at the call.  `fname` names the calling function in
 * messages.
 */
void
engage_read_points(const char *query, const char *fname, EngagePoints *points)
{
	MemoryContext outer = CurrentMemoryContext;
	SPIPlanPtr	plan;
	List	   *sources;
	Portal		portal;
	TupleDesc	tupdesc;
	int			natts;
	bool		array_mode;
	Oid			keyout;
	bool		keyvarlena;
	Oid		   *coltypes;
	int64		n = 0;
	int64		cap = 0;
	Size		keybytes = 0;
	Size		keycap = 0;
	char	   *keybuf = NULL;
	Size	   *keyoff = NULL;
	double	   *data = NULL;
	int			d = 0;
	int			j;
	int64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	/* a single SELECT (read-only: the cursor below refuses data changes) */
	sources = SPI_plan_get_plan_sources(plan);
	if (list_length(sources) != 1 ||
		((CachedPlanSource *) linitial(sources))->commandTag != CMDTAG_SELECT ||
		!SPI_is_cursor_plan(plan))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the points query must be one SELECT", fname),
				 errhint("Pass a SELECT whose first column is the key and whose other columns are the features.")));
	/* read-only: a data-modifying query is refused */
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	tupdesc = portal->tupDesc;
	natts = tupdesc->natts;

	if (natts < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the points query returns %d column%s, at least 2 are needed",
						fname, natts, natts == 1 ? "" : "s"),
				 errhint("The first column is the key, the others are the features (or one double precision[] column).")));

	coltypes = palloc(sizeof(Oid) * natts);
	for (j = 0; j < natts; j++)
		coltypes[j] = TupleDescAttr(tupdesc, j)->atttypid;
	getTypeOutputInfo(coltypes[0], &keyout, &keyvarlena);

	array_mode = (natts == 2 && coltypes[1] == FLOAT8ARRAYOID);
	if (!array_mode)
	{
		d = natts - 1;
		for (j = 1; j < natts; j++)
			if (!is_numeric_feature_type(coltypes[j]))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("%s: feature column \"%s\" has type %s, which is not numeric",
								fname, NameStr(TupleDescAttr(tupdesc, j)->attname),
								format_type_be(coltypes[j])),
						 errhint("Features are smallint, integer, bigint, real, double precision or numeric columns, or one double precision[] column: cast the column.")));
	}

	for (;;)
	{
		uint64		got;
		uint64		r;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, POINTS_FETCH_ROWS);
		got = SPI_processed;
		if (got == 0)
			break;

		for (r = 0; r < got; r++)
		{
			HeapTuple	tuple = SPI_tuptable->vals[r];
			bool		isnull;
			Datum		keydatum = SPI_getbinval(tuple, tupdesc, 1, &isnull);
			char	   *key;
			Size		keylen;
			double	   *row;
			ArrayType  *arr = NULL;

			if (isnull)
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s: the points query returned a null key", fname),
						 errhint("Leave rows without a key out, for example with WHERE key IS NOT NULL.")));
			key = OidOutputFunctionCall(keyout, keydatum);
			keylen = strlen(key) + 1;

			if (array_mode)
			{
				Datum		arrdatum = SPI_getbinval(tuple, tupdesc, 2, &isnull);
				int			len;

				if (isnull)
					ereport(ERROR,
							(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							 errmsg("%s: the features of point \"%s\" are null", fname, key)));
				arr = DatumGetArrayTypeP(arrdatum);
				if (ARR_NDIM(arr) != 1)
					ereport(ERROR,
							(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							 errmsg("%s: the features of point \"%s\" must be a one-dimensional array",
									fname, key)));
				if (ARR_HASNULL(arr) && array_contains_nulls(arr))
					ereport(ERROR,
							(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
							 errmsg("%s: the features of point \"%s\" contain a null", fname, key),
							 errdetail("Feature arrays must not contain nulls.")));
				len = ARR_DIMS(arr)[0];
				if (n == 0)
				{
					if (len < 1)
						ereport(ERROR,
								(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
								 errmsg("%s: the features of point \"%s\" are an empty array",
										fname, key)));
					d = len;
				}
				else if (len != d)
					ereport(ERROR,
							(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							 errmsg("%s: point \"%s\" has %d features, the points before it have %d",
									fname, key, len, d)));
			}

			/* grow the matrix and the keys, within engage.max_memory */
			if (n == cap)
			{
				int64		newcap = (cap == 0) ? 1024 : cap * 2;
				MemoryContext old;

				engage_check_memory(keybytes + (Size) cap * (sizeof(double) * d + sizeof(Size)),
									(Size) (newcap - cap) * (sizeof(double) * d + sizeof(Size)),
									fname);
				old = MemoryContextSwitchTo(outer);
				if (data == NULL)
				{
					data = MemoryContextAllocHuge(outer, sizeof(double) * d * newcap);
					keyoff = MemoryContextAllocHuge(outer, sizeof(Size) * newcap);
				}
				else
				{
					data = repalloc_huge(data, sizeof(double) * d * newcap);
					keyoff = repalloc_huge(keyoff, sizeof(Size) * newcap);
				}
				MemoryContextSwitchTo(old);
				cap = newcap;
			}
			if (keybytes + keylen > keycap)
			{
				Size		newcap = Max(keycap * 2, keybytes + keylen + 65536);

				engage_check_memory((Size) cap * (sizeof(double) * d + sizeof(Size)) + keycap,
									newcap - keycap, fname);
				if (keybuf == NULL)
					keybuf = MemoryContextAllocHuge(outer, newcap);
				else
					keybuf = repalloc_huge(keybuf, newcap);
				keycap = newcap;
			}
			memcpy(keybuf + keybytes, key, keylen);
			keyoff[n] = keybytes;
			keybytes += keylen;

			row = data + n * d;
			if (array_mode)
			{
				double	   *vals = (double *) ARR_DATA_PTR(arr);

				for (j = 0; j < d; j++)
				{
					check_feature(vals[j], false, fname, "array element", key);
					row[j] = vals[j];
				}
			}
			else
			{
				for (j = 0; j < d; j++)
				{
					Datum		v = SPI_getbinval(tuple, tupdesc, j + 2, &isnull);
					double		x = isnull ? 0.0 : feature_to_double(v, coltypes[j + 1]);

					check_feature(x, isnull, fname,
								  NameStr(TupleDescAttr(tupdesc, j + 1)->attname), key);
					row[j] = x;
				}
			}
			pfree(key);
			n++;
		}
		SPI_freetuptable(SPI_tuptable);
	}

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the points query returned no rows", fname),
				 errhint("Check the query's WHERE clause and the table it reads.")));

	/* feature names, in the caller's context */
	points->feature_names = MemoryContextAlloc(outer, sizeof(char *) * d);
	for (j = 0; j < d; j++)
		points->feature_names[j] = array_mode ?
			MemoryContextStrdup(outer, psprintf("f%d", j + 1)) :
			MemoryContextStrdup(outer, NameStr(TupleDescAttr(tupdesc, j + 1)->attname));

	SPI_cursor_close(portal);
	SPI_finish();

	points->keys = MemoryContextAllocHuge(outer, sizeof(char *) * n);
	for (i = 0; i < n; i++)
		points->keys[i] = keybuf + keyoff[i];
	pfree(keyoff);
	points->n = n;
	points->d = d;
	points->data = data;
	points->bytes = keycap + sizeof(char *) * n + sizeof(double) * d * cap;
}
