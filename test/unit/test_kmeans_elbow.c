/*-------------------------------------------------------------------------
 *
 * test_kmeans_elbow.c
 *	  Unit tests of the elbow curve of elbow_inertia (ecore_elbow_curve in
 *	  src/core/kmeans_elbow.c): the exact path against the fits it stands
 *	  for, bit for bit; the sample's hash and choice; the sampled curve
 *	  against the exact one; determinism under a permutation of the points
 *	  and any number of threads; memory accounting; interrupts; bad
 *	  arguments.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "core/knee.h"
#include "core/rng.h"
#include "core/scale.h"
#include "harness.h"
#include "test_core.h"

#define EL_KMAX 8

/* Hashes of keys "p<id[i]>" (id NULL: i), as the glue hashes key texts. */
static uint64_t *
key_hashes(size_t n, const size_t *id, uint64_t seed)
{
	uint64_t   *h = malloc(n * sizeof(uint64_t));
	char		buf[32];
	size_t		i;

	for (i = 0; i < n; i++)
	{
		int			len = snprintf(buf, sizeof(buf), "p%zu", id ? id[i] : i);

		h[i] = ecore_sample_hash(seed, buf, (size_t) len);
	}
	return h;
}

/* A curve's outputs, in malloc'd arrays of EL_KMAX k's. */
typedef struct el_curve
{
	double		inertia[EL_KMAX];
	double		silhouette[EL_KMAX];
	int			iterations[EL_KMAX];
	double	   *centroids;
	ecore_elbow_out out;
} el_curve;

/* Point out's arrays at cu's, for d features. */
static void
curve_init(el_curve *cu, size_t d)
{
	memset(cu, 0, sizeof(*cu));
	cu->centroids = calloc((size_t) EL_KMAX * EL_KMAX * d, sizeof(double));
	cu->out.inertia = cu->inertia;
	cu->out.silhouette = cu->silhouette;
	cu->out.iterations = cu->iterations;
	cu->out.centroids = cu->centroids;
}

/* Are two curves of nk k's and d features identical, bit for bit? */
static int
curve_same(const el_curve *a, const el_curve *b, int nk, size_t d)
{
	return memcmp(a->inertia, b->inertia, nk * sizeof(double)) == 0 &&
		memcmp(a->silhouette, b->silhouette, nk * sizeof(double)) == 0 &&
		memcmp(a->iterations, b->iterations, nk * sizeof(int)) == 0 &&
		memcmp(a->centroids, b->centroids, (size_t) nk * EL_KMAX * d * sizeof(double)) == 0;
}

/*
 * The curve as elbow_inertia computed it before ecore_elbow_curve: one
 * fit per k, and from the second k one more fit from the previous k's
 * clustering with its worst cluster split, kept when strictly better.
 */
static void
reference_curve(const double *X, size_t n, size_t d, int k_min, int k_max,
				const ecore_kmeans_params *p0, el_curve *cu)
{
	double	   *split = malloc((size_t) k_max * d * sizeof(double));
	int			have_split = 0,
				k;

	for (k = k_min; k <= k_max; k++)
	{
		ecore_kmeans_params p = *p0;
		ecore_kmeans_result res,
					alt;
		ecore_env	env = make_env();
		int			worst = 0,
					c;
		long		far = -1;
		size_t		i;

		p.k = k;
		CHECK_EQ_INT(ecore_kmeans_fit(X, n, d, &p, &env, &res), ECORE_OK);
		if (have_split)
		{
			p.init = ECORE_INIT_USER;
			p.init_centroids = split;
			CHECK_EQ_INT(ecore_kmeans_fit(X, n, d, &p, &env, &alt), ECORE_OK);
			if (alt.inertia < res.inertia)
				res = alt;
		}
		cu->inertia[k - k_min] = res.inertia;
		cu->iterations[k - k_min] = res.iterations;
		memcpy(cu->centroids + (size_t) (k - k_min) * k_max * d, res.centroids,
			   (size_t) k * d * sizeof(double));
		CHECK_EQ_INT(ecore_silhouette_simplified(X, n, d, res.centroids, k, res.labels,
												  &env, &cu->silhouette[k - k_min], NULL),
					 ECORE_OK);
		for (c = 1; c < k; c++)
			if (res.cluster_inertia[c] > res.cluster_inertia[worst])
				worst = c;
		have_split = 0;
		if (k < k_max && res.cluster_inertia[worst] > 0.0)
		{
			for (i = 0; i < n; i++)
				if (res.labels[i] == worst &&
					(far < 0 || res.distances[i] > res.distances[far]))
					far = (long) i;
			memcpy(split, res.centroids, (size_t) k * d * sizeof(double));
			memcpy(split + (size_t) k * d, X + (size_t) far * d, d * sizeof(double));
			have_split = 1;
		}
		arena_reset(&g_arena);
	}
	free(split);
}

