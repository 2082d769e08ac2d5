/*-------------------------------------------------------------------------
 *
 * kmeans.c
 *	  K-means numerical core of engage (see kmeans.h for the API): the
 *	  memory layout of a fit, parameters and their validation, the setup
 *	  shared by fit and the elbows (validation of the points, the single
 *	  allocation, column statistics, distinct-point check), the n_init
 *	  restarts and the threads that share them, the relabelling of the
 *	  kept centroids and the final pass, and ecore_kmeans_fit.
 *
 * The other stages are in kmeans_seed.c (initialisation), kmeans_lloyd.c
 * (Lloyd iterations), kmeans_eval.c (assign, inertia, silhouette) and
 * kmeans_elbow.c (the elbow curves); what they share is in
 * kmeans_internal.h.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
/* pthread_sigmask, sigfillset: POSIX (the unit tests build with -std=c99) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "kmeans_internal.h"

#include <float.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <time.h>

/* Relative safety margin of the Hamerly bound tests (times the diameter). */
#define KM_MARGIN_REL 1e-8

/* Most k-means++ candidates per centroid accepted in n_local_trials. */
#define KM_MAX_TRIALS 1024

/* ---------------------------------------------------------------------
 * Memory layout: one block carved into arrays
 * ---------------------------------------------------------------------
 */

/* Reserve count elements of elem bytes (8-byte aligned); returns offset. */
static size_t
lay_reserve(km_layout *L, size_t count, size_t elem)
{
	size_t		off = L->total;
	size_t		bytes;

	if (L->overflow)
		return 0;
	if (count != 0 && elem > SIZE_MAX / count)
	{
		L->overflow = 1;
		return 0;
	}
	bytes = count * elem;
	if (bytes > SIZE_MAX - 7)
	{
		L->overflow = 1;
		return 0;
	}
	bytes = (bytes + 7) & ~(size_t) 7;
	if (bytes > SIZE_MAX - L->total)
	{
		L->overflow = 1;
		return 0;
	}
	L->total += bytes;
	return off;
}

/* Hash table slots for k keys: a power of two >= 2k, at least 16. */
static size_t
hash_capacity(int k)
{
	size_t		cap = 16;

	while (cap < (size_t) k * 2 && cap <= SIZE_MAX / 4)
		cap *= 2;
	return cap;
}

/* Default number of k-means++ local trials: 2 + floor(ln k). */
static int
default_trials(int k)
{
	return 2 + (int) floor(log((double) k));
}

/* Compute the layout of a fit of n x d points with k clusters. */
void
km_compute_layout(km_layout *L, size_t n, size_t d, int k,
				  const ecore_kmeans_params *p)
{
	size_t		kd = 0;
	int			need_w;

	memset(L, 0, sizeof(*L));
	L->T = p->n_local_trials > 0 ? p->n_local_trials : default_trials(k);
	L->hash_cap = hash_capacity(k);
	if ((size_t) k > SIZE_MAX / d)
	{
		L->overflow = 1;
		return;
	}
	kd = (size_t) k * d;
	need_w = (p->algorithm == ECORE_ALGO_HAMERLY ||
			  p->init == ECORE_INIT_KMEANSPP);

	/* doubles first */
	L->centroids = lay_reserve(L, kd, sizeof(double));
	L->cluster_inertia = lay_reserve(L, (size_t) k, sizeof(double));
	L->distances = lay_reserve(L, n, sizeof(double));
	L->w = need_w ? lay_reserve(L, n, sizeof(double)) : (size_t) -1;
	L->C = lay_reserve(L, kd, sizeof(double));
	L->Cnew = lay_reserve(L, kd, sizeof(double));
	L->best_C = lay_reserve(L, kd, sizeof(double));
	L->sums = lay_reserve(L, kd, sizeof(double));
	L->wsum = lay_reserve(L, (size_t) k, sizeof(double));
	L->P = lay_reserve(L, (size_t) k, sizeof(double));
	L->Mo = lay_reserve(L, (size_t) k, sizeof(double));
	L->s_half = lay_reserve(L, (size_t) k, sizeof(double));
	L->norms = lay_reserve(L, (size_t) k, sizeof(double));
	L->stats = lay_reserve(L, d, 6 * sizeof(double));
	L->cand_C = lay_reserve(L, (size_t) L->T, d * sizeof(double));
	L->cand_pot = lay_reserve(L, (size_t) L->T, sizeof(double));
	L->rvals = lay_reserve(L, (size_t) L->T, sizeof(double));
	L->scratch_bound = lay_reserve(L, n < ECORE_CHECK_CHUNK ? n : ECORE_CHECK_CHUNK,
								   sizeof(double));
	/* then 8-byte integers */
	L->sizes = lay_reserve(L, (size_t) k, sizeof(int64_t));
	L->counts = lay_reserve(L, (size_t) k, sizeof(int64_t));
	L->hash = lay_reserve(L, L->hash_cap, sizeof(size_t));
	L->cand = lay_reserve(L, (size_t) L->T, sizeof(size_t));
	/* then 4-byte integers */
	L->labels = lay_reserve(L, n, sizeof(int32_t));
	L->perm = lay_reserve(L, (size_t) k, sizeof(int32_t));
	L->empties = lay_reserve(L, (size_t) k, sizeof(int32_t));
	L->rorder = lay_reserve(L, (size_t) L->T, sizeof(int32_t));
	L->scratch_idx = lay_reserve(L, n < ECORE_CHECK_CHUNK ? n : ECORE_CHECK_CHUNK,
								 sizeof(uint32_t));
}

