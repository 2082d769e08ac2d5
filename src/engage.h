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
#include "fmgr.h"

/* engage.max_memory, in kB: memory one clustering call may use */
extern int	engage_max_memory_kb;

/* engage.threads: threads one clustering call may use */
extern int	engage_threads;

/*
 * The blessed row type of a function returning a composite of natts
 * attributes (type_name, for the error), looked up once per query and
 * kept in fn_extra: for the final functions of engagement_agg and
 * traffic_agg, which return one row per group.
 */
extern TupleDesc engage_result_tupdesc(FunctionCallInfo fcinfo, int natts,
									   const char *type_name);

#endif							/* ENGAGE_H */