/* The exact path is the fits it stands for, bit for bit, for any threads. */
void
test_elbow_exact_bits(void)
{
	size_t		n = 3000,
				d = 3;
	double	   *X = make_blobs(n, d, 4, 2.5, 11, NULL);
	uint64_t   *h = key_hashes(n, NULL, 5);
	ecore_elbow_params ep;
	el_curve	ref,
				cu;
	int			k_min,
				variant;

	for (k_min = 1; k_min <= 2; k_min++)
	{
		ecore_elbow_params_default(&ep);
		ep.k_min = k_min;
		ep.k_max = 7;
		ep.km.n_init = 4;
		ep.km.seed = 42;
		curve_init(&ref, d);
		reference_curve(X, n, d, k_min, 7, &ep.km, &ref);
		/* no sample; a sample of n or more; threads */
		for (variant = 0; variant < 4; variant++)
		{
			ecore_env	env = make_env();

			ep.sample = variant == 1 ? n : (variant == 2 ? n + 10 : 0);
			ep.hashes = variant == 0 ? NULL : h;
			ep.km.n_threads = variant == 3 ? 3 : 1;
			curve_init(&cu, d);
			CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_OK);
			CHECK(curve_same(&ref, &cu, 7 - k_min + 1, d));
			CHECK_EQ_INT(cu.out.sample_used, n);
			CHECK(k_min > 1 || isnan(cu.silhouette[0]));
			free(cu.centroids);
			arena_reset(&g_arena);
		}
		free(ref.centroids);
	}
	free(h);
	free(X);
}

/* The hash: defined on the bytes, seeded, spread. */
void
test_elbow_sample_hash(void)
{
	uint64_t	a = ecore_sample_hash(0, "33601001722", 11);
	size_t		i,
				low = 0;

	CHECK(a == ecore_sample_hash(0, "33601001722", 11));
	CHECK(a != ecore_sample_hash(1, "33601001722", 11));
	CHECK(a != ecore_sample_hash(0, "33601001723", 11));
	CHECK(a != ecore_sample_hash(0, "33601001722", 10));
	CHECK(ecore_sample_hash(0, "", 0) != ecore_sample_hash(0, "\0", 1));
	CHECK(ecore_sample_hash(0, "abcdefgh", 8) != ecore_sample_hash(0, "abcdefgh\0", 9));
	/* about half of the hashes of consecutive keys are below 2^63 */
	for (i = 0; i < 10000; i++)
	{
		char		buf[32];
		int			len = snprintf(buf, sizeof(buf), "%zu", i);

		if (ecore_sample_hash(7, buf, (size_t) len) < (UINT64_C(1) << 63))
			low++;
	}
	CHECK(low > 4800 && low < 5200);
}

/* Largest relative gap of curve b over curve a. */
static double
max_gap(const double *a, const double *b, int nk)
{
	double		g = 0.0;
	int			i;

	for (i = 0; i < nk; i++)
	{
		double		r = (b[i] - a[i]) / a[i];

		if (r > g)
			g = r;
	}
	return g;
}

/* Kneedle's k of a curve over k = 1..nk. */
static long
curve_knee(const double *inertia, int nk)
{
	double		xs[EL_KMAX];
	long		knee = -1;
	int			i;

	for (i = 0; i < nk; i++)
		xs[i] = i + 1;
	if (ecore_knee_locate(xs, inertia, (size_t) nk, 1.0, ECORE_KNEE_CONVEX,
						   ECORE_KNEE_DECREASING, &knee) != ECORE_OK)
		return -1;
	return knee;
}

/*
 * On clustered data the sampled curve (a tenth of the points) is within
 * 1e-3 of the exact one, with the same elbow, whether 1, 3, ... or all 9
 * best restarts are refined; the silhouette is of all points.
 */