/* ---------------------------------------------------------------------
 * Parameters and validation
 * ---------------------------------------------------------------------
 */

/* Parse an initialisation name. */
int
ecore_kmeans_init_parse(const char *name, ecore_kmeans_init *init)
{
	if (name == NULL || init == NULL)
		return ECORE_EINVAL_ARG;
	if (ecore_name_equal(name, "k-means++"))
		*init = ECORE_INIT_KMEANSPP;
	else if (ecore_name_equal(name, "random"))
		*init = ECORE_INIT_RANDOM;
	else if (ecore_name_equal(name, "given"))
		*init = ECORE_INIT_USER;
	else
		return ECORE_EINVAL_INIT;
	return ECORE_OK;
}

/* Name of an initialisation. */
const char *
ecore_kmeans_init_name(ecore_kmeans_init init)
{
	switch (init)
	{
		case ECORE_INIT_KMEANSPP:
			return "k-means++";
		case ECORE_INIT_RANDOM:
			return "random";
		case ECORE_INIT_USER:
			return "given";
	}
	return NULL;
}

/* Validate k x d centroids (see kmeans_internal.h). */
int
km_validate_centroids(const double *C, int k, size_t d, ecore_env *env)
{
	size_t		col = 0;
	int			j;

	if (C == NULL)
		return ECORE_EINVAL_ARG;
	for (j = 0; j < k; j++)
	{
		if (ecore_check_row(C + (size_t) j * d, d, ECORE_MAX_ABS_CENTROID, &col) != ECORE_OK)
		{
			env->error_row = (size_t) j;
			env->error_col = col;
			return ECORE_EINIT_VALUE;
		}
	}
	return ECORE_OK;
}

/* Threads a fit uses: n_threads, at most one per restart. */
int
km_threads(const ecore_kmeans_params *p)
{
	int			n_init = (p->init == ECORE_INIT_USER) ? 1 : p->n_init;
	int			t = p->n_threads < 1 ? 1 : p->n_threads;

	return t < n_init ? t : n_init;
}

