/*-------------------------------------------------------------------------
 *
 * kmeans_elbow.c
 *	  The elbow curves of engage's K-means (see kmeans.h for the API):
 *	  ecore_kmeans_elbow (the inertia of k = 1..k_max, one fit per k on a
 *	  shared block) and ecore_elbow_curve, the curve of SQL's
 *	  elbow_inertia: per k the n_init restarts plus one run started from
 *	  the previous k's clustering with its worst cluster split, with its
 *	  memory plan, and the optional sample (ecore_sample_hash, priority
 *	  sampling of the points by hash and distance to the mean, weighted
 *	  restarts on the sample whose best candidates are refined on all
 *	  points).
 *
 * The exact path of ecore_elbow_curve (sample 0 or >= n) is bit for bit
 * the fits the SQL glue used to make itself.  The sampled path is what
 * elbow_inertia runs above ECORE_ELBOW_AUTO_EXACT_MAX points (or when
 * asked): a weighted sample (a "lightweight coreset": half uniform, half
 * by squared distance to the mean, so that the few far points that
 * clusters of their own are made of are in it), 3 n_init weighted
 * restarts on it, and the best of the first groups of restarts refined on
 * all points.  Measured (issue 11): every inertia within 1e-4 of the
 * exact path and of scikit-learn's best of 10 on the bench's 1.42 M
 * generated users with a sample of 32,768 (about 5 times faster), and
 * within 1e-3 on TellCo's 106,855 real users with samples of 16,384 to
 * 32,768 for 16 seeds each.  With too small a sample of heavy-tailed data
 * a k can land in a worse local minimum (see the unit tests).
 *
 * The fit machinery (layout, setup, restarts, final pass) is kmeans.c's,
 * shared through kmeans_internal.h.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "kmeans_internal.h"

/*
 * Restarts on the sample whose inertias are each within this (relative)
 * of the previous one in inertia order are taken for one local minimum,
 * stopped by the tolerance at slightly different places: only the first
 * of such a group is refined on all points.
 */
#define EL_SAME_BASIN 1e-4

/* ---------------------------------------------------------------------
 * The inertia curve: one fit per k on a shared block
 * ---------------------------------------------------------------------
 */

/* Parameters of an elbow run: k-means++ unless random init asked. */
static int
elbow_params(const ecore_kmeans_params *params, int k_max,
			 ecore_kmeans_params *p)
{
	if (params == NULL)
		return ECORE_EINVAL_ARG;
	*p = *params;
	if (p->init == ECORE_INIT_USER)
		return ECORE_EINVAL_INIT;
	p->k = k_max;
	return ECORE_OK;
}

/* Bytes requested by ecore_kmeans_elbow(). */
int
ecore_kmeans_elbow_bytes(size_t n, size_t d, int k_max,
						  const ecore_kmeans_params *params, size_t *bytes)
{
	ecore_kmeans_params p;
	int			rc = elbow_params(params, k_max, &p);

	if (rc != ECORE_OK)
		return rc;
	return ecore_kmeans_bytes(n, d, &p, bytes);
}

/* Elbow curve: inertia of k = 1..k_max (see kmeans.h). */
int
ecore_kmeans_elbow(const double *X, size_t n, size_t d, int k_max,
					const ecore_kmeans_params *params, ecore_env *env,
					double *inertia, int *iterations)
{
	ecore_kmeans_params p;
	km_ctx		c;
	ecore_kmeans_result res;
	int			rc,
				k;

	if (inertia == NULL)
		return ECORE_EINVAL_ARG;
	rc = elbow_params(params, k_max, &p);
	if (rc != ECORE_OK)
		return rc;
	rc = km_setup(&c, X, n, d, k_max, &p, env);
	if (rc != ECORE_OK)
		return rc;
	for (k = 1; k <= k_max; k++)
	{
		memset(&res, 0, sizeof(res));
		c.k = k;
		p.k = k;
		rc = km_fit_k(&c, &res);
		if (rc != ECORE_OK)
			return rc;
		inertia[k - 1] = res.inertia;
		if (iterations != NULL)
			iterations[k - 1] = res.iterations;
	}
	return ECORE_OK;
}

