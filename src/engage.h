/*-------------------------------------------------------------------------
 *
 * engage.h
 *	  engage's settings (GUCs) and helpers shared by its SQL functions,
 *	  defined in engage.c.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_H
#define ENGAGE_H

#include "access/tupdesc.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/array.h"

/* engage.max_memory, in kB: memory one clustering call may use */
extern int	engage_max_memory_kb;

/* engage.threads: threads one clustering call may use */
extern int	engage_threads;

/*
 * engage.progress: run_analysis reports its steps, and the long loops of
 * engage's functions how far they have got, as NOTICEs
 */
extern bool engage_progress;

/*
 * When engage.progress is on, a NOTICE with the formatted message and, as
 * its DETAIL, the milliseconds since start.
 */
extern void engage_progress_notice(TimestampTz start, const char *fmt,...) pg_attribute_printf(2, 3);

/* Raise an error if argument argno, called name, is NULL */
extern void engage_require_arg(FunctionCallInfo fcinfo, int argno,
							   const char *name);

/*
 * Fail cleanly if holding `more` bytes on top of `already` would pass
 * engage.max_memory: every step of a clustering call checks what it needs
 * before allocating it.
 */
extern void engage_check_memory(Size already, Size more);

/*
 * Memory that engage holds between calls (the points store_user_clusters
 * keeps for run_analysis's elbow curve): engage_check_memory counts it.
 */
extern Size engage_held_bytes;

/*
 * Prefetch hint, for the keys and rows of points read out of order, and
 * how many entries ahead to prefetch.
 */
#if defined(__GNUC__) || defined(__clang__)
#define engage_prefetch(p) __builtin_prefetch((p), 0, 1)
#else
#define engage_prefetch(p) ((void) 0)
#endif
#define ENGAGE_PREFETCH_AHEAD 16

/*
 * The blessed row type of a function returning a composite of natts
 * attributes (type_name, for the error), looked up once per query and
 * kept in fn_extra: for the final functions of engagement_agg and
 * traffic_agg, which return one row per group.
 */
extern TupleDesc engage_result_tupdesc(FunctionCallInfo fcinfo, int natts,
									   const char *type_name);

/*
 * A float8[] of the n doubles at v, and a k x d float8[][] of the k * d
 * doubles at v (row-major), in the current memory context: the arrays the
 * clustering functions return.
 */
extern ArrayType *engage_float8_array(const double *v, int n);
extern ArrayType *engage_int8_array(const int64 *v, int n);

/*
 * counts[0..23] += the counts of a histogram of hours_agg (hours_agg.c),
 * as hours_sum_agg adds them: an error for a malformed histogram or a
 * count past 2^63 - 1
 */
extern void engage_hours_add(int64 *counts, bytea *histogram);
extern ArrayType *engage_float8_matrix(const double *v, int k, int d);

/*
 * An array argument read without a palloc'd copy when it can be: a plain
 * one as it is; one with a short (1-byte, unaligned) header, as an array
 * that comes from a tuple (a partial aggregate's state sent by a parallel
 * worker, a field of a composite) has when small, copied into buf (size
 * bytes, aligned: a local variable) when it fits; anything else (larger,
 * compressed, external) detoasted as PG_GETARG_ARRAYTYPE_P would.  For the
 * hot paths that read, never modify, such an array once per group.
 */
static inline ArrayType *
engage_array_local(Datum value, void *buf, Size size)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(value);

	if (!VARATT_IS_EXTENDED(raw))
		return (ArrayType *) raw;
	if (VARATT_IS_SHORT(raw) && VARSIZE_SHORT(raw) - VARHDRSZ_SHORT + VARHDRSZ <= size)
	{
		Size		len = VARSIZE_SHORT(raw) - VARHDRSZ_SHORT;

		SET_VARSIZE(buf, len + VARHDRSZ);
		memcpy(VARDATA(buf), VARDATA_SHORT(raw), len);
		return (ArrayType *) buf;
	}
	return DatumGetArrayTypeP(value);
}

/*
 * The core's interrupt check (env->check, check_arg the ecore_env): stops
 * and joins the core's threads before an interrupt leaves the core
 * (kmeans_sql.c)
 */
extern void engage_core_check(void *arg);

#endif							/* ENGAGE_H */
