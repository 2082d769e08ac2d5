/*-------------------------------------------------------------------------
 *
 * run_points.h
 *	  The points of a run captured by run_analysis's per-user step
 *	  (store_user_engagement) as it writes each user's row, for the K-means
 *	  step (store_cluster_model), which then reads nothing: the key and the
 *	  three features that run_analysis's points query would give for the
 *	  same rows, within engage.max_memory, for the (sub)transaction that
 *	  wrote them.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_RUN_POINTS_H
#define ENGAGE_RUN_POINTS_H

#include "postgres.h"

#include "points.h"

/* The features captured per point: sessions, duration_ms, total_bytes */
#define ENGAGE_RUN_POINTS_D 3

/*
 * Start capturing the points of run run_id (what was captured before is
 * freed).  engage_run_points_add adds each user's row as it is written,
 * engage_run_points_finish marks the capture complete; until then nothing
 * can be taken.
 */
extern void engage_run_points_start(int64 run_id);

/*
 * One user's row: the MSISDN (text), sessions, and the stored duration_ms
 * and total_bytes as double precision, as engage_numeric_to_double gives
 * them (a NULL is 0, as COALESCE(x, 0) in the points query; the caller
 * converts, since it needs the doubles too).  A value that is not finite as a double, or the memory past
 * engage.max_memory, ends the capture (it is freed: the K-means step reads
 * the points query, which reports the value).
 */
extern void engage_run_points_add(Datum msisdn, int64 sessions,
								  double duration_ms, double total_bytes);

/* The last row was added: the capture can be taken */
extern void engage_run_points_finish(void);

/*
 * Take the complete capture of run run_id made in the current
 * (sub)transaction: its points into pts (n, d, keys as text, data; rows,
 * tupdesc and feature names not set; bytes their memory), their memory
 * moved under parent.  false when there is none (nothing is kept any
 * more either way).
 */
extern bool engage_run_points_take(int64 run_id, MemoryContext parent,
								   EngagePoints *pts);

/* Free the capture, if any */
extern void engage_run_points_free(void);

#endif							/* ENGAGE_RUN_POINTS_H */
