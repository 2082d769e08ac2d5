/*-------------------------------------------------------------------------
 *
 * split.h
 *	  The split K-means of kmeans_agg.c (kmeans_fit_sampled and
 *	  elbow_fit_sampled over src/core/elbow_agg.h) as run_analysis's
 *	  one-node steps use it (store_user_clusters, store_elbow_curve in
 *	  kmeans_sql.c): the same algorithm on the points they hold, so that a
 *	  run on one node and a run on Citus give the same bits.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_SPLIT_H
#define ENGAGE_SPLIT_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"

#include "core/elbow_agg.h"
#include "core/scale.h"

/*
 * Does the split K-means take this normalization (its scaler has a
 * combinable state)?
 */
extern bool engage_split_normalization(ecore_scale_method method);

/*
 * The points in memory (see kmeans_agg.c): the scaler of X's exact sums,
 * the normalised points, the sample hashes for seed, into s and mem.
 */
extern void engage_split_memory(const double *X, Size n, int d,
								const char *const *keys, const size_t *keylens,
								ecore_scale_method method, int64 seed,
								ecore_env *env, Size held, ecore_scaler *s,
								ecore_elbow_memory *mem);

/*
 * The parameters of the fit for n points (auto_sample: the automatic
 * sample; else sample, 0 for every point), and the report of a status of
 * ecore_fit_sampled.
 */
extern void engage_split_fit_params(ecore_fit_params *fp, int k, int n_init,
									int max_iter, int64 seed,
									ecore_kmeans_init init, bool auto_sample,
									int64 sample, int64 n);
extern void engage_split_fit_error(int rc, const char *function, int k,
								   size_t sample) pg_attribute_noreturn();

/*
 * A start of the fit (ecore_fit_params.start) from a k x d float8[]
 * argument in the features' units (name: the argument's, for messages),
 * normalised by the fit's scaler s; palloc'd.  Errors for another shape,
 * NULLs, values the scaler cannot take.
 */
extern double *engage_split_start(ArrayType *arr, const char *name, int k,
								  int d, const ecore_scaler *s,
								  ecore_env *env);

/* The arguments of an elbow curve (elbow_fit_sampled's) */
typedef struct EngageSplitElbow
{
	const char *function;		/* for messages */
	const char *points;			/* the points query, or NULL: */
	const ecore_elbow_memory *mem;	/* the points in memory, */
	const ecore_scaler *s;		/* their scaler */
	char	  **names;			/* and their d feature names */
	int			k_min;
	int			k_max;
	ecore_scale_method method;
	int			n_init;
	int			max_iter;
	double		tol;
	int64		seed;
	ecore_kmeans_init init;
	bool		auto_sample;
	int32		sample;
	bool		in_memory;		/* with points: read them once */
} EngageSplitElbow;

/*
 * The rows of the elbow curve (elbow_fit_sampled's; with nine columns
 * also the Davies-Bouldin and Calinski-Harabasz indexes) into the SRF of
 * fcinfo (InitMaterializedSRF called here).
 */
extern void engage_split_elbow_rows(FunctionCallInfo fcinfo,
									const EngageSplitElbow *a);

#endif							/* ENGAGE_SPLIT_H */
