/*-------------------------------------------------------------------------
 *
 * fuzz_core.c
 *	  libFuzzer target of engage's numerical core: bytes become a small
 *	  problem (n, d, k, options, values including NaN, infinities, huge,
 *	  tiny and duplicated values), run through scaling, k-means (both
 *	  algorithms, rerun), assign, inertia, silhouette, elbow and knee, then
 *	  elbow_inertia's curve (ecore_elbow_curve, exact and sampled paths,
 *	  key hashes from the input), with invariants checked by abort().
 *
 *	  clang -fsanitize=fuzzer,address,undefined (see test/fuzz/Makefile)
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "core/knee.h"
#include "core/scale.h"
#include "fuzz_arena.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Interrupt callback state. */
typedef struct fz_check
{
	long		calls;
	long		jump_at;
	jmp_buf    *jb;
} fz_check;

/* Interrupt callback: may longjmp out like CHECK_FOR_INTERRUPTS. */
static void
fz_check_cb(void *arg)
{
	fz_check   *c = (fz_check *) arg;

	c->calls++;
	if (c->jump_at > 0 && c->calls == c->jump_at)
		longjmp(*c->jb, 1);
}

/* Byte reader over the input. */
typedef struct fz_in
{
	const uint8_t *p;
	size_t		left;
} fz_in;

/* Next byte (0 when exhausted). */
static uint8_t
fz_byte(fz_in *in)
{
	uint8_t		b;

	if (in->left == 0)
		return 0;
	b = *in->p++;
	in->left--;
	return b;
}

/* Next 8 bytes as a double (raw bits). */
static double
fz_raw_double(fz_in *in)
{
	uint64_t	u = 0;
	double		v;
	int			i;

	for (i = 0; i < 8; i++)
		u = (u << 8) | fz_byte(in);
	memcpy(&v, &u, sizeof(v));
	return v;
}

/* A value of the kind chosen by the next byte. */
static double
fz_value(fz_in *in, const double *prev, size_t nprev)
{
	uint8_t		b = fz_byte(in);

	switch (b % 16)
	{
		case 0:
			return NAN;
		case 1:
			return (b & 16) ? INFINITY : -INFINITY;
		case 2:
			return (b & 16) ? 1e300 : -1e100;
		case 3:
			return (b & 16) ? 1e-300 : 5e-324;
		case 4:
			return fz_raw_double(in);
		case 5:
		case 6:
			/* duplicate of an earlier value */
			return nprev ? prev[fz_byte(in) % nprev] : 0.0;
		case 7:
			return (b & 16) ? -0.0 : 0.0;
		case 8:
			return (double) fz_byte(in) * 1e9;
		default:
			return (double) ((int) fz_byte(in) - 128) / (double) (1 + (b >> 4));
	}
}

/* Abort with a message (a finding). */
static void
fz_fail(const char *what, int line)
{
	fprintf(stderr, "fuzz invariant violated at line %d: %s\n", line, what);
	abort();
}

#define FZ_ASSERT(c) do { if (!(c)) fz_fail(#c, __LINE__); } while (0)

/* Most k of an elbow curve fuzzed (k_max <= 3 + 5) */
#define FZ_ELBOW_MAXK 8

/* Is a status one the core documents for these calls? */
static int
fz_known_status(int rc)
{
	return rc >= ECORE_OK && rc <= ECORE_EUNDERFLOW;
}