/* ---------------------------------------------------------------------
 * The elbow curve of elbow_inertia: split starts and an optional sample
 * ---------------------------------------------------------------------
 */

/* splitmix64's finaliser: a bijection of 64-bit words */
static inline uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Hash of (seed, bytes) that chooses the elbow's sample (see kmeans.h). */
uint64_t
ecore_sample_hash(uint64_t seed, const void *data, size_t len)
{
	const unsigned char *b = (const unsigned char *) data;
	uint64_t	h = mix64(seed ^ UINT64_C(0x9E3779B97F4A7C15)) ^
		((uint64_t) len * UINT64_C(0xD1B54A32D192ED03));
	size_t		i = 0;

	for (;;)
	{
		uint64_t	w = 0;
		size_t		j,
					rest = len - i;

		if (rest > 8)
			rest = 8;
		for (j = 0; j < rest; j++)
			w |= (uint64_t) b[i + j] << (8 * j);
		h = mix64(h ^ w) + UINT64_C(0x9E3779B97F4A7C15);
		i += rest;
		if (i >= len)
			break;
	}
	return mix64(h);
}

/* Fill *params with the defaults of ecore_elbow_curve. */
void
ecore_elbow_params_default(ecore_elbow_params *params)
{
	memset(params, 0, sizeof(*params));
	ecore_kmeans_params_default(&params->km);
	params->k_min = 1;
	params->k_max = 10;
	params->sample = 0;
	params->hashes = NULL;
	params->refine = 0;
	params->sample_n_init = 0;
}

/* An entry of the sample's heap: a point's selection key and index */
typedef struct el_entry
{
	double		key;
	size_t		i;
} el_entry;

/* Where ecore_elbow_curve's block holds what */
typedef struct el_plan
{
	ecore_kmeans_params p;		/* the fit parameters, k = k_max */
	ecore_kmeans_params pS;		/* those of the restarts on the sample */
	int			sampled;		/* restarts on a sample */
	size_t		m;				/* sample size (n when not sampled) */
	int			refine;
	km_layout	LA;				/* all points */
	int			ntA;
	km_layout	LS;				/* the sample */
	int			ntS;
	size_t		offA,
				offS,
				offHeap,		/* m + 1 entries */
				offSX,			/* m x d points, then their m weights */
				offRec,			/* nS x k_max x d centroids, nS inertias,
								 * nS indices (nS: restarts on the
								 * sample) */
				offBuf;			/* (refine + 3) x k_max x d doubles */
	size_t		total;
} el_plan;

/* Reserve bytes at the end of the plan, 64-byte aligned; 0 on overflow. */
static int
el_reserve(el_plan *pl, size_t bytes, size_t *off)
{
	size_t		start = (pl->total + 63) & ~(size_t) 63;

	if (start < pl->total || bytes > SIZE_MAX - start)
		return 0;
	*off = start;
	pl->total = start + bytes;
	return 1;
}