void
test_elbow_sampled_close(void)
{
	size_t		n = 30000,
				d = 3;
	double	   *X = make_blobs(n, d, 4, 6.0, 21, NULL);
	uint64_t   *h = key_hashes(n, NULL, 0);
	ecore_elbow_params ep;
	el_curve	exact,
				cu;
	ecore_env	env = make_env();
	int			refine;

	ecore_elbow_params_default(&ep);
	ep.k_max = EL_KMAX;
	curve_init(&exact, d);
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &exact.out), ECORE_OK);
	arena_reset(&g_arena);
	for (refine = 1; refine <= 9; refine += 2)
	{
		int			i;

		env = make_env();
		ep.sample = 3000;
		ep.hashes = h;
		ep.refine = refine;
		curve_init(&cu, d);
		CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_OK);
		CHECK_EQ_INT(cu.out.sample_used, 3000);
		CHECK(max_gap(exact.inertia, cu.inertia, EL_KMAX) <= 1e-3);
		CHECK(curve_knee(exact.inertia, EL_KMAX) == curve_knee(cu.inertia, EL_KMAX));
		/* k = 1 is the same single centroid: the mean of all points */
		CHECK_CLOSE(cu.inertia[0], exact.inertia[0], 1e-12);
		for (i = 1; i < EL_KMAX; i++)
		{
			/* the silhouette of the reported centroids on all points */
			double		s;
			int32_t    *lab = malloc(n * sizeof(int32_t));

			CHECK_EQ_INT(ecore_kmeans_assign(X, n, d, cu.centroids + (size_t) i * EL_KMAX * d,
											  i + 1, &env, lab, NULL), ECORE_OK);
			CHECK_EQ_INT(ecore_silhouette_simplified(X, n, d, cu.centroids + (size_t) i * EL_KMAX * d,
													  i + 1, lab, &env, &s, NULL), ECORE_OK);
			CHECK(s == cu.silhouette[i]);
			free(lab);
		}
		free(cu.centroids);
		arena_reset(&g_arena);
	}
	free(exact.centroids);
	free(h);
	free(X);
}

/*
 * Heavy tails, as real per-user engagement: counts with a geometric tail,
 * lognormal durations and volumes, and six users far out (a hundred times
 * the typical duration: half the inertia of k = 1) who make clusters of
 * their own from some k on.  The sample (a fifth of the points) holds them
 * whatever the hashes, as its measure is half the squared distance to the
 * mean, and the sampled curve is within 1e-3 of the exact one, with the
 * same elbow, for several seeds (each a different sample, different
 * restarts and another thread count).  (With a twentieth of the points, a
 * sample that holds them but only about 2,000 of the others, k = 7 came
 * out up to 3% above in half of the seeds.)
 */
void
test_elbow_sampled_heavy_tail(void)
{
	size_t		n = 40000,
				d = 3,
				i;
	double	   *X = malloc(n * d * sizeof(double));
	uint64_t   *h;
	ecore_elbow_params ep;
	el_curve	exact,
				cu;
	ecore_env	env;
	ecore_rng	r;
	ecore_scaler sc;
	uint64_t	seed;

	ecore_rng_seed(&r, 77, 0);
	for (i = 0; i < n; i++)
	{
		double		u1 = ecore_rng_uniform_pos(&r),
					u2 = ecore_rng_uniform_pos(&r),
					g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2),
					g2 = sqrt(-2.0 * log(u1)) * sin(6.283185307179586 * u2),
					sessions = 1.0;

		while (ecore_rng_uniform_pos(&r) < 0.3)
			sessions += 1.0;
		X[i * d] = sessions;
		X[i * d + 1] = sessions * exp(11.0 + 0.8 * g);
		X[i * d + 2] = sessions * exp(19.0 + 0.6 * g2);
	}
	for (i = 0; i < 6; i++)
	{
		/* the far users: a hundred times the typical duration */
		X[i * 997 * d] = 12.0 + (double) i;
		X[i * 997 * d + 1] = 3e7 * (1.0 + 0.1 * (double) i);
		X[i * 997 * d + 2] = 2e10;
	}
	/* z-scored, as elbow_inertia does */
	env = make_env();
	CHECK_EQ_INT(ecore_scaler_init(&sc, ECORE_SCALE_ZSCORE, d, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&sc, X, n, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_transform(&sc, X, n, X, &env), ECORE_OK);

	ecore_elbow_params_default(&ep);
	ep.k_max = EL_KMAX;
	curve_init(&exact, d);
	env = make_env();
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &exact.out), ECORE_OK);
	arena_reset(&g_arena);
	for (seed = 1; seed <= 3; seed++)
	{
		h = key_hashes(n, NULL, seed);
		ep.km.seed = seed;
		ep.km.n_threads = (int) seed;
		ep.sample = 8000;
		ep.hashes = h;
		env = make_env();
		curve_init(&cu, d);
		CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_OK);
		CHECK_EQ_INT(cu.out.sample_used, 8000);
		CHECK(max_gap(exact.inertia, cu.inertia, EL_KMAX) <= 1e-3);
		CHECK(curve_knee(exact.inertia, EL_KMAX) == curve_knee(cu.inertia, EL_KMAX));
		free(cu.centroids);
		free(h);
		arena_reset(&g_arena);
	}
	free(exact.centroids);
	free(X);
}