/* Invariants of a successful fit. */
static void
fz_check_fit(const double *Z, size_t n, size_t d,
			 const ecore_kmeans_result *r, ecore_env *env)
{
	int64_t		total = 0;
	double		sum = 0.0,
				s,
				in2;
	size_t		i,
				f;
	int			j;
	int64_t    *cnt = calloc((size_t) r->k, sizeof(int64_t));
	int32_t    *lab = malloc(n * sizeof(int32_t));
	double	   *dist = malloc(n * sizeof(double));
	double	   *ci = malloc((size_t) r->k * sizeof(double));
	int64_t    *sz = malloc((size_t) r->k * sizeof(int64_t));

	FZ_ASSERT(r->k >= 1 && (size_t) r->k <= n);
	for (i = 0; i < n; i++)
	{
		FZ_ASSERT(r->labels[i] >= 0 && r->labels[i] < r->k);
		FZ_ASSERT(r->distances[i] >= 0.0 && !isnan(r->distances[i]));
		cnt[r->labels[i]]++;
	}
	for (j = 0; j < r->k; j++)
	{
		FZ_ASSERT(cnt[j] == r->sizes[j]);
		FZ_ASSERT(r->cluster_inertia[j] >= 0.0);
		total += r->sizes[j];
		sum += r->cluster_inertia[j];
		for (f = 0; f < d; f++)
			FZ_ASSERT(isfinite(r->centroids[(size_t) j * d + f]));
	}
	FZ_ASSERT(total == (int64_t) n);
	FZ_ASSERT(r->inertia >= 0.0 && isfinite(r->inertia));
	FZ_ASSERT(fabs(sum - r->inertia) <= 1e-12 * (r->inertia + 1e-300) || sum == r->inertia);
	FZ_ASSERT(r->iterations >= 1);
	FZ_ASSERT(r->converged == 0 || r->converged == 1);
	/* no cluster is empty for want of telling its centroid from another */
	for (j = 0; j < r->k; j++)
	{
		int			m;

		if (r->sizes[j] != 0)
			continue;
		for (m = 0; m < r->k; m++)
		{
			double		s2 = 0.0;

			if (m == j)
				continue;
			for (f = 0; f < d; f++)
			{
				double		t = r->centroids[(size_t) j * d + f] - r->centroids[(size_t) m * d + f];

				s2 += t * t;
			}
			FZ_ASSERT(s2 >= DBL_MIN);
		}
	}
	/* relabel order */
	for (j = 1; j < r->k; j++)
	{
		double		a = 0,
					b = 0;

		for (f = 0; f < d; f++)
		{
			a += r->centroids[(size_t) (j - 1) * d + f] * r->centroids[(size_t) (j - 1) * d + f];
			b += r->centroids[(size_t) j * d + f] * r->centroids[(size_t) j * d + f];
		}
		FZ_ASSERT(sqrt(a) <= sqrt(b));
	}
	/* assign reproduces the labels and distances exactly */
	FZ_ASSERT(ecore_kmeans_assign(Z, n, d, r->centroids, r->k, env, lab, dist) == ECORE_OK);
	FZ_ASSERT(memcmp(lab, r->labels, n * sizeof(int32_t)) == 0);
	FZ_ASSERT(memcmp(dist, r->distances, n * sizeof(double)) == 0);
	/* inertia of the labelling */
	FZ_ASSERT(ecore_kmeans_inertia(Z, n, d, r->centroids, r->k, r->labels, env,
									&in2, ci, sz) == ECORE_OK);
	FZ_ASSERT(fabs(in2 - r->inertia) <= 1e-9 * (r->inertia + 1e-300) || in2 == r->inertia);
	for (j = 0; j < r->k; j++)
		FZ_ASSERT(sz[j] == r->sizes[j]);
	/* silhouette */
	FZ_ASSERT(ecore_silhouette_simplified(Z, n, d, r->centroids, r->k, r->labels,
										   env, &s, dist) == ECORE_OK);
	if (r->k == 1)
		FZ_ASSERT(isnan(s));
	else
	{
		FZ_ASSERT(s >= -1.0 - 1e-12 && s <= 1.0 + 1e-12);
		for (i = 0; i < n; i++)
			FZ_ASSERT(dist[i] >= -1.0 - 1e-12 && dist[i] <= 1.0 + 1e-12);
	}
	free(cnt);
	free(lab);
	free(dist);
	free(ci);
	free(sz);
}