/* Validate the elbow's parameters and lay its block out. */
static int
el_plan_make(size_t n, size_t d, const ecore_elbow_params *ep, el_plan *pl)
{
	size_t		bytes,
				kd;
	int			rc;

	if (ep == NULL)
		return ECORE_EINVAL_ARG;
	memset(pl, 0, sizeof(*pl));
	pl->p = ep->km;
	if (pl->p.init == ECORE_INIT_USER)
		return ECORE_EINVAL_INIT;
	if (ep->k_min < 1 || ep->k_min > ep->k_max)
		return ECORE_EINVAL_K;
	pl->p.k = ep->k_max;
	rc = km_validate_params(n, d, ep->k_max, &pl->p);
	if (rc != ECORE_OK)
		return rc;
	if (ep->sample_n_init < 0 || ep->sample_n_init > ECORE_ELBOW_MAX_SAMPLE_N_INIT)
		return ECORE_EINVAL_ARG;
	pl->pS = pl->p;
	if (pl->p.init != ECORE_INIT_USER)
		pl->pS.n_init = ep->sample_n_init > 0 ? ep->sample_n_init :
			ecore_elbow_sample_n_init(pl->p.n_init);
	if (ep->refine < 0 || ep->refine > pl->pS.n_init)
		return ECORE_EINVAL_ARG;
	pl->refine = ep->refine == 0 ?
		(pl->pS.n_init < ECORE_ELBOW_REFINE ? pl->pS.n_init : ECORE_ELBOW_REFINE) :
		ep->refine;
	pl->sampled = (ep->sample > 0 && ep->sample < n);
	pl->m = pl->sampled ? ep->sample : n;
	if (pl->sampled && (ep->sample < (size_t) ep->k_max || ep->hashes == NULL))
		return ECORE_EINVAL_ARG;

	km_compute_layout(&pl->LA, n, d, ep->k_max, &pl->p);
	if (pl->LA.overflow)
		return ECORE_EOVERFLOW;
	pl->ntA = km_threads(&pl->p);
	if (pl->sampled && pl->ntA > pl->refine + 1)
		pl->ntA = pl->refine + 1;	/* threads share the candidates */
	rc = km_block_bytes(&pl->LA, pl->ntA, &bytes);
	if (rc != ECORE_OK)
		return rc;
	if (!el_reserve(pl, bytes, &pl->offA))
		return ECORE_EOVERFLOW;
	if (pl->sampled)
	{
		km_compute_layout(&pl->LS, pl->m, d, ep->k_max, &pl->pS);
		if (pl->LS.overflow)
			return ECORE_EOVERFLOW;
		pl->ntS = km_threads(&pl->pS);
		rc = km_block_bytes(&pl->LS, pl->ntS, &bytes);
		if (rc != ECORE_OK)
			return rc;
		/* m < n <= SIZE_MAX / d / 8: none of these products overflow */
		if (!el_reserve(pl, bytes, &pl->offS) ||
			!el_reserve(pl, (pl->m + 1) * sizeof(el_entry), &pl->offHeap) ||
			!el_reserve(pl, pl->m * (d + 1) * sizeof(double), &pl->offSX))
			return ECORE_EOVERFLOW;
		if ((size_t) ep->k_max * d > SIZE_MAX / sizeof(double) / (size_t) pl->pS.n_init ||
			!el_reserve(pl, (size_t) pl->pS.n_init *
						((size_t) ep->k_max * d * sizeof(double) + sizeof(double) + sizeof(int)),
						&pl->offRec))
			return ECORE_EOVERFLOW;
	}
	/* keep and split, then the refine + 1 candidates of the sampled path */
	kd = (size_t) ep->k_max * d;
	if (kd > SIZE_MAX / (((size_t) pl->refine + 3) * sizeof(double)) ||
		!el_reserve(pl, ((size_t) pl->refine + 3) * kd * sizeof(double), &pl->offBuf))
		return ECORE_EOVERFLOW;
	/* the allocator's alignment is 8: room to align the start to 64 */
	if (pl->total > SIZE_MAX - 64)
		return ECORE_EOVERFLOW;
	pl->total += 64;
	return ECORE_OK;
}

/* Bytes requested by ecore_elbow_curve(). */
int
ecore_elbow_curve_bytes(size_t n, size_t d, const ecore_elbow_params *params,
						size_t *bytes)
{
	el_plan		pl;
	int			rc;

	if (bytes == NULL)
		return ECORE_EINVAL_ARG;
	rc = el_plan_make(n, d, params, &pl);
	if (rc != ECORE_OK)
		return rc;
	*bytes = pl.total;
	return ECORE_OK;
}

/* Is entry a before entry b: (key, index) order? */
static inline int
el_before(const el_entry *a, const el_entry *b)
{
	return a->key < b->key || (a->key == b->key && a->i < b->i);
}

/* Sift-down in a max-heap of len entries by (key, index). */
static void
el_sift(el_entry *h, size_t root, size_t len)
{
	for (;;)
	{
		size_t		child = 2 * root + 1;
		el_entry	tmp;

		if (child >= len)
			return;
		if (child + 1 < len && el_before(&h[child], &h[child + 1]))
			child++;
		if (!el_before(&h[root], &h[child]))
			return;
		tmp = h[root];
		h[root] = h[child];
		h[child] = tmp;
		root = child;
	}
}