/*
 * Determinism: the same curve for any n_threads, bit for bit; under a
 * permutation of the points (hashes moved with their keys) the same
 * sample, so the same curve up to the order of the sums over all points.
 */
void
test_elbow_sampled_determinism(void)
{
	size_t		n = 12000,
				d = 2,
				i;
	double	   *X = make_blobs(n, d, 5, 3.0, 31, NULL);
	double	   *Y = malloc(n * d * sizeof(double));
	size_t	   *id = malloc(n * sizeof(size_t));
	uint64_t   *h = key_hashes(n, NULL, 9);
	uint64_t   *hy;
	ecore_elbow_params ep;
	el_curve	a,
				b,
				c;
	ecore_env	env;
	ecore_rng	r;
	int			j;

	/* Y: X shuffled (Fisher-Yates), id: the original index of each row */
	for (i = 0; i < n; i++)
		id[i] = i;
	ecore_rng_seed(&r, 3, 0);
	for (i = n - 1; i > 0; i--)
	{
		size_t		t = (size_t) ecore_rng_below(&r, (uint64_t) i + 1),
					x = id[i];

		id[i] = id[t];
		id[t] = x;
	}
	for (i = 0; i < n; i++)
		memcpy(Y + i * d, X + id[i] * d, d * sizeof(double));
	hy = key_hashes(n, id, 9);

	ecore_elbow_params_default(&ep);
	ep.k_max = 6;
	ep.sample = 1500;
	ep.hashes = h;
	env = make_env();
	curve_init(&a, d);
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &a.out), ECORE_OK);
	arena_reset(&g_arena);
	env = make_env();
	ep.km.n_threads = 4;
	curve_init(&b, d);
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &b.out), ECORE_OK);
	CHECK(curve_same(&a, &b, 6, d));
	arena_reset(&g_arena);
	env = make_env();
	ep.hashes = hy;
	curve_init(&c, d);
	CHECK_EQ_INT(ecore_elbow_curve(Y, n, d, &ep, &env, &c.out), ECORE_OK);
	for (j = 0; j < 6; j++)
	{
		CHECK_CLOSE(c.inertia[j], a.inertia[j], 1e-9);
		CHECK_CLOSE(c.centroids[(size_t) j * EL_KMAX * d], a.centroids[(size_t) j * EL_KMAX * d], 1e-6);
	}
	arena_reset(&g_arena);
	free(a.centroids);
	free(b.centroids);
	free(c.centroids);
	free(hy);
	free(h);
	free(id);
	free(Y);
	free(X);
}

/* One allocation of exactly the announced bytes; the sample saves memory. */
void
test_elbow_memory_accounting(void)
{
	size_t		n = 20000,
				d = 3,
				bytes_exact,
				bytes_sampled;
	double	   *X = make_blobs(n, d, 3, 4.0, 41, NULL);
	uint64_t   *h = key_hashes(n, NULL, 0);
	ecore_elbow_params ep;
	el_curve	cu;
	ecore_env	env;

	ecore_elbow_params_default(&ep);
	ep.k_max = 5;
	ep.km.n_threads = 2;
	ep.km.n_init = 3;
	CHECK_EQ_INT(ecore_elbow_curve_bytes(n, d, &ep, &bytes_exact), ECORE_OK);
	env = make_env();
	curve_init(&cu, d);
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, ECORE_MAX_ALLOCS);
	CHECK_EQ_INT(g_arena.total, bytes_exact);
	arena_reset(&g_arena);

	ep.sample = 2000;
	ep.hashes = h;
	CHECK_EQ_INT(ecore_elbow_curve_bytes(n, d, &ep, &bytes_sampled), ECORE_OK);
	env = make_env();
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, ECORE_MAX_ALLOCS);
	CHECK_EQ_INT(g_arena.total, bytes_sampled);
	/*
	 * the same two workspaces on n points (the threads share the
	 * candidates refined on all points), plus two on the sample, its
	 * heap, points and weights
	 */
	CHECK(bytes_sampled > bytes_exact + 2000 * (2 * 20 + 16 + (d + 1) * 8));
	CHECK(bytes_sampled < bytes_exact + 2000 * (2 * 20 + 16 + (d + 1) * 8) + 65536);
	arena_reset(&g_arena);

	/* an allocator that fails */
	env = make_env();
	g_arena.fail_after = 0;
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_ENOMEM);
	arena_reset(&g_arena);
	free(cu.centroids);
	free(h);
	free(X);
}