/* Outputs of one ecore_elbow_curve call, in caller-owned arrays. */
typedef struct fz_curve
{
	double		inertia[FZ_ELBOW_MAXK];
	double		silhouette[FZ_ELBOW_MAXK];
	int			iterations[FZ_ELBOW_MAXK];
	double	   *centroids;		/* FZ_ELBOW_MAXK x k_max x d */
	ecore_elbow_out out;
} fz_curve;

/* Point out's arrays at cu's (centroids: nc doubles, 0x5A-poisoned). */
static void
fz_curve_init(fz_curve *cu, size_t nc)
{
	memset(cu->inertia, 0x5A, sizeof(cu->inertia));
	memset(cu->silhouette, 0x5A, sizeof(cu->silhouette));
	memset(cu->iterations, 0x5A, sizeof(cu->iterations));
	cu->centroids = malloc(nc * sizeof(double));
	memset(cu->centroids, 0x5A, nc * sizeof(double));
	memset(&cu->out, 0, sizeof(cu->out));
	cu->out.inertia = cu->inertia;
	cu->out.silhouette = cu->silhouette;
	cu->out.iterations = cu->iterations;
	cu->out.centroids = cu->centroids;
}

/* Are two successful curves bit-identical? */
static int
fz_curve_same(const fz_curve *a, const fz_curve *b, int nk, size_t nc)
{
	return memcmp(a->inertia, b->inertia, nk * sizeof(double)) == 0 &&
		memcmp(a->silhouette, b->silhouette, nk * sizeof(double)) == 0 &&
		memcmp(a->iterations, b->iterations, nk * sizeof(int)) == 0 &&
		memcmp(a->centroids, b->centroids, nc * sizeof(double)) == 0 &&
		a->out.sample_used == b->out.sample_used && a->out.k == b->out.k;
}

/*
 * The elbow curve of elbow_inertia (ecore_elbow_curve) on Z, with its
 * parameters and the points' key hashes decoded from the rest of the
 * input: the exact path (sample 0 or >= n) and the sampled path (a small
 * sample), their error paths, one allocation of exactly the announced
 * bytes, the outputs' ranges, determinism, the exact path's independence
 * of the thread count and its agreement with ecore_kmeans_fit per k.
 */