/*
 * The sample's inclusion measure of a point at squared distance d2 from the
 * mean of the points, whose squared distances sum to total: q = 1 / (2n)
 * + d2 / (2 total), half uniform, half by the point's share of the
 * inertia of k = 1 (the "lightweight coreset" of Bachem, Lucic and Krause,
 * 2018): the far points that clusters of their own are made of are in
 * the sample, however few they are.
 */
static inline double
el_measure(double d2, double total, size_t n)
{
	return 0.5 / (double) n + (total > 0.0 ? 0.5 * (d2 / total) : 0.0);
}

/*
 * The sample (see kmeans.h): priority sampling by q (Duffield, Lund and
 * Thorup, 2007).  Point i's key is u_i / q_i, u_i in (0, 1) from its
 * hash; the m points of smallest (key, index) are the sample, copied into
 * SX in that order, and the (m + 1)-th key kappa sets their weights:
 * max(1, 1 / (kappa q_i)), the number of points each stands for (so the
 * weighted inertia of any centroids on the sample estimates their inertia
 * on all points without bias; the farthest points stand for themselves).
 * A max-heap of m + 1 entries over one pass, then a heap sort.  mean (d)
 * and total (the sum of the squared distances to it) are of all points.
 */
static void
el_sample(const double *X, size_t n, size_t d, const uint64_t *hashes,
		  const double *mean, double total, size_t m, el_entry *heap,
		  double *SX, double *SW, ecore_env *env)
{
	size_t		start,
				end,
				i,
				len = 0,
				cap = m + 1;
	double		kappa;

	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(env);
		for (i = start; i < end; i++)
		{
			double		u = ((double) (hashes[i] >> 11) + 0.5) * 0x1.0p-53;
			double		key = u / el_measure(sqdist(X + i * d, mean, d), total, n);

			if (len < cap)
			{
				/* sift-up of the new entry */
				size_t		pos = len++;

				heap[pos].key = key;
				heap[pos].i = i;
				while (pos > 0 && el_before(&heap[(pos - 1) / 2], &heap[pos]))
				{
					el_entry	tmp = heap[pos];

					heap[pos] = heap[(pos - 1) / 2];
					heap[(pos - 1) / 2] = tmp;
					pos = (pos - 1) / 2;
				}
			}
			else if (key < heap[0].key)
			{
				/* i is above every index in the heap: equal keys lose */
				heap[0].key = key;
				heap[0].i = i;
				el_sift(heap, 0, cap);
			}
		}
	}
	/* the (m + 1)-th key sets the weights; the m others are the sample */
	kappa = heap[0].key;
	heap[0] = heap[m];
	el_sift(heap, 0, m);
	for (len = m; len > 1; len--)
	{
		el_entry	tmp = heap[0];

		if ((len & 4095) == 0)
			ECORE_CHECK(env);
		heap[0] = heap[len - 1];
		heap[len - 1] = tmp;
		el_sift(heap, 0, len - 1);
	}
	for (i = 0; i < m; i++)
	{
		const double *x = X + heap[i].i * d;
		double		q = el_measure(sqdist(x, mean, d), total, n);
		double		w = 1.0 / (kappa * q);

		memcpy(SX + i * d, x, d * sizeof(double));
		SW[i] = w > 1.0 ? w : 1.0;
	}
}

/*
 * Fit k clusters on c from the k x d centroids start, one run, single
 * thread (a split start or a refinement), with the margin of those
 * centroids.  The run is not recorded in c's restart records (rec_C,
 * rec_inertia), which keep the restarts of k.  c's own parameters are
 * restored afterwards.
 */
int
km_fit_from(km_ctx *c, int k, const double *start, ecore_kmeans_result *res)
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

/* Fit k clusters on c with the n_init restarts of its parameters. */
static int
el_fit_restarts(km_ctx *c, ecore_kmeans_params *p, int k,
				ecore_kmeans_result *res)
{
	p->k = k;
	c->k = k;
	km_set_margin(c, NULL, k);
	return km_fit_k(c, res);
}

/*
 * The start of the next k's split run (into split, (k + 1) x d) from the
 * clustering in c's outputs: its k centroids, plus the point farthest from
 * its centroid (the first on ties) in the cluster of largest inertia (the
 * first on ties).  0 when every cluster has zero inertia.
 */
