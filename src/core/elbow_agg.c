/*-------------------------------------------------------------------------
 *
 * elbow_agg.c
 *	  The elbow curve on points that need not gather (see elbow_agg.h):
 *	  the orchestration (mu and total, the sample, the restarts on it, the
 *	  refinement of every candidate by multi-model Lloyd steps, the best
 *	  per k), and the source of points in memory.
 *
 * The restarts are the core's (kmeans.c, kmeans_seed.c, kmeans_lloyd.c
 * through kmeans_internal.h: weighted k-means++ and Lloyd on the sample);
 * the steps on all points are kmeans_step.c's exact states.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "elbow_agg.h"

#include "kmeans_internal.h"

/* Restarts whose inertias are within this of the previous one: one group */
#define EA_SAME_BASIN 1e-4

/* The tolerance of the steps on all points, relative to the restarts' */
#define EA_REFINE_TOL 1e-2

/*
 * A run on all points ends when a step lowers its inertia by at most
 * tol times this of it
 */
#define EA_GAIN 1e-1

/*
 * After each round, a run whose inertia is above its k's lowest by more
 * than this (relative) ends
 */
#define EA_DROP 1e-3

/* Most slots of the multi-model states of one step (a batch of models) */
#define EA_BATCH_SLOTS ((size_t) 1 << 22)

/* A run refined on all points */
typedef struct ea_cand
{
	int			k;
	int			done;
	int			iters;
	double		inertia;		/* of C, on all points */
	double		sil;
	double		db;				/* the indexes (the last pass) */
	double		ch;
	double	   *C;				/* k x d: the centroids evaluated last */
	double	   *next;
	int64_t    *sizes;
	double	   *ci;
} ea_cand;

/* The rules that end a run (ea_judge) */
typedef struct ea_rules
{
	double		refine_tol;		/* squared move of the centroids */
	double		gain;			/* relative decrease of the inertia */
	int			max_iter;
} ea_rules;

/*
 * Bytes of one candidate's room in the in-memory refinement: its step
 * state, the points' clusters and lower bounds
 */
static size_t
ea_mem_group_stride(size_t n, int k_max, size_t d)
{
	size_t		b = ecore_kstep_slots(k_max, d) * sizeof(int64_t) +
		((n + 1) & ~(size_t) 1) * sizeof(int32_t) + n * sizeof(double);

	return (b + 63) & ~(size_t) 63;
}

/* Where the block holds what */
typedef struct ea_plan
{
	ecore_kmeans_params pS;		/* the restarts on the sample */
	int			sampled;
	size_t		nS;				/* points of the sample (m, or n) */
	int			stage;			/* the intermediate stage (step 3b) */
	size_t		nS2;			/* its sample's points (f m), or 0 */
	size_t		want;			/* points the sample callback gives */
	int			refine;
	int			nk;
	int			ncmax;			/* most candidates */
	km_layout	LS;
	km_layout	LS2;			/* the stage's runs on f m points */
	int			ntS;
	size_t		work_slots;		/* multi-model state and scratch */
	size_t		offS,
				offSZ,
				offKey,
				offSW,
				offSW2,
				offS2,
				offStage,
				offIwork,
				offRec,
				offCand,
				offMeta,
				offWork,
				offMisc,
				offMem,
				offParts;
	size_t		total;
} ea_plan;

/* Reserve bytes at the end of the plan, 64-byte aligned; 0 on overflow */
static int
ea_reserve(ea_plan *pl, size_t bytes, size_t *off)
{
	size_t		start = (pl->total + 63) & ~(size_t) 63;

	if (start < pl->total || bytes > SIZE_MAX - start)
		return 0;
	*off = start;
	pl->total = start + bytes;
	return 1;
}

/* Bytes of the small arrays: mu, two d scratch, split, best, wci, ... */
static size_t
ea_misc_bytes(size_t d, int k_max, int ncmax)
{
	return (3 * d + 2 * (size_t) k_max * d + (size_t) k_max) * sizeof(double) +
		(size_t) ncmax * (sizeof(int) + 2 * sizeof(double *) +
						  sizeof(ecore_kstep_out) + sizeof(double)) +
		4 * sizeof(double);
}