static void
fz_elbow_curve(fz_in *in, const double *Z, size_t n, size_t d,
			   fz_arena *arena, ecore_env *env)
{
	static const double tols[6] = {1e-4, 0.0, 1e-2, 1.0, -1.0, NAN};
	ecore_elbow_params ep;
	fz_curve	cu,
				cu2;
	uint64_t   *hashes = malloc(n * sizeof(uint64_t));
	uint64_t	hseed;
	uint8_t		b0,
				b1,
				b2,
				b3,
				b4,
				b5;
	size_t		i,
				bytes = 0,
				nc;
	int			nk,
				j,
				rc,
				rcb,
				base_count,
				exact;
	size_t		base_total;

	b0 = fz_byte(in);
	b1 = fz_byte(in);
	b2 = fz_byte(in);
	b3 = fz_byte(in);
	b4 = fz_byte(in);
	b5 = fz_byte(in);
	hseed = fz_byte(in);

	ecore_elbow_params_default(&ep);
	ep.k_min = 1 + b0 % 3;
	ep.k_max = ep.k_min + (b0 >> 2) % 6;	/* may exceed n: EINVAL_K */
	if ((b0 & 0xE0) == 0xE0)
		ep.k_max = ep.k_min - 1;	/* k_min > k_max: EINVAL_K */
	ep.km.init = (ecore_kmeans_init) (b1 % 4 == 3 ? 0 : b1 % 4);	/* USER: EINVAL_INIT */
	ep.km.n_init = 1 + (b1 >> 2) % 4;
	ep.km.max_iter = (b1 & 0x80) ? 1 + (b1 >> 4) % 4 : 300;
	ep.km.tol = tols[b2 % 6];
	ep.km.seed = (uint64_t) b2 << 8 | b3;
	ep.km.algorithm = (ecore_kmeans_algorithm) ((b2 >> 3) & 1);
	ep.km.n_threads = 1 + (b2 >> 4) % 3;
	ep.refine = (b3 >> 4) % 6;	/* above 3 n_init: EINVAL_ARG */
	/* sample: 0 (exact), small (sampled), >= n (exact), below k_max */
	switch (b4 % 4)
	{
		case 0:
			ep.sample = 0;
			break;
		case 1:
		case 2:
			ep.sample = (size_t) ep.k_max + (b4 >> 2) % 12;
			break;
		default:
			ep.sample = (b4 >> 2) % (n + 2);
			break;
	}
	/* the points' keys: bytes of the input, duplicated keys tie */
	for (i = 0; i < n; i++)
	{
		uint8_t		key[8];
		size_t		len = fz_byte(in) % 9,
					t;

		for (t = 0; t < len; t++)
			key[t] = fz_byte(in);
		hashes[i] = ecore_sample_hash(hseed, key, len);
		/* the hash is of the bytes alone: the same again */
		FZ_ASSERT(hashes[i] == ecore_sample_hash(hseed, key, len));
	}
	ep.hashes = (b5 & 0x40) && ep.sample > 0 ? NULL : hashes;	/* EINVAL_ARG */

	nk = ep.k_max - ep.k_min + 1;
	if (nk < 1)
		nk = 1;
	nc = (size_t) nk * (size_t) (ep.k_max > 0 ? ep.k_max : 1) * d;
	exact = ep.sample == 0 || ep.sample >= n;

	rcb = ecore_elbow_curve_bytes(n, d, &ep, &bytes);
	FZ_ASSERT(fz_known_status(rcb));
	fz_curve_init(&cu, nc);
	base_count = arena->count;
	base_total = arena->total;
	rc = ecore_elbow_curve(Z, n, d, &ep, env, &cu.out);
	FZ_ASSERT(fz_known_status(rc));
	/* statuses the curve documents: a fit's, never a user init's */
	FZ_ASSERT(rc != ECORE_EINIT_VALUE && rc != ECORE_EINVAL_CURVE &&
			  rc != ECORE_EINVAL_ENV);
	if (rcb != ECORE_OK)
	{
		/* bytes() validates like the curve, which allocates nothing */
		FZ_ASSERT(rc == rcb);
		FZ_ASSERT(arena->count == base_count);
	}
	else
	{
		/* at most one request, of exactly the announced bytes */
		FZ_ASSERT(arena->count - base_count <= 1);
		if (arena->count != base_count)
			FZ_ASSERT(arena->total - base_total == bytes);
	}
	if (ep.km.init == ECORE_INIT_USER)
		FZ_ASSERT(rc == ECORE_EINVAL_INIT);
	else if (ep.k_max > (int) n || ep.k_min > ep.k_max)
		FZ_ASSERT(rc == ECORE_EINVAL_K);
	else if (ep.km.tol < 0 || isnan(ep.km.tol))
		FZ_ASSERT(rc == ECORE_EINVAL_TOL);

	if (rc == ECORE_OK)
	{
		FZ_ASSERT(arena->count - base_count == 1);
		FZ_ASSERT(cu.out.k == ep.k_max);
		if (exact)
			FZ_ASSERT(cu.out.sample_used == n);
		else
			FZ_ASSERT(cu.out.sample_used == ep.sample || cu.out.sample_used == n);
		for (j = 0; j < nk; j++)
		{
			int			k = ep.k_min + j;
			size_t		f;

			/* nonincreasing is not guaranteed: no check of the order */
			FZ_ASSERT(isfinite(cu.inertia[j]) && cu.inertia[j] >= 0.0);
			if (k == 1)
				FZ_ASSERT(isnan(cu.silhouette[j]));
			else
				FZ_ASSERT(cu.silhouette[j] >= -1.0 && cu.silhouette[j] <= 1.0);
			FZ_ASSERT(cu.iterations[j] >= 1 && cu.iterations[j] <= ep.km.max_iter);
			for (f = 0; f < (size_t) k * d; f++)
				FZ_ASSERT(isfinite(cu.centroids[(size_t) j * ep.k_max * d + f]));
		}

		/* the same again, bit for bit */
		fz_curve_init(&cu2, nc);
		FZ_ASSERT(ecore_elbow_curve(Z, n, d, &ep, env, &cu2.out) == ECORE_OK);
		FZ_ASSERT(fz_curve_same(&cu, &cu2, nk, nc));
		free(cu2.centroids);

		if (exact)
		{
			ecore_elbow_params ep2 = ep;
			ecore_kmeans_params p = ep.km;
			ecore_kmeans_result r;

			/* the exact path does not depend on the thread count */
			ep2.km.n_threads = ep.km.n_threads == 1 ? 3 : 1;
			FZ_ASSERT(ecore_elbow_curve_bytes(n, d, &ep2, &bytes) == ECORE_OK);
			base_total = arena->total;
			fz_curve_init(&cu2, nc);
			FZ_ASSERT(ecore_elbow_curve(Z, n, d, &ep2, env, &cu2.out) == ECORE_OK);
			FZ_ASSERT(arena->total - base_total == bytes);
			FZ_ASSERT(fz_curve_same(&cu, &cu2, nk, nc));
			free(cu2.centroids);

			/*
			 * each k is the fit of k, or the split run when strictly
			 * lower: k_min (no split start yet) is the fit, bit for bit
			 */
			for (j = 0; j < nk; j++)
			{
				p.k = ep.k_min + j;
				FZ_ASSERT(ecore_kmeans_fit(Z, n, d, &p, env, &r) == ECORE_OK);
				FZ_ASSERT(cu.inertia[j] <= r.inertia);
				if (j == 0)
				{
					FZ_ASSERT(cu.inertia[0] == r.inertia);
					FZ_ASSERT(cu.iterations[0] == r.iterations);
					FZ_ASSERT(memcmp(cu.centroids, r.centroids,
									 (size_t) p.k * d * sizeof(double)) == 0);
				}
			}
		}

		/* allocation failure */
		arena->fail_at = arena->count;
		fz_curve_init(&cu2, nc);
		FZ_ASSERT(ecore_elbow_curve(Z, n, d, &ep, env, &cu2.out) == ECORE_ENOMEM);
		free(cu2.centroids);
		arena->fail_at = -1;
	}
	else
	{
		FZ_ASSERT(rc != ECORE_ENOMEM);
		if (rc == ECORE_EDISTINCT || rc == ECORE_EUNDERFLOW)
			FZ_ASSERT(cu.out.k >= ep.k_min && cu.out.k <= ep.k_max);
	}
	free(cu.centroids);
	free(hashes);
}