static int
el_split_start(const km_ctx *c, int k, double *split)
{
	size_t		d = c->d,
				i,
				far = 0;
	int			worst = 0,
				j,
				found = 0;

	for (j = 1; j < k; j++)
		if (c->out_cluster_inertia[j] > c->out_cluster_inertia[worst])
			worst = j;
	if (!(c->out_cluster_inertia[worst] > 0.0))
		return 0;
	for (i = 0; i < c->n; i++)
		if (c->labels[i] == worst && (!found || c->v[i] > c->v[far]))
		{
			far = i;
			found = 1;
		}
	memcpy(split, c->out_centroids, (size_t) k * d * sizeof(double));
	memcpy(split + (size_t) k * d, c->X + far * d, d * sizeof(double));
	return 1;
}

/* The elbow curve of elbow_inertia (see kmeans.h). */
int
ecore_elbow_curve(const double *X, size_t n, size_t d,
				  const ecore_elbow_params *params, ecore_env *env,
				  ecore_elbow_out *out)
{
	el_plan		pl;
	km_ctx		A,
				S;
	km_ctx	   *R;				/* where the restarts run: A or S */
	char	   *base;
	double	   *keep,
			   *split,
			   *cands,
			   *rec_C = NULL,
			   *rec_inertia = NULL;
	int		   *order = NULL;
	int			have_split = 0,
				k,
				rc;

	if (out == NULL || out->inertia == NULL ||
		(out->davies_bouldin != NULL &&
		 (out->calinski_harabasz == NULL || out->score_work == NULL)))
		return ECORE_EINVAL_ARG;
	rc = el_plan_make(n, d, params, &pl);
	if (rc != ECORE_OK)
		return rc;
	if (env == NULL || env->alloc == NULL)
		return ECORE_EINVAL_ENV;
	if (X == NULL)
		return ECORE_EINVAL_ARG;
	out->k = params->k_min;
	out->sample_used = n;
	rc = ecore_validate_points(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	base = (char *) env->alloc(env->alloc_arg, pl.total);
	if (base == NULL)
		return ECORE_ENOMEM;
	base = (char *) (((uintptr_t) base + 63) & ~(uintptr_t) 63);
	keep = (double *) (base + pl.offBuf);
	split = keep + (size_t) params->k_max * d;
	cands = split + (size_t) params->k_max * d;

	km_attach(&A, &pl.LA, pl.ntA, base + pl.offA, X, n, d, params->k_max,
			  &pl.p, env);
	R = &A;
	if (pl.sampled)
	{
		double	   *SX = (double *) (base + pl.offSX);
		double	   *SW = SX + pl.m * d;
		double		total = 0.0;
		size_t		f;

		/* the sum of the squared distances to the mean: n times the variances */
		for (f = 0; f < d; f++)
			total += A.stats[d + f];
		total *= (double) n;
		el_sample(X, n, d, params->hashes, A.stats, total, pl.m,
				  (el_entry *) (base + pl.offHeap), SX, SW, env);
		km_attach(&S, &pl.LS, pl.ntS, base + pl.offS, SX, pl.m, d,
				  params->k_max, &pl.pS, env);
		/* a sample that cannot hold k_max clusters: the exact path */
		if (!km_enough_distinct(&S, params->k_max) ||
			(params->k_max >= 2 && S.span2 < KM_MIN_SPAN2))
			pl.sampled = 0;
		else
		{
			R = &S;
			out->sample_used = pl.m;
			/* weighted restarts, stopped by the tolerance of all points */
			S.wt = SW;
			S.tol_abs = A.tol_abs;
			rec_C = (double *) (base + pl.offRec);
			rec_inertia = rec_C + (size_t) pl.pS.n_init * params->k_max * d;
			order = (int *) (rec_inertia + pl.pS.n_init);
			S.rec_C = rec_C;
			S.rec_inertia = rec_inertia;
			S.rec_stride = (size_t) params->k_max * d;
		}
	}

	for (k = params->k_min; k <= params->k_max; k++)
	{
		ecore_kmeans_result res,
					alt;
		size_t		kd = (size_t) k * d;
		double		best;
		int			iters,
					last_is_best;

		out->k = k;
		if (!pl.sampled && !km_enough_distinct(&A, k))
			return ECORE_EDISTINCT;
		if (k >= 2 && A.span2 < KM_MIN_SPAN2)
			return ECORE_EUNDERFLOW;

		memset(&res, 0, sizeof(res));
		memset(&alt, 0, sizeof(alt));
		rc = el_fit_restarts(R, R == &S ? &pl.pS : &pl.p, k, &res);
		if (rc != ECORE_OK)
			return rc;
		if (!pl.sampled)
		{
			/* exact: the restarts, then the split run, on all points */
			best = res.inertia;
			iters = res.iterations;
			last_is_best = 1;
			if (have_split)
			{
				memcpy(keep, A.out_centroids, kd * sizeof(double));
				rc = km_fit_from(&A, k, split, &alt);
				if (rc != ECORE_OK)
					return rc;
				if (alt.inertia < best)
				{
					best = alt.inertia;
					iters = alt.iterations;
				}
				else
					last_is_best = 0;
			}
		}
		else
		{
			/*
			 * sampled: the candidates are the best restart on the sample
			 * of each of the refine first groups of restarts in order of
			 * their inertia on the sample (a group: inertias each within
			 * EL_SAME_BASIN of the previous one, the same local minimum
			 * stopped at slightly different places), then the split run
			 * on the sample; each is refined on all points, the lowest
			 * inertia on all points is kept (the first on ties)
			 */
			int			nrec = pl.pS.n_init,
						ncand = 0,
						c,
						j;

			for (j = 0; j < nrec; j++)
				order[j] = j;
			/* insertion sort by (inertia, restart) */
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
			for (c = 0; c < nrec && ncand < pl.refine; c++)
			{
				if (c > 0 && rec_inertia[order[c]] <=
					rec_inertia[order[c - 1]] * (1.0 + EL_SAME_BASIN))
					continue;
				memcpy(cands + (size_t) ncand * kd,
					   rec_C + (size_t) order[c] * S.rec_stride,
					   kd * sizeof(double));
				ncand++;
			}
			if (have_split)
			{
				rc = km_fit_from(&S, k, split, &alt);
				if (rc != ECORE_OK)
					return rc;
				memcpy(cands + (size_t) ncand * kd, S.out_centroids,
					   kd * sizeof(double));
				ncand++;
			}
			/* the candidates refined on all points, on the threads */
			A.k = k;
			A.starts = cands;
			A.n_starts = ncand;
			A.rec_stride = kd;
			km_set_margin(&A, cands, k * ncand);
			rc = km_fit_k(&A, &res);
			A.starts = NULL;
			km_set_margin(&A, NULL, k);
			if (rc != ECORE_OK)
				return rc;
			best = res.inertia;
			iters = res.iterations;
			last_is_best = 1;
		}
		if (!last_is_best)
		{
			/* the outputs of the kept run again: labels, distances, sizes */
			memcpy(A.out_centroids, keep, kd * sizeof(double));
			A.k = k;
			best = km_final_pass(&A);
		}

		out->inertia[k - params->k_min] = best;
		if (out->iterations != NULL)
			out->iterations[k - params->k_min] = iters;
		if (out->centroids != NULL)
			memcpy(out->centroids + (size_t) (k - params->k_min) * params->k_max * d,
				   A.out_centroids, kd * sizeof(double));
		if (out->silhouette != NULL)
		{
			rc = ecore_silhouette_simplified(X, n, d, A.out_centroids, k,
											  A.labels, env,
											  &out->silhouette[k - params->k_min],
											  NULL);
			if (rc != ECORE_OK)
				return rc;
		}
		if (out->davies_bouldin != NULL)
		{
			rc = ecore_cluster_scores(X, n, d, A.labels, k, out->score_work, env,
									   &out->davies_bouldin[k - params->k_min],
									   &out->calinski_harabasz[k - params->k_min]);
			if (rc != ECORE_OK)
				return rc;
		}
		have_split = (k < params->k_max) && el_split_start(&A, k, split);
		if (params->progress != NULL)
			params->progress(params->progress_arg, k, params->k_max);
	}
	return ECORE_OK;
}