/* Validate the parameters of a fit with k clusters. */
int
km_validate_params(size_t n, size_t d, int k, const ecore_kmeans_params *p)
{
	if (p == NULL)
		return ECORE_EINVAL_ARG;
	if (n < 1)
		return ECORE_EINVAL_N;
	if (d < 1)
		return ECORE_EINVAL_D;
	if (n > SIZE_MAX / d / sizeof(double))
		return ECORE_EOVERFLOW;
	if (k < 1 || (size_t) k > n)
		return ECORE_EINVAL_K;
	if (p->init != ECORE_INIT_KMEANSPP && p->init != ECORE_INIT_RANDOM &&
		p->init != ECORE_INIT_USER)
		return ECORE_EINVAL_INIT;
	if (p->init == ECORE_INIT_USER && p->init_centroids == NULL)
		return ECORE_EINVAL_INIT;
	if (p->algorithm != ECORE_ALGO_HAMERLY && p->algorithm != ECORE_ALGO_LLOYD)
		return ECORE_EINVAL_ALGORITHM;
	if (p->n_init < 1)
		return ECORE_EINVAL_NINIT;
	if (p->max_iter < 1)
		return ECORE_EINVAL_MAXITER;
	if (!isfinite(p->tol) || p->tol < 0.0)
		return ECORE_EINVAL_TOL;
	if (p->n_local_trials < 0 || p->n_local_trials > KM_MAX_TRIALS)
		return ECORE_EINVAL_ARG;
	if (p->n_threads < 0 || p->n_threads > ECORE_MAX_THREADS)
		return ECORE_EINVAL_ARG;
	return ECORE_OK;
}

/* Fill *params with the defaults. */
void
ecore_kmeans_params_default(ecore_kmeans_params *params)
{
	memset(params, 0, sizeof(*params));
	params->k = 3;
	params->init = ECORE_INIT_KMEANSPP;
	params->init_centroids = NULL;
	params->n_init = 10;
	params->max_iter = 300;
	params->tol = 1e-4;
	params->seed = 0;
	params->algorithm = ECORE_ALGO_HAMERLY;
	params->n_local_trials = 0;
	params->n_threads = 1;
}

/* Bytes requested by ecore_kmeans_fit(). */
int
ecore_kmeans_bytes(size_t n, size_t d, const ecore_kmeans_params *params,
					size_t *bytes)
{
	km_layout	L;
	int			rc;

	if (bytes == NULL)
		return ECORE_EINVAL_ARG;
	rc = km_validate_params(n, d, params ? params->k : 0, params);
	if (rc != ECORE_OK)
		return rc;
	km_compute_layout(&L, n, d, params->k, params);
	if (L.overflow)
		return ECORE_EOVERFLOW;
	return km_block_bytes(&L, km_threads(params), bytes);
}

/* ---------------------------------------------------------------------
 * Fit context
 * ---------------------------------------------------------------------
 */

/* Carve the block into the arrays of the context. */
static void
km_carve(km_ctx *c, const km_layout *L, char *base)
{
	c->hash_cap = L->hash_cap;
	c->out_centroids = (double *) (base + L->centroids);
	c->out_cluster_inertia = (double *) (base + L->cluster_inertia);
	c->out_sizes = (int64_t *) (base + L->sizes);
	c->v = (double *) (base + L->distances);
	c->w = L->w == (size_t) -1 ? NULL : (double *) (base + L->w);
	c->labels = (int32_t *) (base + L->labels);
	c->C = (double *) (base + L->C);
	c->Cnew = (double *) (base + L->Cnew);
	c->best_C = (double *) (base + L->best_C);
	c->sums = (double *) (base + L->sums);
	c->wsum = (double *) (base + L->wsum);
	c->P = (double *) (base + L->P);
	c->Mo = (double *) (base + L->Mo);
	c->s_half = (double *) (base + L->s_half);
	c->norms = (double *) (base + L->norms);
	c->stats = (double *) (base + L->stats);
	c->cand_C = (double *) (base + L->cand_C);
	c->cand_pot = (double *) (base + L->cand_pot);
	c->rvals = (double *) (base + L->rvals);
	c->counts = (int64_t *) (base + L->counts);
	c->hash = (size_t *) (base + L->hash);
	c->cand = (size_t *) (base + L->cand);
	c->perm = (int32_t *) (base + L->perm);
	c->empties = (int32_t *) (base + L->empties);
	c->rorder = (int32_t *) (base + L->rorder);
	c->scratch_idx = (uint32_t *) (base + L->scratch_idx);
	c->scratch_bound = (double *) (base + L->scratch_bound);
}