/* Fuzz entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_in		in = {data, size};
	fz_arena	arena;
	fz_check	chk;
	ecore_env	env;
	ecore_scaler sc;
	ecore_kmeans_params p;
	ecore_kmeans_result r,
				r2;
	size_t		n,
				d,
				i,
				bytes = 0;
	int			k,
				rc,
				rc2;
	uint8_t		opt,
				opt2;
	double	   *X,
			   *Z,
			   *Cu,
			   *lab_copy_c;
	int32_t    *lab_copy;
	double		inertia_copy;
	jmp_buf		jb;
	volatile int jumped = 0;
	uint64_t	seed = 0;
	int			base_count;
	size_t		base_total;
	double		tols[8] = {0.0, 1e-4, 1e-2, 1.0, 1e300, -1.0, NAN, 1e-12};

	memset(&arena, 0, sizeof(arena));
	arena.fail_at = -1;
	memset(&chk, 0, sizeof(chk));
	memset(&env, 0, sizeof(env));
	env.alloc = fz_alloc;
	env.alloc_arg = &arena;
	env.check = fz_check_cb;
	env.check_arg = &chk;

	n = 1 + fz_byte(&in) % 48;
	d = 1 + fz_byte(&in) % 6;
	k = fz_byte(&in) % 10;		/* 0 and k > n: error paths */
	opt = fz_byte(&in);
	opt2 = fz_byte(&in);
	for (i = 0; i < 2; i++)
		seed = (seed << 8) | fz_byte(&in);

	X = malloc(n * d * sizeof(double));
	Z = malloc(n * d * sizeof(double));
	Cu = malloc(10 * d * sizeof(double));
	for (i = 0; i < n * d; i++)
		X[i] = fz_value(&in, X, i);
	for (i = 0; i < 10 * d; i++)
		Cu[i] = (opt2 & 64) ? fz_value(&in, X, n * d) : X[(i * 7) % (n * d)];

	/* ---- scaling ---- */
	rc = ecore_scaler_init(&sc, (ecore_scale_method) (opt % 3), d, &env);
	FZ_ASSERT(rc == ECORE_OK);
	rc = ecore_scaler_fit(&sc, X, n, &env);
	if (rc != ECORE_OK)
	{
		FZ_ASSERT(rc == ECORE_ENONFINITE || rc == ECORE_ERANGE);
		FZ_ASSERT(env.error_row < n && env.error_col < d);
		FZ_ASSERT(!isfinite(X[env.error_row * d + env.error_col]) ||
				  fabs(X[env.error_row * d + env.error_col]) > ECORE_MAX_ABS);
		memcpy(Z, X, n * d * sizeof(double));	/* kmeans must reject it too */
	}
	else
	{
		for (i = 0; i < d; i++)
			FZ_ASSERT(isfinite(sc.scale[i]) && sc.scale[i] > 0.0 && isfinite(sc.offset[i]));
		rc = ecore_scaler_transform(&sc, X, n, Z, &env);
		FZ_ASSERT(rc == ECORE_OK);
		if (sc.method == ECORE_SCALE_MINMAX)
			for (i = 0; i < n * d; i++)
				FZ_ASSERT(Z[i] >= -1e-9 && Z[i] <= 1.0 + 1e-9);
	}

	/* ---- k-means ---- */
	ecore_kmeans_params_default(&p);
	p.k = k;
	p.init = (ecore_kmeans_init) ((opt >> 2) % 3);
	p.init_centroids = Cu;
	p.n_init = 1 + (opt >> 4) % 3;
	p.max_iter = (opt2 & 3) == 0 ? 0 : 1 + (opt2 >> 2) % 20;
	p.tol = tols[(opt2 >> 5) % 8];
	p.seed = seed;
	p.algorithm = (ecore_kmeans_algorithm) ((opt >> 6) & 1);
	p.n_local_trials = (opt & 0x80) ? 1 + opt2 % 5 : 0;

	rc = ecore_kmeans_bytes(n, d, &p, &bytes);
	FZ_ASSERT(fz_known_status(rc));
	base_count = arena.count;
	base_total = arena.total;
	rc2 = ecore_kmeans_fit(Z, n, d, &p, &env, &r);
	FZ_ASSERT(fz_known_status(rc2));
	if (rc != ECORE_OK)
		FZ_ASSERT(rc2 == rc);	/* bytes() fails exactly like fit() */
	if (rc2 == ECORE_OK)
	{
		FZ_ASSERT(rc == ECORE_OK);
		FZ_ASSERT(arena.total - base_total == bytes && arena.count - base_count == 1);
		fz_check_fit(Z, n, d, &r, &env);

		/* deterministic rerun, and the other algorithm: identical */
		lab_copy = malloc(n * sizeof(int32_t));
		lab_copy_c = malloc((size_t) k * d * sizeof(double));
		memcpy(lab_copy, r.labels, n * sizeof(int32_t));
		memcpy(lab_copy_c, r.centroids, (size_t) k * d * sizeof(double));
		inertia_copy = r.inertia;
		FZ_ASSERT(ecore_kmeans_fit(Z, n, d, &p, &env, &r2) == ECORE_OK);
		FZ_ASSERT(memcmp(lab_copy, r2.labels, n * sizeof(int32_t)) == 0);
		FZ_ASSERT(memcmp(lab_copy_c, r2.centroids, (size_t) k * d * sizeof(double)) == 0);
		FZ_ASSERT(inertia_copy == r2.inertia);
		p.algorithm = (ecore_kmeans_algorithm) (1 - (int) p.algorithm);
		FZ_ASSERT(ecore_kmeans_fit(Z, n, d, &p, &env, &r2) == ECORE_OK);
		FZ_ASSERT(memcmp(lab_copy, r2.labels, n * sizeof(int32_t)) == 0);
		FZ_ASSERT(memcmp(lab_copy_c, r2.centroids, (size_t) k * d * sizeof(double)) == 0);
		FZ_ASSERT(inertia_copy == r2.inertia);
		FZ_ASSERT(r.iterations == r2.iterations && r.converged == r2.converged);
		free(lab_copy);
		free(lab_copy_c);

		/* interrupted fit: longjmp out at some check call */
		chk.calls = 0;
		chk.jump_at = 1 + opt2 % 13;
		chk.jb = &jb;
		if (setjmp(jb) == 0)
			(void) ecore_kmeans_fit(Z, n, d, &p, &env, &r2);
		else
			jumped = 1;
		chk.jump_at = 0;
		(void) jumped;

		/* allocation failure */
		arena.fail_at = arena.count;
		FZ_ASSERT(ecore_kmeans_fit(Z, n, d, &p, &env, &r2) == ECORE_ENOMEM);
		arena.fail_at = -1;

		/* elbow (k-means++) and its knee */
		if (p.init != ECORE_INIT_USER)
		{
			double		curve[10];
			int			it[10];
			long		kel = -5;
			int			kk;

			rc = ecore_kmeans_elbow(Z, n, d, k, &p, &env, curve, it);
			/* a smaller k can leave indistinguishable points apart */
			FZ_ASSERT(rc == ECORE_OK || rc == ECORE_EUNDERFLOW);
			if (rc == ECORE_OK)
			{
				for (kk = 0; kk < k; kk++)
					FZ_ASSERT(curve[kk] >= 0.0 && isfinite(curve[kk]));
				FZ_ASSERT(ecore_knee_elbow(curve, (size_t) k, &kel) == ECORE_OK);
				FZ_ASSERT(kel == -1 || (kel >= 1 && kel <= k));
			}
		}
	}
	else if (rc2 == ECORE_ENONFINITE || rc2 == ECORE_ERANGE)
	{
		FZ_ASSERT(env.error_row < n);
	}

	/* ---- knee on raw values ---- */
	{
		double	   *kx = malloc(n * sizeof(double));
		double		acc = 0.0;
		long		kn = -5;

		for (i = 0; i < n; i++)
		{
			double		step = fabs(X[i * d]);

			acc += (isfinite(step) && step > 0 && step < 1e6) ? step : 1.0;
			kx[i] = acc;
		}
		rc = ecore_knee_locate(kx, Z, n, (opt2 & 1) ? 1.0 : 0.5 * (double) (opt % 7),
								(ecore_knee_curve) ((opt >> 3) & 1),
								(ecore_knee_direction) ((opt >> 5) & 1), &kn);
		FZ_ASSERT(fz_known_status(rc));
		if (rc == ECORE_OK)
			FZ_ASSERT(kn == -1 || (kn >= 0 && (size_t) kn < n));
		else
			FZ_ASSERT(rc == ECORE_EINVAL_CURVE);
		free(kx);
	}

	/* ---- the elbow curve of elbow_inertia, from the rest of the input ---- */
	fz_elbow_curve(&in, Z, n, d, &arena, &env);

	fz_free(&arena);
	free(X);
	free(Z);
	free(Cu);
	return 0;
}