/* Validate the parameters and lay the block out */
static int
ea_plan_make(size_t n, size_t d, const ecore_elbow_agg_params *ep, ea_plan *pl)
{
	size_t		bytes,
				kd,
				part,
				per_cand;
	int			one,
				rc;

	if (ep == NULL)
		return ECORE_EINVAL_ARG;
	memset(pl, 0, sizeof(*pl));
	if (n < 1)
		return ECORE_EINVAL_N;
	if (d < 1 || d > ECORE_KSTEP_MAX_D)
		return ECORE_EINVAL_D;
	if (ep->k_min < 1 || ep->k_min > ep->k_max || ep->k_max > ECORE_KSTEP_MAX_K ||
		(size_t) ep->k_max > n)
		return ECORE_EINVAL_K;
	if (ep->km.init == ECORE_INIT_USER)
		return ECORE_EINVAL_INIT;
	if (ep->sample_n_init < 0 || ep->sample_n_init > ECORE_ELBOW_MAX_SAMPLE_N_INIT)
		return ECORE_EINVAL_ARG;
	pl->sampled = ep->sample > 0 && ep->sample < n;
	if (pl->sampled && ep->sample < (size_t) ep->k_max)
		return ECORE_EINVAL_ARG;
	pl->nS = pl->sampled ? ep->sample : n;
	pl->want = pl->sampled ? ep->sample + 1 : n;
	/*
	 * The stage: its sample below n, and gathered on aggregates by one
	 * ORDER BY ... LIMIT f m + 1 cut by sample_cutoff (at most
	 * ECORE_CUTOFF_MAX_M values)
	 */
	pl->stage = pl->sampled &&
		n >= (ep->stage_min_n > 0 ? ep->stage_min_n : ECORE_ELBOW_STAGE_MIN_N) &&
		ep->sample <= (ECORE_CUTOFF_MAX_M - 1) / ECORE_ELBOW_STAGE_FACTOR &&
		ep->sample * ECORE_ELBOW_STAGE_FACTOR < n;
	if (pl->stage)
	{
		pl->nS2 = ep->sample * ECORE_ELBOW_STAGE_FACTOR;
		pl->want = pl->nS2 + 1;
	}
	pl->pS = ep->km;
	pl->pS.k = ep->k_max;
	if (ep->km.n_init < 1)
		return ECORE_EINVAL_NINIT;
	pl->pS.n_init = ep->sample_n_init > 0 ? ep->sample_n_init :
		pl->sampled ? ecore_elbow_sample_n_init(ep->km.n_init) : ep->km.n_init;
	if (ep->refine < 0 || ep->refine > pl->pS.n_init)
		return ECORE_EINVAL_ARG;
	pl->refine = ep->refine > 0 ? ep->refine :
		(pl->pS.n_init < ECORE_ELBOW_REFINE ? pl->pS.n_init : ECORE_ELBOW_REFINE);
	rc = km_validate_params(pl->nS, d, ep->k_max, &pl->pS);
	if (rc != ECORE_OK)
		return rc;
	pl->nk = ep->k_max - ep->k_min + 1;
	pl->ncmax = pl->nk * (pl->refine + 1);

	km_compute_layout(&pl->LS, pl->nS, d, ep->k_max, &pl->pS);
	if (pl->LS.overflow)
		return ECORE_EOVERFLOW;
	if (pl->stage)
	{
		rc = km_validate_params(pl->nS2, d, ep->k_max, &pl->pS);
		if (rc != ECORE_OK)
			return rc;
		km_compute_layout(&pl->LS2, pl->nS2, d, ep->k_max, &pl->pS);
		if (pl->LS2.overflow)
			return ECORE_EOVERFLOW;
	}
	pl->ntS = km_threads(&pl->pS);
	rc = km_block_bytes(&pl->LS, pl->ntS, &bytes);
	if (rc != ECORE_OK)
		return rc;
	kd = (size_t) ep->k_max * d;
	/* the steps' states: all candidates at k_max, capped by a batch */
	one = ep->k_max;
	part = ecore_ksteps_slots(1, &one, d);
	if (part == 0)
		return ECORE_EOVERFLOW;
	pl->work_slots = part * (size_t) pl->ncmax;
	if (pl->work_slots > EA_BATCH_SLOTS)
		pl->work_slots = EA_BATCH_SLOTS > part ? EA_BATCH_SLOTS : part;
	pl->work_slots += ecore_kstep_slots(ep->k_max, d);
	per_cand = 2 * kd * sizeof(double) + (size_t) ep->k_max * (sizeof(int64_t) + sizeof(double));
	/* n < SIZE_MAX / d / 8 (km_validate_params on n too, below) */
	if (n > SIZE_MAX / d / sizeof(double) / 4)
		return ECORE_EOVERFLOW;
	if (!ea_reserve(pl, bytes, &pl->offS) ||
		!ea_reserve(pl, pl->want * d * sizeof(double), &pl->offSZ) ||
		!ea_reserve(pl, pl->want * sizeof(double), &pl->offKey) ||
		!ea_reserve(pl, pl->nS * sizeof(double), &pl->offSW) ||
		!ea_reserve(pl, (pl->want + 1) * sizeof(size_t) + pl->want * sizeof(double),
					&pl->offIwork) ||
		!ea_reserve(pl, (size_t) pl->pS.n_init * (kd * sizeof(double) + sizeof(double) + sizeof(int)),
					&pl->offRec) ||
		!ea_reserve(pl, (size_t) pl->ncmax * per_cand, &pl->offCand) ||
		!ea_reserve(pl, (size_t) pl->ncmax * sizeof(ea_cand), &pl->offMeta) ||
		!ea_reserve(pl, pl->work_slots * sizeof(int64_t), &pl->offWork) ||
		!ea_reserve(pl, ea_misc_bytes(d, ep->k_max, pl->ncmax), &pl->offMisc))
		return ECORE_EOVERFLOW;
	if (pl->stage)
	{
		/* the stage's weights, its runs' block, one k's starts and ends */
		size_t		group = (size_t) pl->refine + 1;

		rc = km_block_bytes(&pl->LS2, pl->ntS, &bytes);
		if (rc != ECORE_OK)
			return rc;
		if (!ea_reserve(pl, pl->nS2 * sizeof(double), &pl->offSW2) ||
			!ea_reserve(pl, bytes, &pl->offS2) ||
			!ea_reserve(pl, group * (2 * kd + 1) * sizeof(double), &pl->offStage))
			return ECORE_EOVERFLOW;
	}
	if (ep->in_memory)
	{
		/* one k's candidates at a time: refine groups and the split run */
		size_t		stride = ea_mem_group_stride(n, ep->k_max, d),
					group = (size_t) pl->refine + 1,
					parts = ecore_kstep_delta_parts(ep->k_max, d, n, ep->km.n_threads);

		/* parts: at most 63 states of at most about 560 MB (k, d <= 1000) */
		int			ks[ECORE_KSTEP_MAX_K],
					M = 0,
					k;

		if (stride > (SIZE_MAX / 4) / group ||
			!ea_reserve(pl, ecore_kstep_slots(ep->k_max, d) * sizeof(int64_t) +
						stride * group + parts * sizeof(int64_t), &pl->offMem))
			return ECORE_EOVERFLOW;
		/* the final multi-model step's threads: every k's model at most */
		for (k = ep->k_min; k <= ep->k_max; k++)
			ks[M++] = k;
		if (!ea_reserve(pl, ecore_ksteps_memory_parts(M, ks, d, n, ep->km.n_threads) *
						sizeof(int64_t), &pl->offParts))
			return ECORE_EOVERFLOW;
	}
	if (pl->total > SIZE_MAX - 64)
		return ECORE_EOVERFLOW;
	pl->total += 64;
	return ECORE_OK;
}

/* Fill *params with the defaults */
void
ecore_elbow_agg_params_default(ecore_elbow_agg_params *params)
{
	memset(params, 0, sizeof(*params));
	ecore_kmeans_params_default(&params->km);
	params->k_min = 1;
	params->k_max = 10;
}

/* Bytes ecore_elbow_agg requests */
int
ecore_elbow_agg_bytes(size_t n, size_t d, const ecore_elbow_agg_params *params,
					  size_t *bytes)
{
	ea_plan		pl;
	int			rc;

	if (bytes == NULL)
		return ECORE_EINVAL_ARG;
	rc = ea_plan_make(n, d, params, &pl);
	if (rc == ECORE_OK)
		*bytes = pl.total;
	return rc;
}

/*
 * Weighted inertia on the sample of the k x d centroids C (in the order
 * of the sample, weights W or 1), per cluster in wci (k)
 */
static double
ea_weighted(const double *Z, const double *W, size_t m, size_t d,
			const double *C, int k, double *wci)
{
	double		total = 0.0;
	size_t		i;
	int			j;

	for (j = 0; j < k; j++)
		wci[j] = 0.0;
	for (i = 0; i < m; i++)
	{
		double		b1,
					b2;
		int32_t		c = nearest2(Z + i * d, C, k, d, &b1, &b2);
		double		v = W != NULL ? W[i] * b1 : b1;

		wci[c] += v;
		total += v;
	}
	return total;
}

/*
 * The start of the next k's split run (split: (k + 1) x d): C, plus the
 * sample point farthest from its centroid (the first on ties) in the
 * cluster of largest weighted inertia (the first on ties); wci from
 * ea_weighted.  0 when every cluster has zero inertia.
 */
static int
ea_split_start(const double *Z, size_t m, size_t d, const double *C, int k,
			   const double *wci, double *split)
{
	int			worst = 0,
				j,
				found = 0;
	size_t		i,
				far = 0;
	double		fard = 0.0;

	for (j = 1; j < k; j++)
		if (wci[j] > wci[worst])
			worst = j;
	if (!(wci[worst] > 0.0))
		return 0;
	for (i = 0; i < m; i++)
	{
		double		b1,
					b2;
		int32_t		c = nearest2(Z + i * d, C, k, d, &b1, &b2);

		if (c == worst && (!found || b1 > fard))
		{
			far = i;
			fard = b1;
			found = 1;
		}
	}
	if (!found)
		return 0;
	memcpy(split, C, (size_t) k * d * sizeof(double));
	memcpy(split + (size_t) k * d, Z + far * d, d * sizeof(double));
	return 1;
}

/* Is cluster a before cluster b: norm, coordinates, index? */
static int
ea_cluster_before(const double *C, const double *norms, size_t d, int a, int b)
{
	size_t		f;

	if (norms[a] != norms[b])
		return norms[a] < norms[b];
	for (f = 0; f < d; f++)
		if (C[(size_t) a * d + f] != C[(size_t) b * d + f])
			return C[(size_t) a * d + f] < C[(size_t) b * d + f];
	return a < b;
}