/*
 * Per-feature mean, population variance, min and max of the points (two
 * passes, chunked sums).  Writes stats[0..4d).
 */
static void
km_column_stats(km_ctx *c)
{
	const double *X = c->X;
	size_t		n = c->n,
				d = c->d,
				start,
				end,
				i,
				j;
	double	   *mean = c->stats;
	double	   *var = c->stats + d;
	double	   *mn = c->stats + 2 * d;
	double	   *mx = c->stats + 3 * d;
	double	   *acc = c->stats + 4 * d;

	for (j = 0; j < d; j++)
	{
		mean[j] = 0.0;
		var[j] = 0.0;
		mn[j] = X[j];
		mx[j] = X[j];
	}
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (j = 0; j < d; j++)
			acc[j] = 0.0;
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				acc[j] += x[j];
				if (x[j] < mn[j])
					mn[j] = x[j];
				if (x[j] > mx[j])
					mx[j] = x[j];
			}
		}
		for (j = 0; j < d; j++)
			mean[j] += acc[j];
	}
	for (j = 0; j < d; j++)
		mean[j] /= (double) n;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (j = 0; j < d; j++)
			acc[j] = 0.0;
		for (i = start; i < end; i++)
		{
			const double *x = X + i * d;

			for (j = 0; j < d; j++)
			{
				double		t = x[j] - mean[j];

				acc[j] += t * t;
			}
		}
		for (j = 0; j < d; j++)
			var[j] += acc[j];
	}
	for (j = 0; j < d; j++)
		var[j] /= (double) n;
}

/* ---------------------------------------------------------------------
 * Relabelling and final pass
 * ---------------------------------------------------------------------
 */

/* Order of clusters a and b: norm, then lexicographic, then index. */
static int
cluster_cmp(const km_ctx *c, const double *C, int32_t a, int32_t b)
{
	size_t		f,
				d = c->d;

	if (c->norms[a] < c->norms[b])
		return -1;
	if (c->norms[a] > c->norms[b])
		return 1;
	for (f = 0; f < d; f++)
	{
		double		x = C[(size_t) a * d + f];
		double		y = C[(size_t) b * d + f];

		if (x < y)
			return -1;
		if (x > y)
			return 1;
	}
	return a < b ? -1 : (a > b ? 1 : 0);
}

/* Sift-down of a max-heap of cluster indices (heap sort helper). */
static void
heap_sift(const km_ctx *c, const double *C, int32_t *h, int root, int len)
{
	for (;;)
	{
		int			child = 2 * root + 1;
		int32_t		tmp;

		if (child >= len)
			return;
		if (child + 1 < len && cluster_cmp(c, C, h[child], h[child + 1]) < 0)
			child++;
		if (cluster_cmp(c, C, h[root], h[child]) >= 0)
			return;
		tmp = h[root];
		h[root] = h[child];
		h[child] = tmp;
		root = child;
	}
}

/*
 * Write the centroids C (k x d) into out sorted by ascending Euclidean
 * norm (ties: lexicographic, then original index).
 */
static void
km_relabel(km_ctx *c, const double *C, double *out)
{
	int			k = c->k,
				j,
				len;
	size_t		d = c->d;
	int32_t    *h = c->perm;
	int32_t		tmp;

	for (j = 0; j < k; j++)
	{
		double		s = 0.0;
		size_t		f;

		for (f = 0; f < d; f++)
			s += C[(size_t) j * d + f] * C[(size_t) j * d + f];
		c->norms[j] = sqrt(s);
		h[j] = j;
	}
	for (j = k / 2 - 1; j >= 0; j--)
		heap_sift(c, C, h, j, k);
	for (len = k - 1; len > 0; len--)
	{
		tmp = h[0];
		h[0] = h[len];
		h[len] = tmp;
		heap_sift(c, C, h, 0, len);
	}
	for (j = 0; j < k; j++)
		memcpy(out + (size_t) j * d, C + (size_t) h[j] * d, d * sizeof(double));
}