/* Interrupts: checked along the way; a longjmp at any check is clean. */
void
test_elbow_interrupts(void)
{
	size_t		n = 4 * ECORE_CHECK_CHUNK,
				d = 2;
	double	   *X = make_blobs(n, d, 3, 4.0, 51, NULL);
	uint64_t   *h = key_hashes(n, NULL, 0);
	ecore_elbow_params ep;
	el_curve	cu;
	ecore_env	env;
	jmp_buf		jb;
	long		total_calls,
				at;
	volatile int jumped = 0,
				completed = 0;

	ecore_elbow_params_default(&ep);
	ep.k_max = 4;
	ep.km.n_init = 2;
	ep.sample = ECORE_CHECK_CHUNK;
	ep.hashes = h;
	curve_init(&cu, d);
	env = make_env();
	CHECK_EQ_INT(ecore_elbow_curve(X, n, d, &ep, &env, &cu.out), ECORE_OK);
	total_calls = g_check.calls;
	/* validation, the sample, and per k at least the refinement's passes */
	CHECK(total_calls > 4 + 4 + 4 * 3 * 4);
	arena_reset(&g_arena);
	for (at = 1; at <= total_calls; at += 5)
	{
		env = make_env();
		g_check.env = &jb;
		g_check.jump_at = at;
		if (setjmp(jb) == 0)
		{
			if (ecore_elbow_curve(X, n, d, &ep, &env, &cu.out) == ECORE_OK)
				completed++;
		}
		else
			jumped++;
		arena_reset(&g_arena);
	}
	CHECK(jumped > 10);
	CHECK(completed == 0);
	free(cu.centroids);
	free(h);
	free(X);
}

/* Bad arguments, and a sample that cannot hold k_max clusters. */
void
test_elbow_errors(void)
{
	double		X[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint64_t	h[20];
	double		inertia[12];
	ecore_elbow_params ep;
	ecore_elbow_out out;
	ecore_env	env = make_env();
	size_t		bytes,
				i;

	/* the sample: the first (equal) points, whose hashes are the smallest */
	for (i = 0; i < 20; i++)
		h[i] = i < 10 ? (uint64_t) i : UINT64_MAX - i;
	memset(&out, 0, sizeof(out));
	out.inertia = inertia;
	ecore_elbow_params_default(&ep);
	ep.k_max = 3;
	ep.km.init = ECORE_INIT_USER;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_EINVAL_INIT);
	ep.km.init = ECORE_INIT_KMEANSPP;
	ep.k_min = 4;
	CHECK_EQ_INT(ecore_elbow_curve_bytes(20, 1, &ep, &bytes), ECORE_EINVAL_K);
	ep.k_min = 1;
	ep.k_max = 21;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_EINVAL_K);
	ep.k_max = 3;
	/* refine: at most the restarts on the sample (3 n_init by default) */
	ep.refine = 31;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_EINVAL_ARG);
	ep.sample_n_init = 40;
	CHECK_EQ_INT(ecore_elbow_curve_bytes(20, 1, &ep, &bytes), ECORE_OK);
	ep.sample_n_init = -1;
	CHECK_EQ_INT(ecore_elbow_curve_bytes(20, 1, &ep, &bytes), ECORE_EINVAL_ARG);
	ep.sample_n_init = ECORE_ELBOW_MAX_SAMPLE_N_INIT + 1;
	CHECK_EQ_INT(ecore_elbow_curve_bytes(20, 1, &ep, &bytes), ECORE_EINVAL_ARG);
	ep.sample_n_init = 0;
	ep.refine = 0;
	ep.sample = 10;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_EINVAL_ARG);	/* no hashes */
	ep.hashes = h;
	ep.sample = 2;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_EINVAL_ARG);	/* < k_max */
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, NULL), ECORE_EINVAL_ARG);
	/* the sample is 10 equal points: the curve runs on all of them */
	ep.sample = 10;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_OK);
	CHECK_EQ_INT(out.sample_used, 20);
	/* fewer distinct points than k: the k that failed */
	ep.sample = 0;
	ep.k_max = 12;
	CHECK_EQ_INT(ecore_elbow_curve(X, 20, 1, &ep, &env, &out), ECORE_EDISTINCT);
	CHECK_EQ_INT(out.k, 12);
	arena_reset(&g_arena);
}