/* C (k x d) into out with the clusters by ascending norm (k <= k_max) */
static void
ea_relabel(const double *C, int k, size_t d, double *norms, int *perm,
		   double *out)
{
	int			j,
				i;
	size_t		f;

	for (j = 0; j < k; j++)
	{
		double		acc = 0.0;

		for (f = 0; f < d; f++)
			acc += C[(size_t) j * d + f] * C[(size_t) j * d + f];
		norms[j] = sqrt(acc);
		perm[j] = j;
	}
	for (j = 1; j < k; j++)
	{
		int			t = perm[j];

		for (i = j; i > 0 && ea_cluster_before(C, norms, d, t, perm[i - 1]); i--)
			perm[i] = perm[i - 1];
		perm[i] = t;
	}
	for (j = 0; j < k; j++)
		memcpy(out + (size_t) j * d, C + (size_t) perm[j] * d, d * sizeof(double));
}

/* One call of the source's steps, with the count of points checked */
static int
ea_steps(const ecore_elbow_agg_source *src, int M, const int *ks,
		 const double *const *C, const double *const *R,
		 ecore_kstep_out *outs, double *sil, int64_t *work, size_t n,
		 ecore_elbow_agg_out *out)
{
	int			rc,
				j;

	rc = src->steps(src->arg, M, ks, C, R, outs, sil, work);
	out->steps++;
	if (rc != ECORE_OK)
		return rc;
	for (j = 0; j < M; j++)
		if (outs[j].n != (int64_t) n)
			return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/*
 * A candidate's step from its centroids C (results in o, its next
 * centroids in e->next): the inertia and silhouette of C are recorded and
 * the run ends (1) when the next centroids are C, or move by at most
 * refine_tol (squared, summed), or the step lowered the inertia by at
 * most gain times the inertia, or after max_iter steps; otherwise C
 * becomes the next centroids (0).
 */
static int
ea_judge(ea_cand *e, const ecore_kstep_out *o, double sil, size_t d,
		 const ea_rules *R)
{
	size_t		ekd = (size_t) e->k * d,
				f;
	double		shift = 0.0,
				prev = e->inertia;

	e->iters++;
	e->inertia = o->inertia;
	e->sil = sil;
	for (f = 0; f < ekd; f++)
	{
		double		t = e->next[f] - e->C[f];

		shift += t * t;
	}
	if (o->fixed_point || shift <= R->refine_tol || e->iters >= R->max_iter ||
		(e->iters >= 2 && prev - o->inertia <= R->gain * o->inertia))
	{
		e->done = 1;
		return 1;
	}
	memcpy(e->C, e->next, ekd * sizeof(double));
	return 0;
}

/*
 * After a round (every active candidate of k stepped once): the active
 * candidates of k whose inertia is above (1 + EA_DROP) times the lowest
 * inertia of k's candidates end (they cannot be k's best: that one is
 * already lower, and its inertia only goes down).  The number ended.
 */
static int
ea_drop(ea_cand *cand, int ncand, int k)
{
	double		best = INFINITY;
	int			c,
				dropped = 0;

	for (c = 0; c < ncand; c++)
		if (cand[c].k == k && cand[c].iters > 0 && cand[c].inertia < best)
			best = cand[c].inertia;
	for (c = 0; c < ncand; c++)
		if (cand[c].k == k && !cand[c].done && cand[c].iters > 0 &&
			cand[c].inertia > best * (1.0 + EA_DROP))
		{
			cand[c].done = 1;
			dropped++;
		}
	return dropped;
}

/*
 * The candidates of k: cand[*g0 .. *g1 - 1] (a k's candidates are
 * consecutive); false when k has none
 */
static int
ea_cand_range(const ea_cand *cand, int ncand, int k, int *g0, int *g1)
{
	int			c;

	*g0 = -1;
	*g1 = -1;
	for (c = 0; c < ncand; c++)
		if (cand[c].k == k)
		{
			if (*g0 < 0)
				*g0 = c;
			*g1 = c + 1;
		}
	return *g0 >= 0;
}

/*
 * The refinement on points in memory: each k's candidates in rounds of
 * their own (the same runs, rules and drops as the rounds of every
 * candidate at once: a run depends only on its start and the points, a
 * drop only on k's runs after the same number of steps), each step by
 * ecore_kstep_delta, which settles most points by a bound, on
 * params->km.n_threads threads.  mem_block: the plan's room (the scratch
 * state, the threads' partial states, then one group).
 */
static int
ea_refine_memory(const ecore_elbow_memory *m, ea_cand *cand, int ncand,
				 int k_min, int k_max, const ea_rules *R, char *mem_block,
				 size_t n, size_t d, ecore_env *env, ecore_elbow_agg_out *out,
				 const ecore_elbow_agg_params *params)
{
	int			k,
				c,
				max_rounds = 0;
	size_t		st_slots = ecore_kstep_slots(k_max, d);
	int64_t    *scratch = (int64_t *) mem_block;
	int64_t    *parts = scratch + st_slots;
	char	   *p = (char *) (parts + ecore_kstep_delta_parts(k_max, d, n,
															  params->km.n_threads));

	if (m->n != n || m->d != d)
		return ECORE_EINVAL_ARG;

	for (k = k_min; k <= k_max; k++)
	{
		int			g0,
					g1,
					active = 0,
					rounds = 0;

		if (!ea_cand_range(cand, ncand, k, &g0, &g1))
			continue;
		active = g1 - g0;
		while (active > 0)
		{
			for (c = g0; c < g1; c++)
			{
				ea_cand    *e = &cand[c];
				size_t		at = (size_t) (c - g0) * ea_mem_group_stride(n, k_max, d);
				int64_t    *st = (int64_t *) (p + at);
				int32_t    *assign = (int32_t *) (st + st_slots);
				double	   *lower = (double *) (assign + ((n + 1) & ~(size_t) 1));
				ecore_kstep_out o;
				int			rc;

				if (e->done)
					continue;
				if (e->iters == 0)
					ecore_kstep_init(st, k, d, e->C, m->fingerprint);
				ecore_kstep_delta(st, e->C, e->iters == 0, m->Z, n, assign, lower,
								  params->km.n_threads, parts, env);
				o.next = e->next;
				o.sizes = e->sizes;
				o.cluster_inertia = e->ci;
				rc = ecore_kstep_final(st, scratch, &o);
				if (rc != ECORE_OK)
					return rc;
				if (ea_judge(e, &o, NAN, d, R))
					active--;
			}
			active -= ea_drop(cand, ncand, k);
			rounds++;
		}
		if (rounds > max_rounds)
			max_rounds = rounds;
		if (params->progress != NULL)
			params->progress(params->progress_arg, "refined k", k);
	}
	/* the passes over all points the rounds of every k at once take */
	out->steps += max_rounds;
	return ECORE_OK;
}

/* The best candidate of k (lowest inertia, the first on ties), or -1 */
static int
ea_best(const ea_cand *cand, int ncand, int k)
{
	int			c,
				b = -1;

	for (c = 0; c < ncand; c++)
		if (cand[c].k == k && (b < 0 || cand[c].inertia < cand[b].inertia))
			b = c;
	return b;
}

/*
 * The silhouettes and indexes of each k's best candidate, by one
 * multi-model step of their centroids (which also gives their inertias
 * and next centroids again, the same bits), with the centres of the
 * indexes their next centroids (Rp: room for the pointers)
 */
static int
ea_final_silhouettes(const ecore_elbow_agg_source *src, ea_cand *cand,
					 int ncand, int k_min, int k_max, int *ks,
					 const double **Cp, const double **Rp,
					 ecore_kstep_out *outs, double *sil, int64_t *work,
					 size_t n, size_t d, ecore_elbow_agg_out *out)
{
	int			k,
				M = 0,
				j,
				rc,
				who[ECORE_KSTEP_MAX_K];

	(void) d;
	for (k = k_min; k <= k_max; k++)
	{
		int			b = ea_best(cand, ncand, k);

		if (b < 0)
			continue;
		who[M] = b;
		ks[M] = k;
		Cp[M] = cand[b].C;
		Rp[M] = cand[b].next;
		outs[M].next = cand[b].next;
		outs[M].sizes = cand[b].sizes;
		outs[M].cluster_inertia = cand[b].ci;
		M++;
	}
	if (M == 0)
		return ECORE_OK;
	rc = ea_steps(src, M, ks, Cp, Rp, outs, sil, work, n, out);
	if (rc != ECORE_OK)
		return rc;
	out->steps--;				/* not a pass the rounds of every k take */
	for (j = 0; j < M; j++)
	{
		if (outs[j].inertia != cand[who[j]].inertia)
			return ECORE_EINVAL_ARG;	/* cannot happen: the same exact sums */
		cand[who[j]].sil = sil[j];
		cand[who[j]].db = outs[j].davies_bouldin;
		cand[who[j]].ch = outs[j].calinski_harabasz;
	}
	return ECORE_OK;
}

/*
 * The intermediate stage (elbow_agg.h, step 3b): every candidate run by
 * the core's weighted Lloyd on the first f m points of the sample SZ
 * (weighted by the (f m + 1)-th key), each k's candidates as the starts
 * of one call on the restarts' threads; a candidate then starts from
 * where its run ended.  Each run depends only on its start and those
 * points, so the stage gives the same bits on every source.  A k whose
 * best run leaves an empty cluster that the core cannot tell apart
 * (ECORE_EUNDERFLOW) keeps its candidates as they were.
 */
static int
ea_stage(ea_plan *pl, char *base, const double *SZ, const double *Skey,
		 const double *mu, double total, size_t n, size_t d, double tol_abs,
		 ea_cand *cand, int ncand, int k_min, int k_max, ecore_env *env)
{
	km_ctx		S2;
	ecore_kmeans_params p2 = pl->pS;
	size_t		kd = (size_t) k_max * d,
				group = (size_t) pl->refine + 1,
				i;
	double	   *SW2 = (double *) (base + pl->offSW2),
			   *starts = (double *) (base + pl->offStage),
			   *ends = starts + group * kd,
			   *ends_inertia = ends + group * kd,
				kappa = Skey[pl->nS2];
	int			k,
				c,
				rc;

	rc = ecore_validate_points(SZ, pl->nS2, d, env);
	if (rc != ECORE_OK)
		return rc;
	for (i = 0; i < pl->nS2; i++)
		SW2[i] = ecore_coreset_weight(kappa,
									  ecore_coreset_measure(SZ + i * d, d, mu, total,
															(int64_t) n));
	km_attach(&S2, &pl->LS2, pl->ntS, base + pl->offS2, SZ, pl->nS2, d, k_max,
			  &p2, env);
	S2.tol_abs = tol_abs;
	S2.wt = SW2;
	S2.starts = starts;
	S2.rec_C = ends;
	S2.rec_inertia = ends_inertia;
	S2.rec_stride = kd;
	for (k = k_min; k <= k_max; k++)
	{
		ecore_kmeans_result res;
		int			g0,
					g1;

		if (!ea_cand_range(cand, ncand, k, &g0, &g1))
			continue;
		for (c = g0; c < g1; c++)
			memcpy(starts + (size_t) (c - g0) * kd, cand[c].C,
				   (size_t) k * d * sizeof(double));
		S2.n_starts = g1 - g0;
		p2.k = k;
		S2.k = k;
		km_set_margin(&S2, NULL, k);
		memset(&res, 0, sizeof(res));
		rc = km_fit_k(&S2, &res);
		if (rc == ECORE_EUNDERFLOW)
			continue;
		if (rc != ECORE_OK)
			return rc;
		for (c = g0; c < g1; c++)
			memcpy(cand[c].C, ends + (size_t) (c - g0) * kd,
				   (size_t) k * d * sizeof(double));
	}
	return ECORE_OK;
}

/* The elbow curve (see elbow_agg.h) */
int
ecore_elbow_agg(size_t n, size_t d, const ecore_elbow_agg_params *params,
				const ecore_elbow_agg_source *source, ecore_env *env,
				ecore_elbow_agg_out *out)
{
	ea_plan		pl;
	ea_rules	rules;
	km_ctx		S;
	char	   *base,
			   *misc;
	double	   *SZ,
			   *Skey,
			   *SW,
			   *rec_C,
			   *rec_inertia,
			   *mu,
			   *zero,
			   *tmpd,
			   *split,
			   *best,
			   *wci,
			   *sil,
			   *cdata,
			   total,
			   tol_abs,
			   refine_tol;
	int		   *order,
			   *ks;
	const double **Cp,
			  **Rp;
	ecore_kstep_out *outs;
	ea_cand    *cand;
	int64_t    *work;
	int64_t		size1;
	void	   *iwork;
	size_t		kd,
				got,
				i;
	int			k_max,
				ncand = 0,
				have_split = 0,
				active,
				k,
				c,
				rc;

	if (out == NULL || out->inertia == NULL || source == NULL ||
		source->steps == NULL || source->sample == NULL ||
		(params != NULL && params->in_memory && source->memory == NULL))
		return ECORE_EINVAL_ARG;
	rc = ea_plan_make(n, d, params, &pl);
	if (rc != ECORE_OK)
		return rc;
	if (env == NULL || env->alloc == NULL)
		return ECORE_EINVAL_ENV;
	out->k = params->k_min;
	out->steps = 0;
	out->candidates = 0;
	out->sampled = pl.sampled;
	out->sample_used = pl.sampled ? pl.nS : n;
	out->stage_used = pl.stage ? pl.nS2 : 0;
	k_max = params->k_max;
	kd = (size_t) k_max * d;
	base = (char *) env->alloc(env->alloc_arg, pl.total);
	if (base == NULL)
		return ECORE_ENOMEM;
	base = (char *) (((uintptr_t) base + 63) & ~(uintptr_t) 63);
	SZ = (double *) (base + pl.offSZ);
	Skey = (double *) (base + pl.offKey);
	SW = (double *) (base + pl.offSW);
	iwork = base + pl.offIwork;
	rec_C = (double *) (base + pl.offRec);
	rec_inertia = rec_C + (size_t) pl.pS.n_init * kd;
	order = (int *) (rec_inertia + pl.pS.n_init);
	cdata = (double *) (base + pl.offCand);
	cand = (ea_cand *) (base + pl.offMeta);
	work = (int64_t *) (base + pl.offWork);
	misc = base + pl.offMisc;
	mu = (double *) misc;
	zero = mu + d;
	tmpd = zero + d;
	split = tmpd + d;
	best = split + kd;
	wci = best + kd;
	sil = wci + k_max;
	Cp = (const double **) (sil + pl.ncmax);
	Rp = Cp + pl.ncmax;
	outs = (ecore_kstep_out *) (Rp + pl.ncmax);
	ks = (int *) (outs + pl.ncmax);

	/* 1: mu, the exact mean (a step of k = 1 from the origin), and total */
	for (i = 0; i < d; i++)
		zero[i] = 0.0;
	ks[0] = 1;
	Cp[0] = zero;
	outs[0].next = mu;
	outs[0].sizes = &size1;
	outs[0].cluster_inertia = &total;
	rc = ea_steps(source, 1, ks, Cp, NULL, outs, sil, work, n, out);
	if (rc != ECORE_OK)
		return rc;
	Cp[0] = mu;
	outs[0].next = tmpd;
	rc = ea_steps(source, 1, ks, Cp, NULL, outs, sil, work, n, out);
	if (rc != ECORE_OK)
		return rc;
	total = outs[0].inertia;
	tol_abs = params->km.tol * (total / ((double) n * (double) d));
	refine_tol = tol_abs * EA_REFINE_TOL;
	if (params->progress != NULL)
		params->progress(params->progress_arg, "mean", 2);

	/* 2: the sample */
	got = 0;
	rc = source->sample(source->arg, mu, total, (int64_t) n, pl.sampled,
						pl.want, SZ, Skey, &got, iwork);
	if (rc != ECORE_OK)
		return rc;
	if (got != pl.want)
		return ECORE_EINVAL_ARG;
	if (pl.sampled)
	{
		double		kappa = Skey[pl.nS];

		for (i = 0; i < pl.nS; i++)
			SW[i] = ecore_coreset_weight(kappa,
										 ecore_coreset_measure(SZ + i * d, d, mu, total,
															   (int64_t) n));
	}
	if (params->progress != NULL)
		params->progress(params->progress_arg, "sample", (int) pl.nS);

	/* 3: restarts on the sample, the candidates of each k */
	rc = ecore_validate_points(SZ, pl.nS, d, env);
	if (rc != ECORE_OK)
		return rc;
	km_attach(&S, &pl.LS, pl.ntS, base + pl.offS, SZ, pl.nS, d, k_max, &pl.pS, env);
	S.tol_abs = tol_abs;
	S.wt = pl.sampled ? SW : NULL;
	S.rec_C = rec_C;
	S.rec_inertia = rec_inertia;
	S.rec_stride = kd;
	for (k = params->k_min; k <= k_max; k++)
	{
		ecore_kmeans_result res;
		size_t		kkd = (size_t) k * d;
		double		bestw;
		int			nrec = pl.pS.n_init,
					ngroups = 0,
					j;

		out->k = k;
		if (!km_enough_distinct(&S, k))
			return ECORE_EDISTINCT;
		if (k >= 2 && S.span2 < KM_MIN_SPAN2)
			return ECORE_EUNDERFLOW;
		memset(&res, 0, sizeof(res));
		pl.pS.k = k;
		S.k = k;
		km_set_margin(&S, NULL, k);
		rc = km_fit_k(&S, &res);
		if (rc != ECORE_OK)
			return rc;
		/* the restarts by (inertia on the sample, index) */
		for (j = 0; j < nrec; j++)
			order[j] = j;
		for (j = 1; j < nrec; j++)
		{
			int			x = order[j],
						y = j;

			while (y > 0 && rec_inertia[order[y - 1]] > rec_inertia[x])
			{
				order[y] = order[y - 1];
				y--;
			}
			order[y] = x;
		}
		for (c = 0; c < nrec && ngroups < pl.refine; c++)
		{
			ea_cand    *e;

			if (c > 0 && rec_inertia[order[c]] <=
				rec_inertia[order[c - 1]] * (1.0 + EA_SAME_BASIN))
				continue;
			ngroups++;
			if (k < 2)
				continue;		/* k = 1: mu and total */
			e = &cand[ncand];
			e->C = cdata + (size_t) ncand * (2 * kd + 2 * (size_t) k_max);
			e->next = e->C + kd;
			e->sizes = (int64_t *) (e->next + kd);
			e->ci = (double *) (e->sizes + k_max);
			e->k = k;
			e->done = 0;
			e->db = NAN;
			e->ch = NAN;
			e->iters = 0;
			memcpy(e->C, rec_C + (size_t) order[c] * kd, kkd * sizeof(double));
			ncand++;
		}
		/* the best clustering of k on the sample, for the next split */
		memcpy(best, rec_C + (size_t) order[0] * kd, kkd * sizeof(double));
		bestw = ea_weighted(SZ, S.wt, pl.nS, d, best, k, wci);
		if (have_split)
		{
			double		w;

			memset(&res, 0, sizeof(res));
			rc = km_fit_from(&S, k, split, &res);
			if (rc != ECORE_OK)
				return rc;
			if (k >= 2)
			{
				ea_cand    *e = &cand[ncand];

				e->C = cdata + (size_t) ncand * (2 * kd + 2 * (size_t) k_max);
				e->next = e->C + kd;
				e->sizes = (int64_t *) (e->next + kd);
				e->ci = (double *) (e->sizes + k_max);
				e->k = k;
				e->done = 0;
				e->db = NAN;
				e->ch = NAN;
				e->iters = 0;
				memcpy(e->C, S.out_centroids, kkd * sizeof(double));
				ncand++;
			}
			w = ea_weighted(SZ, S.wt, pl.nS, d, S.out_centroids, k, tmpd);
			if (w < bestw)
			{
				memcpy(best, S.out_centroids, kkd * sizeof(double));
				bestw = ea_weighted(SZ, S.wt, pl.nS, d, best, k, wci);
			}
		}
		have_split = k < k_max && ea_split_start(SZ, pl.nS, d, best, k, wci, split);
	}
	out->candidates = ncand;
	if (params->progress != NULL)
		params->progress(params->progress_arg, "restarts", ncand);

	/* 3b: the intermediate stage on the larger sample */
	if (pl.stage)
	{
		rc = ea_stage(&pl, base, SZ, Skey, mu, total, n, d, tol_abs, cand, ncand,
					  params->k_min, k_max, env);
		if (rc != ECORE_OK)
			return rc;
		if (params->progress != NULL)
			params->progress(params->progress_arg, "stage sample", (int) pl.nS2);
	}

	/* 4: every candidate refined on all points */
	rules.refine_tol = refine_tol;
	rules.gain = params->km.tol * EA_GAIN;
	rules.max_iter = params->km.max_iter;
	if (params->in_memory)
	{
		rc = ea_refine_memory(source->memory, cand, ncand, params->k_min, k_max,
							  &rules, base + pl.offMem, n, d, env, out, params);
		if (rc != ECORE_OK)
			return rc;
		/*
		 * the silhouettes of each k's best run: one step of them all (on
		 * threads when it is the memory's own step)
		 */
		if (source->steps == ecore_elbow_memory_steps &&
			source->arg == (const void *) source->memory)
		{
			ecore_elbow_memory tm = *source->memory;
			ecore_elbow_agg_source ts = *source;

			tm.n_threads = params->km.n_threads;
			tm.parts = (int64_t *) (base + pl.offParts);
			ts.arg = &tm;
			ts.memory = &tm;
			rc = ea_final_silhouettes(&ts, cand, ncand, params->k_min, k_max,
									  ks, Cp, Rp, outs, sil, work, n, d, out);
		}
		else
			rc = ea_final_silhouettes(source, cand, ncand, params->k_min, k_max,
									  ks, Cp, Rp, outs, sil, work, n, d, out);
		if (rc != ECORE_OK)
			return rc;
	}
	else
	{
		/* one multi-model step of every active candidate a round */
		active = ncand;
		while (active > 0)
		{
			int			first = 0;

			/* the active candidates, in batches of bounded state */
			while (first < ncand)
			{
				int			M = 0,
							j;

				for (c = first; c < ncand; c++)
				{
					size_t		part;

					if (cand[c].done)
						continue;
					ks[M] = cand[c].k;
					part = ecore_ksteps_slots(M + 1, ks, d);
					if (M > 0 && (part == 0 || part + ecore_kstep_slots(k_max, d) > pl.work_slots ||
								  M + 1 > ECORE_KSTEPS_MAX_MODELS))
						break;
					Cp[M] = cand[c].C;
					outs[M].next = cand[c].next;
					outs[M].sizes = cand[c].sizes;
					outs[M].cluster_inertia = cand[c].ci;
					M++;
				}
				if (M == 0)
					break;
				rc = ea_steps(source, M, ks, Cp, NULL, outs, sil, work, n, out);
				if (rc != ECORE_OK)
					return rc;
				/* the results, candidate by candidate */
				j = 0;
				for (; first < c; first++)
				{
					if (cand[first].done)
						continue;
					if (ea_judge(&cand[first], &outs[j], sil[j], d, &rules))
						active--;
					j++;
				}
			}
			for (k = params->k_min; k <= k_max; k++)
				active -= ea_drop(cand, ncand, k);
			if (params->progress != NULL)
				params->progress(params->progress_arg, "step", active);
		}
		/* the indexes of each k's best run (silhouettes: the same bits) */
		if (out->davies_bouldin != NULL)
		{
			rc = ea_final_silhouettes(source, cand, ncand, params->k_min, k_max,
									  ks, Cp, Rp, outs, sil, work, n, d, out);
			if (rc != ECORE_OK)
				return rc;
		}
	}

	/* 5: the rows */
	for (k = params->k_min; k <= k_max; k++)
	{
		int			at = k - params->k_min,
					b = -1;
		double	   *dst = out->centroids != NULL ?
			out->centroids + (size_t) at * kd : NULL;

		if (k == 1)
		{
			out->inertia[at] = total;
			if (out->silhouette != NULL)
				out->silhouette[at] = NAN;
			if (out->davies_bouldin != NULL)
			{
				out->davies_bouldin[at] = NAN;
				out->calinski_harabasz[at] = NAN;
			}
			if (out->iterations != NULL)
				out->iterations[at] = 2;
			if (dst != NULL)
				memcpy(dst, mu, d * sizeof(double));
			continue;
		}
		for (c = 0; c < ncand; c++)
			if (cand[c].k == k && (b < 0 || cand[c].inertia < cand[b].inertia))
				b = c;
		if (b < 0)
			return ECORE_EINVAL_ARG;	/* cannot happen: every k has one */
		out->inertia[at] = cand[b].inertia;
		if (out->silhouette != NULL)
			out->silhouette[at] = cand[b].sil;
		if (out->davies_bouldin != NULL)
		{
			out->davies_bouldin[at] = cand[b].db;
			out->calinski_harabasz[at] = cand[b].ch;
		}
		if (out->iterations != NULL)
			out->iterations[at] = cand[b].iters;
		if (dst != NULL)
			ea_relabel(cand[b].C, k, d, wci, ks, dst);
	}
	out->k = k_max;
	return ECORE_OK;
}

/* ---------------------------------------------------------------------
 * The source of points in memory
 * ---------------------------------------------------------------------
 */

/* One multi-model step over the points in memory */
int
ecore_elbow_memory_steps(void *arg, int M, const int *ks,
						 const double *const *C, const double *const *R,
						 ecore_kstep_out *out, double *sil, int64_t *work)
{
	ecore_elbow_memory *mem = (ecore_elbow_memory *) arg;
	size_t		slots = ecore_ksteps_slots(M, ks, mem->d);
	int			j,
				rc;

	if (slots == 0)
		return ECORE_EINVAL_ARG;
	ecore_ksteps_memory_threads(work, M, ks, mem->d, C, R, mem->fingerprint,
								mem->Z, mem->n, mem->n_threads, mem->parts,
								mem->env);
	for (j = 0; j < M; j++)
	{
		rc = ecore_ksteps_final(work, j, work + slots, &out[j], &sil[j]);
		if (rc != ECORE_OK)
			return rc;
	}
	return ECORE_OK;
}

/* The order of a selection of points in memory (em_select) */
typedef struct em_order
{
	const ecore_elbow_memory *m;
	int			by_hash;		/* first by the sample hash as a signed
								 * 64-bit integer (sample_hash's bigint),
								 * not by the key array */
} em_order;

/*
 * Does point a (key ka) come before point b (key kb): the sample hash as
 * a signed integer (by_hash) or the key, then the key text in C collation
 * (bytes, then length), then the features by value?
 */
static int
em_before(const em_order *o, double ka, size_t a, double kb, size_t b)
{
	const ecore_elbow_memory *m = o->m;
	size_t		la,
				lb,
				f;
	int			r;

	if (o->by_hash)
	{
		int64_t		ha = (int64_t) m->hashes[a],
					hb = (int64_t) m->hashes[b];

		if (ha != hb)
			return ha < hb;
	}
	else if (ka != kb)
		return ka < kb;
	la = m->keylens[a];
	lb = m->keylens[b];
	r = memcmp(m->keys[a], m->keys[b], la < lb ? la : lb);
	if (r != 0)
		return r < 0;
	if (la != lb)
		return la < lb;
	for (f = 0; f < m->d; f++)
	{
		double		xa = m->X[a * m->d + f],
					xb = m->X[b * m->d + f];

		if (xa != xb)
			return xa < xb;
	}
	return 0;
}

/* Swap heap entries a and b (point indices h, keys key) */
static inline void
em_swap(size_t *h, double *key, size_t a, size_t b)
{
	size_t		ti = h[a];
	double		tk = key[a];

	h[a] = h[b];
	key[a] = key[b];
	h[b] = ti;
	key[b] = tk;
}

/* Sift-down in a max-heap (by em_before) of len entries */
static void
em_sift_down(const em_order *o, size_t *h, double *key, size_t root,
			 size_t len)
{
	for (;;)
	{
		size_t		child = 2 * root + 1;

		if (child >= len)
			return;
		if (child + 1 < len &&
			em_before(o, key[child], h[child], key[child + 1], h[child + 1]))
			child++;
		if (!em_before(o, key[root], h[root], key[child], h[child]))
			return;
		em_swap(h, key, root, child);
		root = child;
	}
}

/* Sift-up the last of len entries of a max-heap */
static void
em_sift_up(const em_order *o, size_t *h, double *key, size_t pos)
{
	while (pos > 0)
	{
		size_t		par = (pos - 1) / 2;

		if (!em_before(o, key[par], h[par], key[pos], h[pos]))
			return;
		em_swap(h, key, par, pos);
		pos = par;
	}
}

/*
 * The want first points in memory in an order: by coreset key for mu,
 * total and n (sampled 1), by sample hash (sampled 2), or by key text and
 * features alone (sampled 0), through a max-heap of want entries over one
 * pass; a heap sort puts them in order.  Their normalised points go to SZ
 * and their keys (coreset keys; 0 otherwise) to key.  iwork: want size_t.
 */
static int
em_select(const ecore_elbow_memory *mem, int sampled, const double *mu,
		  double total, size_t want, double *SZ, double *key, size_t *got,
		  void *iwork)
{
	size_t	   *h = (size_t *) iwork;
	size_t		d = mem->d,
				len = 0,
				start,
				end,
				i;
	em_order	o;

	if (want == 0 || want > mem->n)
		return ECORE_EINVAL_ARG;
	o.m = mem;
	o.by_hash = (sampled == 2);
	for (start = 0; start < mem->n; start = end)
	{
		end = ECORE_CHUNK_END(start, mem->n);
		ECORE_CHECK(mem->env);
		for (i = start; i < end; i++)
		{
			double		kk = sampled == 1 ?
				ecore_coreset_key(mem->hashes[i],
								  ecore_coreset_measure(mem->Z + i * d, d, mu, total,
														(int64_t) mem->n)) : 0.0;

			if (len < want)
			{
				h[len] = i;
				key[len] = kk;
				em_sift_up(&o, h, key, len);
				len++;
			}
			else if (em_before(&o, kk, i, key[0], h[0]))
			{
				h[0] = i;
				key[0] = kk;
				em_sift_down(&o, h, key, 0, want);
			}
		}
	}
	/* heap sort: ascending */
	for (i = len; i > 1; i--)
	{
		if ((i & 4095) == 0)
			ECORE_CHECK(mem->env);
		em_swap(h, key, 0, i - 1);
		em_sift_down(&o, h, key, 0, i - 1);
	}
	for (i = 0; i < len; i++)
		memcpy(SZ + i * d, mem->Z + h[i] * d, d * sizeof(double));
	*got = len;
	return ECORE_OK;
}

/*
 * The sample of points in memory: the want smallest by (coreset key, key
 * text, features), or every point sorted by (key text, features) (keys
 * all 0).
 */
int
ecore_elbow_memory_sample(void *arg, const double *mu, double total,
						  int64_t n, int sampled, size_t want, double *SZ,
						  double *key, size_t *got, void *iwork)
{
	ecore_elbow_memory *mem = (ecore_elbow_memory *) arg;

	if ((size_t) n != mem->n)
		return ECORE_EINVAL_ARG;
	return em_select(mem, sampled ? 1 : 0, mu, total, want, SZ, key, got, iwork);
}

/* ---------------------------------------------------------------------
 * The fit of kmeans_fit_sampled (see elbow_agg.h)
 * ---------------------------------------------------------------------
 */

/* Where the fit's block holds what */
typedef struct fs_plan
{
	size_t		want;			/* the sample's points */
	int			sampled;
	size_t		offSZ,
				offC,
				offNext,
				offSizes,
				offCi,
				offNorms,
				offPerm,
				offScratch,
				offSt,
				offAssign,
				offLower,
				offParts,
				offIwork,
				offKey,
				offStartC,		/* with a start: the restarts' candidate */
				offStartSizes,
				offStartCi;
	size_t		block;			/* the fit's own request */
	size_t		kmeans;			/* ecore_kmeans_fit's on the sample */
} fs_plan;

/* Reserve bytes at the end of a plan of *total bytes, 64-byte aligned */
static int
fs_reserve(size_t *total, size_t bytes, size_t *off)
{
	size_t		at = (*total + 63) & ~(size_t) 63;

	if (at < *total || bytes > SIZE_MAX - at)
		return 0;
	*off = at;
	*total = at + bytes;
	return 1;
}

/* Validate the parameters and lay the fit's block out */
static int
fs_plan_make(size_t n, size_t d, const ecore_fit_params *p, int in_memory,
			 fs_plan *pl)
{
	int			k;
	size_t		total = 0,
				slots,
				kd;
	ecore_kmeans_params km;
	int			ok;
	int			rc;

	if (p == NULL)
		return ECORE_EINVAL_ARG;
	if (n < 1)
		return ECORE_EINVAL_N;
	if (d < 1 || d > ECORE_KSTEP_MAX_D)
		return ECORE_EINVAL_D;
	k = p->km.k;
	if (k < 1 || k > ECORE_KSTEP_MAX_K || (size_t) k > n)
		return ECORE_EINVAL_K;
	pl->sampled = p->sample < n;
	pl->want = pl->sampled ? p->sample : n;
	if (pl->want < (size_t) k)
		return ECORE_EINVAL_K;
	km = p->km;
	rc = ecore_kmeans_bytes(pl->want, d, &km, &pl->kmeans);
	if (rc != ECORE_OK)
		return rc;
	slots = ecore_kstep_slots(k, d);
	if (slots == 0)
		return ECORE_EINVAL_K;
	kd = (size_t) k * d;
	if (pl->want > SIZE_MAX / sizeof(double) / d)
		return ECORE_EOVERFLOW;
	ok = fs_reserve(&total, pl->want * d * sizeof(double), &pl->offSZ) &&
		fs_reserve(&total, kd * sizeof(double), &pl->offC) &&
		fs_reserve(&total, kd * sizeof(double), &pl->offNext) &&
		fs_reserve(&total, (size_t) k * sizeof(int64_t), &pl->offSizes) &&
		fs_reserve(&total, (size_t) k * sizeof(double), &pl->offCi) &&
		fs_reserve(&total, (size_t) k * sizeof(double), &pl->offNorms) &&
		fs_reserve(&total, (size_t) k * sizeof(int), &pl->offPerm) &&
		fs_reserve(&total, slots * sizeof(int64_t), &pl->offScratch);
	if (ok && in_memory)
		ok = n <= SIZE_MAX / sizeof(double) &&
			fs_reserve(&total, slots * sizeof(int64_t), &pl->offSt) &&
			fs_reserve(&total, n * sizeof(int32_t), &pl->offAssign) &&
			fs_reserve(&total, n * sizeof(double), &pl->offLower) &&
			fs_reserve(&total, ecore_kstep_delta_parts(k, d, n, p->km.n_threads) *
					   sizeof(int64_t), &pl->offParts) &&
			fs_reserve(&total, pl->want * sizeof(size_t), &pl->offIwork) &&
			fs_reserve(&total, pl->want * sizeof(double), &pl->offKey);
	if (ok && p->start != NULL)
		ok = fs_reserve(&total, kd * sizeof(double), &pl->offStartC) &&
			fs_reserve(&total, (size_t) k * sizeof(int64_t), &pl->offStartSizes) &&
			fs_reserve(&total, (size_t) k * sizeof(double), &pl->offStartCi);
	if (!ok || total > SIZE_MAX - 64)
		return ECORE_EOVERFLOW;
	pl->block = total + 64;		/* room to align the block's start */
	return ECORE_OK;
}

/* Bytes ecore_fit_sampled requests (its block and the restarts') */
int
ecore_fit_sampled_bytes(size_t n, size_t d, const ecore_fit_params *params,
						int in_memory, size_t *bytes)
{
	fs_plan		pl;
	int			rc = fs_plan_make(n, d, params, in_memory, &pl);

	if (rc != ECORE_OK)
		return rc;
	if (pl.block > SIZE_MAX - pl.kmeans)
		return ECORE_EOVERFLOW;
	*bytes = pl.block + pl.kmeans;
	return ECORE_OK;
}

/* The room of a fit's Lloyd steps over every point */
typedef struct fs_steps
{
	const ecore_elbow_memory *mem;	/* or NULL: source->step */
	int64_t    *st;				/* in memory: the step state, */
	int32_t    *assign;			/* the assignments */
	double	   *lower;			/* and the bounds */
	int64_t    *scratch;
	int64_t    *parts;			/* the threads' partial states */
	double	   *next;			/* o's arrays */
	int64_t    *sizes;
	double	   *ci;
} fs_steps;

/*
 * Lloyd steps over every point from the k centroids C (on return: the last
 * centroids a step was evaluated at) until the next centroids are C bit
 * for bit or max_iter steps; that step's output into *o (its arrays
 * w's), the steps into *steps.  Each step is reported to the progress
 * callback as stage.
 */
static int
fs_refine(size_t n, size_t d, const ecore_fit_params *params,
		  const ecore_fit_source *source, ecore_env *env, fs_steps *w,
		  const char *stage, double *C, ecore_kstep_out *o, int *steps)
{
	int			k = params->km.k;
	int			it;
	int			rc;

	memset(o, 0, sizeof(*o));
	o->next = w->next;
	o->sizes = w->sizes;
	o->cluster_inertia = w->ci;
	for (it = 1;; it++)
	{
		if (w->mem != NULL)
		{
			if (it == 1)
				ecore_kstep_init(w->st, k, d, C, w->mem->fingerprint);
			ecore_kstep_delta(w->st, C, it == 1, w->mem->Z, n, w->assign,
							  w->lower, params->km.n_threads, w->parts, env);
			rc = ecore_kstep_final(w->st, w->scratch, o);
		}
		else
			rc = source->step(source->arg, k, C, o);
		if (rc != ECORE_OK)
			return rc;
		if (o->n != (int64_t) n)
			return ECORE_EINVAL_ARG;
		if (params->progress != NULL)
			params->progress(params->progress_arg, stage, it, o->inertia);
		if (o->fixed_point || it >= params->km.max_iter)
			break;
		memcpy(C, w->next, (size_t) k * d * sizeof(double));
	}
	*steps = it;
	return ECORE_OK;
}

/* The fit (see elbow_agg.h) */
int
ecore_fit_sampled(size_t n, size_t d, const ecore_fit_params *params,
				  const ecore_fit_source *source, ecore_env *env,
				  ecore_fit_out *out)
{
	const ecore_elbow_memory *mem;
	fs_plan		pl;
	char	   *base;
	double	   *SZ,
			   *C,
			   *norms;
	int		   *perm;
	fs_steps	w;
	ecore_kmeans_result res;
	ecore_kstep_out o;
	size_t		got = 0,
				kd,
				col;
	int			k,
				it,
				j,
				rc;

	if (source == NULL || out == NULL || out->centroids == NULL ||
		out->sizes == NULL || out->cluster_inertia == NULL ||
		(source->memory == NULL && (source->step == NULL || source->sample == NULL)))
		return ECORE_EINVAL_ARG;
	mem = source->memory;
	if (mem != NULL && (mem->n != n || mem->d != d))
		return ECORE_EINVAL_ARG;
	rc = fs_plan_make(n, d, params, mem != NULL, &pl);
	if (rc != ECORE_OK)
		return rc;
	if (env == NULL || env->alloc == NULL)
		return ECORE_EINVAL_ENV;
	k = params->km.k;
	kd = (size_t) k * d;
	if (params->start != NULL)
		for (j = 0; j < k; j++)
			if (ecore_check_row(params->start + (size_t) j * d, d,
								ECORE_MAX_ABS_CENTROID, &col) != ECORE_OK)
			{
				env->error_row = (size_t) j;
				env->error_col = col;
				return ECORE_EINIT_VALUE;
			}
	base = (char *) env->alloc(env->alloc_arg, pl.block);
	if (base == NULL)
		return ECORE_ENOMEM;
	base = (char *) (((uintptr_t) base + 63) & ~(uintptr_t) 63);
	SZ = (double *) (base + pl.offSZ);
	C = (double *) (base + pl.offC);
	norms = (double *) (base + pl.offNorms);
	perm = (int *) (base + pl.offPerm);
	memset(&w, 0, sizeof(w));
	w.mem = mem;
	w.next = (double *) (base + pl.offNext);
	w.sizes = (int64_t *) (base + pl.offSizes);
	w.ci = (double *) (base + pl.offCi);
	w.scratch = (int64_t *) (base + pl.offScratch);
	if (mem != NULL)
	{
		w.st = (int64_t *) (base + pl.offSt);
		w.assign = (int32_t *) (base + pl.offAssign);
		w.lower = (double *) (base + pl.offLower);
		w.parts = (int64_t *) (base + pl.offParts);
	}
	out->sampled = pl.sampled;
	out->sample_used = pl.want;
	out->start_won = 0;
	out->start_inertia = NAN;

	/* 1: the sample (or every point), normalised, in its order */
	if (mem != NULL)
		rc = em_select(mem, pl.sampled ? 2 : 0, NULL, 0.0, pl.want, SZ,
					   (double *) (base + pl.offKey), &got, base + pl.offIwork);
	else
		rc = source->sample(source->arg, pl.sampled, pl.want, SZ, &got);
	if (rc != ECORE_OK)
		return rc;
	if (got != pl.want)
		return ECORE_EINVAL_ARG;

	/* 2: the restarts on it */
	memset(&res, 0, sizeof(res));
	rc = ecore_kmeans_fit(SZ, pl.want, d, &params->km, env, &res);
	if (rc != ECORE_OK)
		return rc;
	memcpy(C, res.centroids, kd * sizeof(double));
	if (params->progress != NULL)
		params->progress(params->progress_arg, "restarts", params->km.n_init, 0.0);

	/* 3: Lloyd steps over every point to a fixed point or max_iter */
	rc = fs_refine(n, d, params, source, env, &w, "step", C, &o, &it);
	if (rc != ECORE_OK)
		return rc;

	/*
	 * With a start, its candidate the same way; kept when its inertia is
	 * lower (the restarts' on a tie), the restarts' put back otherwise
	 */
	if (params->start != NULL)
	{
		double	   *keepC = (double *) (base + pl.offStartC);
		int64_t    *keepSizes = (int64_t *) (base + pl.offStartSizes);
		double	   *keepCi = (double *) (base + pl.offStartCi);
		ecore_kstep_out keep = o;
		int			keep_it = it;

		memcpy(keepC, C, kd * sizeof(double));
		memcpy(keepSizes, w.sizes, (size_t) k * sizeof(int64_t));
		memcpy(keepCi, w.ci, (size_t) k * sizeof(double));
		memcpy(C, params->start, kd * sizeof(double));
		rc = fs_refine(n, d, params, source, env, &w, "start step", C, &o, &it);
		if (rc != ECORE_OK)
			return rc;
		out->start_inertia = o.inertia;
		out->start_won = o.inertia < keep.inertia;
		if (params->progress != NULL)
			params->progress(params->progress_arg,
							 out->start_won ? "start won" : "start lost",
							 it, o.inertia);
		if (!out->start_won)
		{
			memcpy(C, keepC, kd * sizeof(double));
			memcpy(w.sizes, keepSizes, (size_t) k * sizeof(int64_t));
			memcpy(w.ci, keepCi, (size_t) k * sizeof(double));
			o = keep;
			it = keep_it;
		}
	}

	/* 4: the clusters by ascending norm of their normalised centroid */
	ea_relabel(C, k, d, norms, perm, out->centroids);
	for (j = 0; j < k; j++)
	{
		out->sizes[j] = w.sizes[perm[j]];
		out->cluster_inertia[j] = w.ci[perm[j]];
	}
	out->inertia = o.inertia;
	out->n = o.n;
	out->iterations = it;
	out->converged = o.fixed_point;
	return ECORE_OK;
}