/*
 * Final pass over the kept centroids (already relabelled, in
 * out_centroids): labels, distances, sizes, per-cluster inertia.
 * Returns the total inertia (sum of the per-cluster inertias).
 */
KM_INLINE double
final_pass_impl(km_ctx *c, size_t d)
{
	const double *C = c->out_centroids;
	const double *X = c->X;
	int32_t    *labels = c->labels;
	double	   *dist = c->v;
	int64_t    *sizes = c->out_sizes;
	double	   *cin = c->out_cluster_inertia;
	size_t		n = c->n,
				start,
				end,
				i;
	int			k = c->k,
				j;
	double		total = 0.0;

	memset(sizes, 0, (size_t) k * sizeof(int64_t));
	for (j = 0; j < k; j++)
		cin[j] = 0.0;
	for (start = 0; start < n; start = end)
	{
		end = ECORE_CHUNK_END(start, n);
		ECORE_CHECK(c->env);
		for (i = start; i < end; i++)
		{
			double		b1,
						b2;
			int32_t		b = nearest2(X + i * d, C, k, d, &b1, &b2);

			labels[i] = b;
			dist[i] = sqrt(b1);
			sizes[b]++;
			cin[b] += b1;
		}
	}
	for (j = 0; j < k; j++)
		total += cin[j];
	return total;
}

/* final_pass_impl for the dimension of the data (see kmeans_internal.h). */
KM_NOINLINE_EXTERN double
km_final_pass(km_ctx *c)
{
	double		total = 0.0;

	KM_DISPATCH(c->d, total = final_pass_impl(c, D_));
	return total;
}

/* ---------------------------------------------------------------------
 * Restarts, threads and fit
 * ---------------------------------------------------------------------
 */

/* The best restart of a share of the restarts */
typedef struct km_best
{
	int			r;				/* restart index, -1 when none ran */
	double		inertia;
	int			iters;
	int			conv;
} km_best;

/*
 * Run restarts first, first + step, ... < n_init on c's workspace; the
 * best (lowest inertia, then lowest restart index) goes to *best and its
 * centroids to c->best_C.
 */
static void
km_run_restarts(km_ctx *c, int first, int step, int n_init, km_best *best)
{
	const ecore_kmeans_params *p = c->p;
	size_t		kd = (size_t) c->k * c->d;
	ecore_rng	rng;
	int			r,
				iters,
				conv;
	double		inertia;

	best->r = -1;
	for (r = first; r < n_init; r += step)
	{
		ecore_rng_seed(&rng, p->seed, (uint64_t) r);
		if (c->starts != NULL)
			memcpy(c->C, c->starts + (size_t) r * c->rec_stride, kd * sizeof(double));
		else if (p->init == ECORE_INIT_USER)
			memcpy(c->C, p->init_centroids, kd * sizeof(double));
		else if (p->init == ECORE_INIT_RANDOM)
			km_init_random(c, &rng);
		else
			km_init_pp(c, &rng);
		inertia = km_lloyd(c, n_init > 1 || c->rec_C != NULL, &iters, &conv);
		if (c->rec_C != NULL)
		{
			memcpy(c->rec_C + (size_t) r * c->rec_stride, c->C, kd * sizeof(double));
			c->rec_inertia[r] = inertia;
		}
		if (best->r < 0 || inertia < best->inertia)
		{
			best->r = r;
			best->inertia = inertia;
			best->iters = iters;
			best->conv = conv;
			memcpy(c->best_C, c->C, kd * sizeof(double));
		}
	}
}

/* A thread running a share of the restarts on its own workspace */
typedef struct km_worker
{
	km_ctx		c;
	ecore_env	env;			/* check = km_worker_check, no alloc */
	volatile int *stop;
	jmp_buf		jump;			/* where km_worker_check lands on stop */
	int			first;
	int			step;
	int			n_init;
	km_best		best;
	int			interrupted;
	volatile int done;			/* set by the thread as it ends */
	int			started;
	pthread_t	thread;
} km_worker;

/* The threads of one fit, for the abort hook */
typedef struct km_pool
{
	km_worker  *workers;
	int			count;			/* workers (threads besides the caller's) */
	volatile int stop;
} km_pool;

