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
	double	   *C;				/* k x d: the centroids evaluated last */
	double	   *next;
	int64_t    *sizes;
	double	   *ci;
} ea_cand;

/* Where the block holds what */
typedef struct ea_plan
{
	ecore_kmeans_params pS;		/* the restarts on the sample */
	int			sampled;
	size_t		nS;				/* points of the sample (m, or n) */
	size_t		want;			/* points the sample callback gives */
	int			refine;
	int			nk;
	int			ncmax;			/* most candidates */
	km_layout	LS;
	int			ntS;
	size_t		work_slots;		/* multi-model state and scratch */
	size_t		offS,
				offSZ,
				offKey,
				offSW,
				offIwork,
				offRec,
				offCand,
				offMeta,
				offWork,
				offMisc;
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
		(size_t) ncmax * (sizeof(int) + sizeof(double *) +
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

/*
 * A run of k clusters on the sample from the k x d centroids start, one
 * thread, not recorded among the restarts (the core's el_fit_from).
 */
static int
ea_fit_from(km_ctx *c, int k, const double *start, ecore_kmeans_result *res)
{
	ecore_kmeans_params pu = *c->p;
	const ecore_kmeans_params *saved = c->p;
	int			saved_nt = c->nthreads;
	double	   *saved_rec_C = c->rec_C;
	double	   *saved_rec_inertia = c->rec_inertia;
	int			rc;

	pu.k = k;
	pu.init = ECORE_INIT_USER;
	pu.init_centroids = start;
	c->p = &pu;
	c->nthreads = 1;
	c->k = k;
	c->rec_C = NULL;
	c->rec_inertia = NULL;
	km_set_margin(c, start, k);
	rc = km_fit_k(c, res);
	c->p = saved;
	c->nthreads = saved_nt;
	c->rec_C = saved_rec_C;
	c->rec_inertia = saved_rec_inertia;
	km_set_margin(c, NULL, k);
	return rc;
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
		 const double *const *C, ecore_kstep_out *outs, double *sil,
		 int64_t *work, size_t n, ecore_elbow_agg_out *out)
{
	int			rc,
				j;

	rc = src->steps(src->arg, M, ks, C, outs, sil, work);
	out->steps++;
	if (rc != ECORE_OK)
		return rc;
	for (j = 0; j < M; j++)
		if (outs[j].n != (int64_t) n)
			return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/* The elbow curve (see elbow_agg.h) */
int
ecore_elbow_agg(size_t n, size_t d, const ecore_elbow_agg_params *params,
				const ecore_elbow_agg_source *source, ecore_env *env,
				ecore_elbow_agg_out *out)
{
	ea_plan		pl;
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
	const double **Cp;
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
		source->steps == NULL || source->sample == NULL)
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
	outs = (ecore_kstep_out *) (Cp + pl.ncmax);
	ks = (int *) (outs + pl.ncmax);

	/* 1: mu, the exact mean (a step of k = 1 from the origin), and total */
	for (i = 0; i < d; i++)
		zero[i] = 0.0;
	ks[0] = 1;
	Cp[0] = zero;
	outs[0].next = mu;
	outs[0].sizes = &size1;
	outs[0].cluster_inertia = &total;
	rc = ea_steps(source, 1, ks, Cp, outs, sil, work, n, out);
	if (rc != ECORE_OK)
		return rc;
	Cp[0] = mu;
	outs[0].next = tmpd;
	rc = ea_steps(source, 1, ks, Cp, outs, sil, work, n, out);
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
			rc = ea_fit_from(&S, k, split, &res);
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

	/* 4: every candidate refined on all points, one multi-model step a round */
	active = ncand;
	while (active > 0)
	{
		int			first = 0;

		/* the active candidates, in batches of bounded state */
		while (first < ncand)
		{
			int			M = 0,
						j;
			size_t		slots = 0;

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
				slots = part;
				Cp[M] = cand[c].C;
				outs[M].next = cand[c].next;
				outs[M].sizes = cand[c].sizes;
				outs[M].cluster_inertia = cand[c].ci;
				M++;
			}
			(void) slots;
			if (M == 0)
				break;
			rc = ea_steps(source, M, ks, Cp, outs, sil, work, n, out);
			if (rc != ECORE_OK)
				return rc;
			/* the results, candidate by candidate */
			j = 0;
			for (; first < c; first++)
			{
				ea_cand    *e = &cand[first];
				size_t		ekd,
							f;
				double		shift = 0.0;

				if (e->done)
					continue;
				ekd = (size_t) e->k * d;
				e->iters++;
				e->inertia = outs[j].inertia;
				e->sil = sil[j];
				for (f = 0; f < ekd; f++)
				{
					double		t = e->next[f] - e->C[f];

					shift += t * t;
				}
				if (outs[j].fixed_point || shift <= refine_tol ||
					e->iters >= params->km.max_iter)
				{
					e->done = 1;
					active--;
				}
				else
					memcpy(e->C, e->next, ekd * sizeof(double));
				j++;
			}
		}
		if (params->progress != NULL)
			params->progress(params->progress_arg, "step", active);
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
						 const double *const *C, ecore_kstep_out *out,
						 double *sil, int64_t *work)
{
	ecore_elbow_memory *mem = (ecore_elbow_memory *) arg;
	size_t		slots = ecore_ksteps_slots(M, ks, mem->d);
	int			j,
				rc;

	if (slots == 0)
		return ECORE_EINVAL_ARG;
	ecore_ksteps_memory(work, M, ks, mem->d, C, mem->fingerprint, mem->Z,
						mem->n, mem->env);
	for (j = 0; j < M; j++)
	{
		rc = ecore_ksteps_final(work, j, work + slots, &out[j], &sil[j]);
		if (rc != ECORE_OK)
			return rc;
	}
	return ECORE_OK;
}

/*
 * Does point a (coreset key ka) come before point b (key kb): coreset key,
 * key text in C collation (bytes, then length), then features by value?
 */
static int
em_before(const ecore_elbow_memory *m, double ka, size_t a, double kb, size_t b)
{
	size_t		la,
				lb,
				f;
	int			r;

	if (ka != kb)
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
em_sift_down(const ecore_elbow_memory *m, size_t *h, double *key, size_t root,
			 size_t len)
{
	for (;;)
	{
		size_t		child = 2 * root + 1;

		if (child >= len)
			return;
		if (child + 1 < len &&
			em_before(m, key[child], h[child], key[child + 1], h[child + 1]))
			child++;
		if (!em_before(m, key[root], h[root], key[child], h[child]))
			return;
		em_swap(h, key, root, child);
		root = child;
	}
}

/* Sift-up the last of len entries of a max-heap */
static void
em_sift_up(const ecore_elbow_memory *m, size_t *h, double *key, size_t pos)
{
	while (pos > 0)
	{
		size_t		par = (pos - 1) / 2;

		if (!em_before(m, key[par], h[par], key[pos], h[pos]))
			return;
		em_swap(h, key, par, pos);
		pos = par;
	}
}

/*
 * The sample of points in memory: the want smallest by (coreset key, key
 * text, features) through a max-heap of want entries over one pass; or
 * every point sorted by (key text, features) (keys all 0).  A heap sort
 * puts them in order.
 */
int
ecore_elbow_memory_sample(void *arg, const double *mu, double total,
						  int64_t n, int sampled, size_t want, double *SZ,
						  double *key, size_t *got, void *iwork)
{
	ecore_elbow_memory *mem = (ecore_elbow_memory *) arg;
	size_t	   *h = (size_t *) iwork;
	size_t		d = mem->d,
				len = 0,
				start,
				end,
				i;

	if ((size_t) n != mem->n || want == 0 || want > mem->n)
		return ECORE_EINVAL_ARG;
	for (start = 0; start < mem->n; start = end)
	{
		end = ECORE_CHUNK_END(start, mem->n);
		ECORE_CHECK(mem->env);
		for (i = start; i < end; i++)
		{
			double		kk = sampled ?
				ecore_coreset_key(mem->hashes[i],
								  ecore_coreset_measure(mem->Z + i * d, d, mu, total, n)) : 0.0;

			if (len < want)
			{
				h[len] = i;
				key[len] = kk;
				em_sift_up(mem, h, key, len);
				len++;
			}
			else if (em_before(mem, kk, i, key[0], h[0]))
			{
				h[0] = i;
				key[0] = kk;
				em_sift_down(mem, h, key, 0, want);
			}
		}
	}
	/* heap sort: ascending */
	for (i = len; i > 1; i--)
	{
		if ((i & 4095) == 0)
			ECORE_CHECK(mem->env);
		em_swap(h, key, 0, i - 1);
		em_sift_down(mem, h, key, 0, i - 1);
	}
	for (i = 0; i < len; i++)
		memcpy(SZ + i * d, mem->Z + h[i] * d, d * sizeof(double));
	*got = len;
	return ECORE_OK;
}
