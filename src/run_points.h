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
 * One user's row (EngageRunRow): the MSISDN (text), sessions, the stored
 * duration_ms and total_bytes (numeric, with their NULLs) and as double
 * precision, as engage_numeric_to_double gives them (a NULL is 0, as
 * COALESCE(x, 0) in the points query; the caller converts, since it needs
 * the doubles too), and hours (bytea, a histogram of hours_agg, or NULL).
 * A value that is not finite as a double, or the memory past
 * engage.max_memory, ends the capture (it is freed: the K-means step reads
 * the points query, which reports the value).
 */
typedef struct EngageRunRow
{
	Datum		msisdn;
	int64		sessions;
	Datum		duration_ms;	/* numeric */
	bool		duration_null;
	Datum		total_bytes;	/* numeric */
	bool		total_null;
	double		duration;		/* duration_ms as double, NULL as 0 */
	double		total;			/* total_bytes as double, NULL as 0 */
	Datum		hours;			/* bytea */
	bool		hours_null;
} EngageRunRow;

extern void engage_run_points_add(const EngageRunRow *row);

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

/* Free the capture, if any (the statistics' values too) */
extern void engage_run_points_free(void);

/*
 * The cluster statistics of the captured rows: with the points, each row's
 * sessions, duration_ms and total_bytes exactly (when every stored value
 * is an integer of display scale 0 up to 2^53, whose double the point is;
 * NULLs flagged) and its histogram of hours, in the order written.  Taking
 * the points leaves them; engage_run_stats_sums adds them up by cluster
 * once, after the fit, and frees them.
 */

/*
 * Give up the statistics' values, if any: engage_check_memory does before
 * it refuses a call past engage.max_memory (they only spare a read)
 */
extern void engage_run_stats_release(void);

/* An exact sum: in 64 bits while it fits, the rest in a numeric */
typedef struct RunSum
{
	int64		part;
	Datum		total;			/* numeric; 0: none yet */
} RunSum;

/* A metric's statistics over its non-NULL values */
typedef struct RunMetricStats
{
	int64		min;
	int64		max;
	int64		count;
	RunSum		sum;
} RunMetricStats;

/* One cluster's statistics, as run_analysis's SQL computes them */
typedef struct RunClusterStats
{
	int64		users;
	RunMetricStats metric[3];	/* sessions, duration_ms, total_bytes */
	bool		has_hours;		/* a histogram was added (else NULL) */
	int64		hours[24];
} RunClusterStats;

/*
 * The clusters (0 .. k - 1) of n points x (n x 3, the features' units, as
 * the captured points hold them) under the run's model
 */
typedef void (*EngageRunAssign) (void *arg, const double *x, int n,
								 int32 *labels);

/*
 * Sum up the captured rows of run run_id made in the current
 * (sub)transaction by cluster (stats: k entries), each row's cluster given
 * by assign, and free them; false when there are none (then nothing is
 * kept either).  In the current memory context.
 */
extern bool engage_run_stats_sums(int64 run_id, int k, EngageRunAssign assign,
								  void *arg, RunClusterStats *stats);

/*
 * A cluster's row of captured_cluster_sums (cluster, users, s_min, s_max,
 * s_avg, s_sum, d_min, d_max, d_avg, d_sum, b_min, b_max, b_avg, b_sum,
 * d_count, b_count, hours): the values of min, max, avg, sum and count
 * over the cluster's rows and of hours_sum_agg, with their types and
 * display scales
 */
#define ENGAGE_RUN_STATS_NATTS 17
extern void engage_run_stats_row(const RunClusterStats *s, int cluster,
								 Datum *values, bool *nulls);

#endif							/* ENGAGE_RUN_POINTS_H */