/* Bytes of a fit's block with nthreads workspaces. */
int
km_block_bytes(const km_layout *L, int nthreads, size_t *bytes)
{
	size_t		stride = (L->total + 63) & ~(size_t) 63;
	size_t		t = (size_t) nthreads;

	if (stride < L->total || stride > (SIZE_MAX - 64) / t)
		return ECORE_EOVERFLOW;
	*bytes = stride * t + 64 + (t - 1) * sizeof(km_worker);
	return ECORE_OK;
}

/* Check of a worker thread: leave its restarts when the fit stops. */
static void
km_worker_check(void *arg)
{
	km_worker  *w = (km_worker *) arg;

#if defined(__GNUC__) || defined(__clang__)
	if (__atomic_load_n(w->stop, __ATOMIC_ACQUIRE))
#else
	if (*w->stop)
#endif
		longjmp(w->jump, 1);
}

/* Body of a worker thread. */
static void *
km_worker_main(void *arg)
{
	km_worker  *w = (km_worker *) arg;

	if (setjmp(w->jump) == 0)
		km_run_restarts(&w->c, w->first, w->step, w->n_init, &w->best);
	else
		w->interrupted = 1;
#if defined(__GNUC__) || defined(__clang__)
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
#else
	w->done = 1;
#endif
	return NULL;
}

/* Stop the workers of a pool and wait for them (also the abort hook). */
static void
km_pool_stop(void *arg)
{
	km_pool    *pool = (km_pool *) arg;
	int			t;

#if defined(__GNUC__) || defined(__clang__)
	__atomic_store_n(&pool->stop, 1, __ATOMIC_RELEASE);
#else
	pool->stop = 1;
#endif
	for (t = 0; t < pool->count; t++)
		if (pool->workers[t].started)
		{
			pthread_join(pool->workers[t].thread, NULL);
			pool->workers[t].started = 0;
		}
}

/*
 * Run the restarts on c->nthreads threads (the caller's included): worker
 * t runs restarts t, t + nthreads, ...; the best is merged into c->best_C
 * and *best.  A worker that cannot be started has its share run by the
 * caller afterwards, so the result is the same.
 */
static void
km_run_threaded(km_ctx *c, int n_init, km_best *best)
{
	int			nt = c->nthreads;
	size_t		stride = (c->layout.total + 63) & ~(size_t) 63;
	size_t		kd = (size_t) c->k * c->d;
	char	   *wbase = c->block + stride * (size_t) nt;
	km_pool		pool;
	sigset_t	all,
				old;
	int			t;

	pool.workers = (km_worker *) (((uintptr_t) wbase + 63) & ~(uintptr_t) 63);
	pool.count = nt - 1;
	pool.stop = 0;
	for (t = 1; t < nt; t++)
	{
		km_worker  *w = &pool.workers[t - 1];

		memset(w, 0, sizeof(*w));
		w->c = *c;
		km_carve(&w->c, &c->layout, c->block + stride * (size_t) t);
		memcpy(w->c.stats, c->stats, 6 * c->d * sizeof(double));
		w->env = *c->env;
		w->env.alloc = NULL;
		w->env.check = km_worker_check;
		w->env.check_arg = w;
		w->env.abort_hook = NULL;
		w->c.env = &w->env;
		w->stop = &pool.stop;
		w->first = t;
		w->step = nt;
		w->n_init = n_init;
	}

	/* the workers start with every signal blocked: signals are the caller's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (t = 0; t < pool.count; t++)
		pool.workers[t].started =
			(pthread_create(&pool.workers[t].thread, NULL, km_worker_main,
							&pool.workers[t]) == 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	c->env->abort_hook = km_pool_stop;
	c->env->abort_arg = &pool;
	km_run_restarts(c, 0, nt, n_init, best);
	for (t = 0; t < pool.count; t++)
		if (pool.workers[t].started)
		{
			/*
			 * Wait for the worker, still answering interrupts every
			 * millisecond: its restarts may take seconds after ours, and
			 * the check's abort hook stops and joins it on a cancel.
			 */
#if defined(__GNUC__) || defined(__clang__)
			while (!__atomic_load_n(&pool.workers[t].done, __ATOMIC_ACQUIRE))
#else
			while (!pool.workers[t].done)
#endif
			{
				struct timespec ms = {0, 1000000};

				ECORE_CHECK(c->env);
				nanosleep(&ms, NULL);
			}
			pthread_join(pool.workers[t].thread, NULL);
			pool.workers[t].started = 0;
		}
	c->env->abort_hook = NULL;
	c->env->abort_arg = NULL;

	for (t = 0; t < pool.count; t++)
	{
		km_worker  *w = &pool.workers[t];

		if (w->best.r < 0 && !w->interrupted)
			/* never started: run its share here */
			km_run_restarts(&w->c, w->first, w->step, w->n_init, &w->best);
		if (w->best.r >= 0 &&
			(w->best.inertia < best->inertia ||
			 (w->best.inertia == best->inertia && w->best.r < best->r)))
		{
			*best = w->best;
			memcpy(c->best_C, w->c.best_C, kd * sizeof(double));
		}
	}
}

/*
 * After the final pass: is a cluster empty because its centroid cannot be
 * told apart from another centroid?  That is their squared distance below
 * DBL_MIN (the two closer than about 1.5e-154, equal included): the
 * points of such clusters differ only by amounts whose squares underflow,
 * so every tie goes to the lower index and the other cluster gets no
 * point.  (Points that span enough, KM_MIN_SPAN2, can still hold such
 * points: a feature of values below about 1e-150 next to ordinary ones.)
 * Costs O(k) unless a cluster is empty.
 */
static int
km_empty_underflow(const km_ctx *c)
{
	const double *C = c->out_centroids;
	size_t		d = c->d;
	int			j,
				m;

	for (j = 0; j < c->k; j++)
	{
		if (c->out_sizes[j] != 0)
			continue;
		for (m = 0; m < c->k; m++)
			if (m != j &&
				sqdist(C + (size_t) j * d, C + (size_t) m * d, d) < DBL_MIN)
				return 1;
	}
	return 0;
}

/*
 * Fit k clusters with the context's workspace: n_init restarts (on
 * c->nthreads threads), keep the best, relabel, final pass; fails with
 * ECORE_EUNDERFLOW if a cluster is left empty by centroids that cannot be
 * told apart (km_empty_underflow).
 */
int
km_fit_k(km_ctx *c, ecore_kmeans_result *res)
{
	const ecore_kmeans_params *p = c->p;
	int			n_init = c->starts != NULL ? c->n_starts :
		(p->init == ECORE_INIT_USER) ? 1 : p->n_init;
	km_best		best;

	c->T = p->n_local_trials > 0 ? p->n_local_trials : default_trials(c->k);
	if (c->nthreads > 1)
		km_run_threaded(c, n_init, &best);
	else
		km_run_restarts(c, 0, 1, n_init, &best);
	km_relabel(c, c->best_C, c->out_centroids);
	res->inertia = km_final_pass(c);
	if (km_empty_underflow(c))
		return ECORE_EUNDERFLOW;
	res->iterations = best.iters;
	res->converged = best.conv;
	res->best_restart = best.r;
	res->tol_abs = c->tol_abs;
	return ECORE_OK;
}

/*
 * The margin of the Hamerly bound tests of c: KM_MARGIN_REL times the
 * diameter of the box of the points and, if init is not NULL, of the k x
 * d starting centroids init.
 */
void
km_set_margin(km_ctx *c, const double *init, int k)
{
	size_t		d = c->d,
				f;
	double		diam2 = 0.0;

	for (f = 0; f < d; f++)
	{
		double		lo = c->stats[2 * d + f];
		double		hi = c->stats[3 * d + f];

		if (init != NULL)
		{
			int			j;

			for (j = 0; j < k; j++)
			{
				double		x = init[(size_t) j * d + f];

				if (x < lo)
					lo = x;
				if (x > hi)
					hi = x;
			}
		}
		diam2 += (hi - lo) * (hi - lo);
	}
	c->margin = KM_MARGIN_REL * sqrt(diam2);
}

/*
 * Make c the context of a fit of the n x d points X with up to k
 * clusters, on the block at base laid out by L with nthreads workspaces:
 * carve it, then the column statistics, tol_abs, the span and the margin.
 */
void
km_attach(km_ctx *c, const km_layout *L, int nthreads, char *base,
		  const double *X, size_t n, size_t d, int k,
		  const ecore_kmeans_params *p, ecore_env *env)
{
	double		meanvar = 0.0;
	size_t		f;

	memset(c, 0, sizeof(*c));
	c->layout = *L;
	c->block = base;
	c->nthreads = nthreads;
	c->X = X;
	c->n = n;
	c->d = d;
	c->k = k;
	c->env = env;
	c->p = p;
	km_carve(c, L, base);

	km_column_stats(c);
	c->span2 = 0.0;
	for (f = 0; f < d; f++)
	{
		double		lo = c->stats[2 * d + f];
		double		hi = c->stats[3 * d + f];

		c->span2 += (hi - lo) * (hi - lo);
		meanvar += c->stats[d + f];
	}
	meanvar /= (double) d;
	c->tol_abs = p->tol * meanvar;
	km_set_margin(c, p->init == ECORE_INIT_USER ? p->init_centroids : NULL, k);
}

/*
 * Common start of fit and elbow: validate points, allocate the block for
 * k (the largest k of the call), statistics, margin, distinct check, and
 * the span of the points (ECORE_EUNDERFLOW below KM_MIN_SPAN2 if k >= 2).
 */
int
km_setup(km_ctx *c, const double *X, size_t n, size_t d, int k,
		 const ecore_kmeans_params *p, ecore_env *env)
{
	km_layout	L;
	char	   *base;
	size_t		bytes;
	int			rc;

	if (env == NULL || env->alloc == NULL)
		return ECORE_EINVAL_ENV;
	if (X == NULL)
		return ECORE_EINVAL_ARG;
	rc = km_validate_params(n, d, k, p);
	if (rc != ECORE_OK)
		return rc;
	km_compute_layout(&L, n, d, k, p);
	if (L.overflow)
		return ECORE_EOVERFLOW;
	rc = ecore_validate_points(X, n, d, env);
	if (rc != ECORE_OK)
		return rc;
	if (p->init == ECORE_INIT_USER)
	{
		rc = km_validate_centroids(p->init_centroids, k, d, env);
		if (rc != ECORE_OK)
			return rc;
	}

	rc = km_block_bytes(&L, km_threads(p), &bytes);
	if (rc != ECORE_OK)
		return rc;
	base = (char *) env->alloc(env->alloc_arg, bytes);
	if (base == NULL)
		return ECORE_ENOMEM;
	km_attach(c, &L, km_threads(p), base, X, n, d, k, p, env);

	if (!km_enough_distinct(c, k))
		return ECORE_EDISTINCT;
	if (k >= 2 && c->span2 < KM_MIN_SPAN2)
		return ECORE_EUNDERFLOW;
	return ECORE_OK;
}

/* Fit K-means (see kmeans.h). */
int
ecore_kmeans_fit(const double *X, size_t n, size_t d,
				  const ecore_kmeans_params *params, ecore_env *env,
				  ecore_kmeans_result *result)
{
	km_ctx		c;
	ecore_kmeans_result res;
	int			rc;

	if (result == NULL || params == NULL)
		return ECORE_EINVAL_ARG;
	rc = km_setup(&c, X, n, d, params->k, params, env);
	if (rc != ECORE_OK)
		return rc;
	memset(&res, 0, sizeof(res));
	rc = km_fit_k(&c, &res);
	if (rc != ECORE_OK)
		return rc;
	res.n = n;
	res.d = d;
	res.k = params->k;
	res.centroids = c.out_centroids;
	res.labels = c.labels;
	res.distances = c.v;
	res.sizes = c.out_sizes;
	res.cluster_inertia = c.out_cluster_inertia;
	*result = res;
	return ECORE_OK;
}
