/*-------------------------------------------------------------------------
 *
 * test_elbow_agg.c
 *	  Unit tests of the multi-model Lloyd steps and the coreset sample
 *	  (src/core/kmeans_step.c) and of the elbow curve on aggregates
 *	  (src/core/elbow_agg.c): the step of points in memory against the
 *	  states accumulated in random splits and orders, bit for bit; each
 *	  model's results against the one-model step and an independent
 *	  computation; the curve from points in memory against the curve from
 *	  shuffled points stepped in random splits, bit for bit; the curve
 *	  against the core's exact elbow; the sample against a brute-force
 *	  sort; errors.
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

#include "core/elbow_agg.h"
#include "core/kmeans_step.h"
#include "core/knee.h"
#include "core/rng.h"
#include "harness.h"
#include "test_core.h"

/* Bits of a double */
static uint64_t
bits(double x)
{
	uint64_t	u;

	memcpy(&u, &x, sizeof(u));
	return u;
}

/* Random permutation of 0..n-1 */
static size_t *
shuffled(size_t n, uint64_t seed)
{
	size_t	   *p = malloc(n * sizeof(size_t));
	ecore_rng	r;
	size_t		i;

	ecore_rng_seed(&r, seed, 7);
	for (i = 0; i < n; i++)
		p[i] = i;
	for (i = n; i > 1; i--)
	{
		size_t		j = (size_t) ecore_rng_below(&r, (uint64_t) i),
					t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

/*
 * The multi-model step of Z accumulated over the points in the order
 * perm, cut into `parts` random parts, the parts merged in a random order
 * (into a fresh state of nslots slots, returned).
 */
static int64_t *
split_state(const double *Z, size_t n, size_t d, int M, const int *ks,
			const double *const *C, const double *const *R,
			const size_t *perm, int parts, uint64_t seed)
{
	size_t		nslots = ecore_ksteps_slots(M, ks, d);
	int64_t    *acc = malloc(nslots * sizeof(int64_t));
	int64_t   **part = malloc(sizeof(int64_t *) * (size_t) parts);
	size_t	   *cut = malloc(sizeof(size_t) * (size_t) (parts + 1));
	size_t	   *po = shuffled((size_t) parts, seed + 1);
	ecore_rng	r;
	size_t		i;
	int			p;

	ecore_rng_seed(&r, seed, 3);
	cut[0] = 0;
	cut[parts] = n;
	for (p = 1; p < parts; p++)
		cut[p] = (size_t) ecore_rng_below(&r, (uint64_t) n + 1);
	/* sort the cuts */
	for (p = 1; p < parts; p++)
	{
		int			q;

		for (q = p; q > 1 && cut[q - 1] > cut[q]; q--)
		{
			size_t		t = cut[q];

			cut[q] = cut[q - 1];
			cut[q - 1] = t;
		}
	}
	for (p = 0; p < parts; p++)
	{
		part[p] = malloc(nslots * sizeof(int64_t));
		ecore_ksteps_init(part[p], M, ks, d, C, R, 42);
		for (i = cut[p]; i < cut[p + 1]; i++)
			ecore_ksteps_add(part[p], Z + perm[i] * d);
	}
	ecore_ksteps_init(acc, M, ks, d, C, R, 42);
	for (p = 0; p < parts; p++)
	{
		CHECK(ecore_ksteps_check(part[po[p]], nslots) == ECORE_OK);
		CHECK(ecore_ksteps_merge(acc, part[po[p]]) == ECORE_OK);
		free(part[po[p]]);
	}
	free(part);
	free(cut);
	free(po);
	return acc;
}

/* Do two models' results (k clusters, d features) agree bit for bit? */
static int
same_out(const ecore_kstep_out *a, double sa, const ecore_kstep_out *b,
		 double sb, int k, size_t d)
{
	return memcmp(a->next, b->next, (size_t) k * d * sizeof(double)) == 0 &&
		memcmp(a->sizes, b->sizes, (size_t) k * sizeof(int64_t)) == 0 &&
		memcmp(a->cluster_inertia, b->cluster_inertia, (size_t) k * sizeof(double)) == 0 &&
		bits(a->inertia) == bits(b->inertia) && bits(sa) == bits(sb) &&
		a->n == b->n && a->empty == b->empty && a->relocated == b->relocated &&
		a->fixed_point == b->fixed_point &&
		bits(a->davies_bouldin) == bits(b->davies_bouldin) &&
		bits(a->calinski_harabasz) == bits(b->calinski_harabasz);
}

/* Output arrays of one model's results */
static void
out_alloc(ecore_kstep_out *o, int k, size_t d)
{
	o->next = malloc((size_t) k * d * sizeof(double));
	o->sizes = malloc((size_t) k * sizeof(int64_t));
	o->cluster_inertia = malloc((size_t) k * sizeof(double));
}

/* Free them */
static void
out_free(ecore_kstep_out *o)
{
	free(o->next);
	free(o->sizes);
	free(o->cluster_inertia);
}

/*
 * Multi-model steps: in memory == random splits and orders, bit for bit;
 * each model == its one-model step; sums and silhouette against an
 * independent computation.
 */
void
test_ksteps_splits(void)
{
	const size_t n = 3001,
				d = 3;
	const int	M = 5;
	int			ks[5] = {1, 2, 3, 5, 4};
	double	   *X = make_blobs(n, d, 4, 12.0, 11, NULL);
	double	   *Cs[5];
	const double *C[5];
	size_t		nslots = ecore_ksteps_slots(M, ks, d),
				i;
	int64_t    *mem = malloc(nslots * sizeof(int64_t)),
			   *scratch = malloc(ecore_kstep_slots(5, d) * sizeof(int64_t));
	ecore_env	env = make_env();
	ecore_rng	r;
	int			j,
				trial;

	CHECK(nslots > 0);
	ecore_rng_seed(&r, 5, 5);
	for (j = 0; j < M; j++)
	{
		int			c;

		Cs[j] = malloc((size_t) ks[j] * d * sizeof(double));
		for (c = 0; c < ks[j] * (int) d; c++)
			Cs[j][c] = 12.0 * (ecore_rng_uniform(&r) - 0.5);
		C[j] = Cs[j];
	}
	/* model 4 has a centroid no point is near: an empty cluster */
	Cs[4][3 * d] = Cs[4][3 * d + 1] = Cs[4][3 * d + 2] = 1e6;

	ecore_ksteps_memory(mem, M, ks, d, C, NULL, 42, X, n, &env);
	CHECK(ecore_ksteps_check(mem, nslots) == ECORE_OK);
	CHECK_EQ_INT(ecore_ksteps_models(mem), M);
	CHECK(ecore_ksteps_same_models(mem, M, ks, C, NULL));
	for (trial = 0; trial < 6; trial++)
	{
		size_t	   *perm = shuffled(n, 100 + (uint64_t) trial);
		int64_t    *sp = split_state(X, n, d, M, ks, C, NULL, perm, 1 + 3 * trial,
									 200 + (uint64_t) trial);

		for (j = 0; j < M; j++)
		{
			ecore_kstep_out a,
						b;
			double		sa,
						sb;

			out_alloc(&a, ks[j], d);
			out_alloc(&b, ks[j], d);
			CHECK(ecore_ksteps_final(mem, j, scratch, &a, &sa) == ECORE_OK);
			CHECK(ecore_ksteps_final(sp, j, scratch, &b, &sb) == ECORE_OK);
			CHECK(same_out(&a, sa, &b, sb, ks[j], d));
			out_free(&a);
			out_free(&b);
		}
		free(sp);
		free(perm);
	}

	/* each model: the one-model step (kmeans_step_agg) and a reference */
	for (j = 0; j < M; j++)
	{
		size_t		ns = ecore_kstep_slots(ks[j], d);
		int64_t    *one = malloc(ns * sizeof(int64_t));
		ecore_kstep_out a,
					b;
		double		sa,
					ref_sil = 0.0,
					ref_in = 0.0,
				   *ref_sum = calloc((size_t) ks[j] * d, sizeof(double));
		int64_t    *ref_cnt = calloc((size_t) ks[j], sizeof(int64_t));
		int			c;

		ecore_kstep_init(one, ks[j], d, C[j], 42);
		for (i = 0; i < n; i++)
		{
			double		d2,
						b2 = INFINITY,
						aa,
						bb,
						mx;
			int			near = ref_nearest(X + i * d, C[j], ks[j], d, &d2),
						f;

			ecore_kstep_add(one, C[j], X + i * d);
			ref_cnt[near]++;
			ref_in += d2;
			for (f = 0; f < (int) d; f++)
				ref_sum[(size_t) near * d + f] += X[i * d + f];
			for (c = 0; c < ks[j]; c++)
				if (c != near && ref_sqdist(X + i * d, C[j] + (size_t) c * d, d) < b2)
					b2 = ref_sqdist(X + i * d, C[j] + (size_t) c * d, d);
			aa = sqrt(d2);
			bb = sqrt(b2);
			mx = aa > bb ? aa : bb;
			if (ks[j] > 1)
				ref_sil += mx > 0.0 ? (bb - aa) / mx : 0.0;
		}
		out_alloc(&a, ks[j], d);
		out_alloc(&b, ks[j], d);
		CHECK(ecore_ksteps_final(mem, j, scratch, &a, &sa) == ECORE_OK);
		CHECK(ecore_kstep_final(one, scratch, &b) == ECORE_OK);
		/* the one-model step has no indexes (test_ksteps_indexes) */
		CHECK(isnan(b.davies_bouldin) && isnan(b.calinski_harabasz));
		b.davies_bouldin = a.davies_bouldin;
		b.calinski_harabasz = a.calinski_harabasz;
		CHECK(same_out(&a, sa, &b, sa, ks[j], d));
		CHECK_CLOSE(a.inertia, ref_in, 1e-12);
		if (ks[j] == 1)
			CHECK(isnan(sa));
		else
			CHECK_CLOSE(sa, ref_sil / (double) n, 1e-12);
		for (c = 0; c < ks[j]; c++)
		{
			CHECK(a.sizes[c] == ref_cnt[c]);
			/* (with an empty cluster, a relocated point moves a mean) */
			if (ref_cnt[c] > 0 && a.empty == 0)
				CHECK_CLOSE(a.next[(size_t) c * d], ref_sum[(size_t) c * d] / (double) ref_cnt[c], 1e-12);
		}
		if (j == 4)
		{
			CHECK_EQ_INT(a.empty, 1);
			CHECK_EQ_INT(a.relocated, 1);
		}
		out_free(&a);
		out_free(&b);
		free(one);
		free(ref_sum);
		free(ref_cnt);
	}

	/* merging states of other models is refused, a unchanged */
	{
		int			ks2[5] = {1, 2, 3, 5, 5};
		size_t		ns2 = ecore_ksteps_slots(M, ks2, d);
		int64_t    *other = malloc(ns2 * sizeof(int64_t));
		const double *C2[5] = {C[0], C[1], C[2], C[3], C[3]};

		ecore_ksteps_init(other, M, ks2, d, C2, NULL, 42);
		CHECK(ecore_ksteps_merge(mem, other) == ECORE_EINVAL_ARG);
		free(other);
		other = malloc(nslots * sizeof(int64_t));
		ecore_ksteps_init(other, M, ks, d, C, NULL, 43);
		CHECK(ecore_ksteps_merge(mem, other) == ECORE_EINVAL_ARG);
		Cs[2][0] += 1.0;
		ecore_ksteps_init(other, M, ks, d, C, NULL, 42);
		CHECK(ecore_ksteps_merge(mem, other) == ECORE_EINVAL_ARG);
		CHECK(!ecore_ksteps_same_models(mem, M, ks, C, NULL));
		CHECK(ecore_ksteps_check(mem, nslots) == ECORE_OK);
		/* a damaged state is refused */
		mem[1] = 7;
		CHECK(ecore_ksteps_check(mem, nslots) == ECORE_EINVAL_ARG);
		CHECK(ecore_ksteps_check(mem, nslots - 1) == ECORE_EINVAL_ARG);
		free(other);
	}
	CHECK(ecore_ksteps_slots(0, ks, d) == 0);
	CHECK(ecore_ksteps_slots(M, ks, 0) == 0);
	for (j = 0; j < M; j++)
		free(Cs[j]);
	free(mem);
	free(scratch);
	free(X);
}

/* ---------------------------------------------------------------------
 * The curve
 * ---------------------------------------------------------------------
 */

/*
 * ecore_kstep_delta == a fresh step of every point (ecore_kstep_add), bit
 * for bit through ecore_kstep_final: Lloyd's sequence of centroids, jumps
 * of every centroid, a far centroid (an empty cluster relocated), equal
 * centroids (ties), k = 1, and d = 1, 3 and 5 (the generic kernel).
 */
void
test_kstep_delta(void)
{
	static const size_t dims[3] = {1, 3, 5};
	int			di;

	for (di = 0; di < 3; di++)
	{
		const size_t n = 3000,
					d = dims[di];
		double	   *X = make_blobs(n, d, 4, 9.0, 61 + (uint64_t) di, NULL);
		int			kk;

		for (kk = 0; kk < 3; kk++)
		{
			int			k = kk == 0 ? 1 : kk == 1 ? 4 : 6;
			size_t		ns = ecore_kstep_slots(k, d),
						kd = (size_t) k * d,
						i;
			int64_t    *fresh = malloc(ns * sizeof(int64_t)),
					   *delta = malloc(ns * sizeof(int64_t)),
					   *scratch = malloc(ns * sizeof(int64_t));
			int32_t    *assign = malloc(n * sizeof(int32_t));
			double	   *lower = malloc(n * sizeof(double)),
					   *C = malloc(kd * sizeof(double));
			ecore_kstep_out a,
						b;
			ecore_env	env = make_env();
			ecore_rng	r;
			int			t;

			ecore_rng_seed(&r, 5 + (uint64_t) kk, 11);
			out_alloc(&a, k, d);
			out_alloc(&b, k, d);
			for (i = 0; i < kd; i++)
				C[i] = X[(i / d) * 97 * d + i % d];
			for (t = 0; t < 14; t++)
			{
				if (t == 5)
					/* every centroid jumps */
					for (i = 0; i < kd; i++)
						C[i] += ecore_rng_uniform(&r) * 6.0 - 3.0;
				if (t == 8 && k > 1)
					C[kd - 1] = 1e3;	/* far: its cluster empties */
				if (t == 10 && k > 1)
					memcpy(C + d, C, d * sizeof(double));	/* a tie */
				ecore_kstep_init(fresh, k, d, C, 7);
				for (i = 0; i < n; i++)
					ecore_kstep_add(fresh, C, X + i * d);
				if (t == 0)
					ecore_kstep_init(delta, k, d, C, 7);
				ecore_kstep_delta(delta, C, t == 0, X, n, assign, lower, 1, NULL, &env);
				CHECK_EQ_INT(ecore_kstep_check(delta, ns), ECORE_OK);
				CHECK_EQ_INT(ecore_kstep_final(fresh, scratch, &a), ECORE_OK);
				CHECK_EQ_INT(ecore_kstep_final(delta, scratch, &b), ECORE_OK);
				CHECK(same_out(&a, 0.0, &b, 0.0, k, d));
				if (t == 8 && k > 1)
					CHECK(a.empty >= 1 && a.relocated >= 1);
				memcpy(C, a.next, kd * sizeof(double));
			}
			out_free(&a);
			out_free(&b);
			free(fresh);
			free(delta);
			free(scratch);
			free(assign);
			free(lower);
			free(C);
			arena_reset(&g_arena);
		}
		free(X);
	}
}

/* Points with keys: the in-memory source's arrays */
typedef struct test_points
{
	size_t		n,
				d;
	double	   *X,
			   *Z;
	uint64_t   *hashes;
	char	  **keys;
	size_t	   *keylens;
	ecore_scaler s;
	double		sbuf[6 * 8];
} test_points;

/* Keys "u<i>", hashes, the zscore scaler of scaleagg, normalised points */
static void
points_make(test_points *p, const double *X, size_t n, size_t d, uint64_t seed)
{
	size_t		i;
	int64_t    *st = malloc(ecore_scaleagg_slots(d, ECORE_SCALE_ZSCORE) * sizeof(int64_t));
	ecore_env	env = {0};

	p->n = n;
	p->d = d;
	p->X = malloc(n * d * sizeof(double));
	p->Z = malloc(n * d * sizeof(double));
	memcpy(p->X, X, n * d * sizeof(double));
	p->hashes = malloc(n * sizeof(uint64_t));
	p->keys = malloc(n * sizeof(char *));
	p->keylens = malloc(n * sizeof(size_t));
	for (i = 0; i < n; i++)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "u%zu", i);
		p->keylens[i] = strlen(buf);
		p->keys[i] = malloc(p->keylens[i]);
		memcpy(p->keys[i], buf, p->keylens[i]);
		p->hashes[i] = ecore_sample_hash(seed, buf, p->keylens[i]);
	}
	ecore_scaleagg_init(st, d, ECORE_SCALE_ZSCORE);
	for (i = 0; i < n; i++)
	{
		size_t		col;

		CHECK(ecore_scaleagg_add(st, X + i * d, &col) == ECORE_OK);
	}
	p->s.method = ECORE_SCALE_ZSCORE;
	p->s.d = d;
	p->s.mean = p->sbuf;
	p->s.var = p->sbuf + d;
	p->s.data_min = p->sbuf + 2 * d;
	p->s.data_max = p->sbuf + 3 * d;
	p->s.scale = p->sbuf + 4 * d;
	p->s.offset = p->sbuf + 5 * d;
	CHECK(ecore_scaleagg_final(st, &p->s) == ECORE_OK);
	CHECK(ecore_scaler_transform(&p->s, p->X, n, p->Z, &env) == ECORE_OK);
	free(st);
}

/* The same points in the order perm */
static void
points_permuted(test_points *q, const test_points *p, const size_t *perm)
{
	size_t		i,
				d = p->d;

	*q = *p;
	q->X = malloc(p->n * d * sizeof(double));
	q->Z = malloc(p->n * d * sizeof(double));
	q->hashes = malloc(p->n * sizeof(uint64_t));
	q->keys = malloc(p->n * sizeof(char *));
	q->keylens = malloc(p->n * sizeof(size_t));
	for (i = 0; i < p->n; i++)
	{
		memcpy(q->X + i * d, p->X + perm[i] * d, d * sizeof(double));
		memcpy(q->Z + i * d, p->Z + perm[i] * d, d * sizeof(double));
		q->hashes[i] = p->hashes[perm[i]];
		q->keys[i] = p->keys[perm[i]];
		q->keylens[i] = p->keylens[perm[i]];
	}
}

/* Free a point set (owns_keys: the key strings too) */
static void
points_free(test_points *p, int owns_keys)
{
	size_t		i;

	if (owns_keys)
		for (i = 0; i < p->n; i++)
			free(p->keys[i]);
	free(p->X);
	free(p->Z);
	free(p->hashes);
	free(p->keys);
	free(p->keylens);
}

/* The in-memory source of a point set */
static void
memory_of(ecore_elbow_memory *m, const test_points *p, ecore_env *env)
{
	memset(m, 0, sizeof(*m));
	m->Z = p->Z;
	m->X = p->X;
	m->n = p->n;
	m->d = p->d;
	m->hashes = p->hashes;
	m->keys = (const char *const *) p->keys;
	m->keylens = p->keylens;
	m->fingerprint = 42;
	m->env = env;
}

/* A source that steps in random splits (its own points and seed) */
typedef struct split_source
{
	ecore_elbow_memory mem;
	uint64_t	seed;
	int			calls;
} split_source;

/* ecore_elbow_agg_source.steps in random splits and orders */
static int
split_steps(void *arg, int M, const int *ks, const double *const *C,
			const double *const *R, ecore_kstep_out *out, double *sil,
			int64_t *work)
{
	split_source *s = (split_source *) arg;
	size_t	   *perm = shuffled(s->mem.n, s->seed + (uint64_t) s->calls);
	int64_t    *st = split_state(s->mem.Z, s->mem.n, s->mem.d, M, ks, C, R, perm,
								 1 + s->calls % 5, s->seed * 31 + (uint64_t) s->calls);
	int			j,
				rc = ECORE_OK;

	s->calls++;
	for (j = 0; j < M && rc == ECORE_OK; j++)
		rc = ecore_ksteps_final(st, j, work, &out[j], &sil[j]);
	free(st);
	free(perm);
	return rc;
}

/* Outputs of a curve of nk values of k, k_max, d */
typedef struct curve
{
	double	   *inertia,
			   *sil,
			   *db,
			   *ch,
			   *cent;
	int		   *iters;
	ecore_elbow_agg_out out;
} curve;

/* Run the curve on a source; the status */
static int
run_curve(curve *c, size_t n, size_t d, const ecore_elbow_agg_params *ep,
		  ecore_elbow_agg_source *src, ecore_env *env)
{
	int			nk = ep->k_max - ep->k_min + 1;

	c->inertia = malloc(sizeof(double) * (size_t) nk);
	c->sil = malloc(sizeof(double) * (size_t) nk);
	c->db = malloc(sizeof(double) * (size_t) nk);
	c->ch = malloc(sizeof(double) * (size_t) nk);
	c->iters = malloc(sizeof(int) * (size_t) nk);
	c->cent = calloc((size_t) nk * (size_t) ep->k_max * d, sizeof(double));
	memset(&c->out, 0, sizeof(c->out));
	c->out.inertia = c->inertia;
	c->out.silhouette = c->sil;
	c->out.davies_bouldin = c->db;
	c->out.calinski_harabasz = c->ch;
	c->out.iterations = c->iters;
	c->out.centroids = c->cent;
	return ecore_elbow_agg(n, d, ep, src, env, &c->out);
}

/* Are two curves the same bits? */
static int
same_curve(const curve *a, const curve *b, int nk, int k_max, size_t d)
{
	int			i;

	for (i = 0; i < nk; i++)
		if (bits(a->inertia[i]) != bits(b->inertia[i]) ||
			bits(a->sil[i]) != bits(b->sil[i]) || a->iters[i] != b->iters[i] ||
			bits(a->db[i]) != bits(b->db[i]) || bits(a->ch[i]) != bits(b->ch[i]))
			return 0;
	return memcmp(a->cent, b->cent, sizeof(double) * (size_t) nk * (size_t) k_max * d) == 0 &&
		a->out.steps == b->out.steps && a->out.candidates == b->out.candidates &&
		a->out.sample_used == b->out.sample_used;
}

/* Free a curve */
static void
curve_free(curve *c)
{
	free(c->inertia);
	free(c->sil);
	free(c->db);
	free(c->ch);
	free(c->iters);
	free(c->cent);
}

/*
 * The curve from points in memory == from shuffled points stepped in
 * random splits and orders, bit for bit; sampled and on every point.
 */
void
test_elbow_agg_splits(void)
{
	const size_t n = 4000,
				d = 3;
	double	   *X = make_blobs(n, d, 5, 14.0, 21, NULL);
	test_points p,
				q;
	size_t	   *perm = shuffled(n, 77);
	ecore_elbow_agg_params ep;
	int			pass;

	points_make(&p, X, n, d, 9);
	points_permuted(&q, &p, perm);
	for (pass = 0; pass < 2; pass++)
	{
		ecore_env	env = make_env();
		ecore_elbow_memory mem;
		split_source ss;
		ecore_elbow_agg_source a,
					b;
		curve		ca,
					cb;
		int			i;

		ecore_elbow_agg_params_default(&ep);
		ep.km.seed = 9;
		ep.km.n_init = 3;
		ep.k_min = 1;
		ep.k_max = 7;
		ep.sample = pass == 0 ? 600 : 0;
		memory_of(&mem, &p, &env);
		a.steps = ecore_elbow_memory_steps;
		a.sample = ecore_elbow_memory_sample;
		a.arg = &mem;
		a.memory = &mem;
		ep.in_memory = 1;		/* each k refined in turn by bounded steps */
		CHECK_EQ_INT(run_curve(&ca, n, d, &ep, &a, &env), ECORE_OK);
		CHECK_EQ_INT(g_arena.count, 1);
		memory_of(&ss.mem, &q, &env);
		ss.seed = 1000 + (uint64_t) pass;
		ss.calls = 0;
		b.steps = split_steps;
		b.sample = ecore_elbow_memory_sample;
		b.arg = &ss;
		b.memory = NULL;
		ep.in_memory = 0;		/* every k's rounds at once, as aggregates */
		ep.km.n_threads = 3;	/* the restarts' threads change nothing */
		CHECK_EQ_INT(run_curve(&cb, n, d, &ep, &b, &env), ECORE_OK);
		CHECK(same_curve(&ca, &cb, 7, 7, d));
		arena_reset(&g_arena);
		curve_free(&cb);
		/* the points in memory stepped as aggregates would: the same */
		a.memory = NULL;
		CHECK_EQ_INT(run_curve(&cb, n, d, &ep, &a, &env), ECORE_OK);
		CHECK(same_curve(&ca, &cb, 7, 7, d));
		CHECK_EQ_INT(ca.out.sampled, pass == 0);
		CHECK(ca.out.sample_used == (pass == 0 ? 600 : n));
		CHECK(ca.out.steps >= 3);
		CHECK_EQ_INT(ss.calls, cb.out.steps + 1);	/* and the indexes' pass */
		/* decreasing inertia, k = 1 is the exact total */
		for (i = 1; i < 7; i++)
			CHECK(ca.inertia[i] < ca.inertia[i - 1]);
		CHECK(isnan(ca.sil[0]));
		for (i = 1; i < 7; i++)
			CHECK(ca.sil[i] > -1.0 && ca.sil[i] <= 1.0);
		arena_reset(&g_arena);
		curve_free(&ca);
		curve_free(&cb);
	}
	points_free(&q, 0);
	points_free(&p, 1);
	free(perm);
	free(X);
}

/*
 * The curve against the core's exact elbow (ecore_elbow_curve on every
 * point): every inertia within 1e-3 above it, the same elbow; the
 * silhouette of the kept centroids within 1e-12 of the core's.
 */
void
test_elbow_agg_quality(void)
{
	const size_t n = 6000,
				d = 3;
	double	   *X = make_blobs(n, d, 4, 10.0, 31, NULL);
	test_points p;
	ecore_elbow_agg_params ep;
	ecore_elbow_params cp;
	ecore_elbow_out co;
	ecore_elbow_memory mem;
	ecore_elbow_agg_source src;
	curve		c;
	double		ci[8],
				cs[8];
	long		ka,
				kc;
	int			pass,
				i;

	points_make(&p, X, n, d, 3);
	for (pass = 0; pass < 2; pass++)
	{
		ecore_env	env = make_env();

		ecore_elbow_params_default(&cp);
		cp.k_min = 1;
		cp.k_max = 8;
		memset(&co, 0, sizeof(co));
		co.inertia = ci;
		co.silhouette = cs;
		CHECK_EQ_INT(ecore_elbow_curve(p.Z, n, d, &cp, &env, &co), ECORE_OK);
		arena_reset(&g_arena);
		ecore_elbow_agg_params_default(&ep);
		ep.k_min = 1;
		ep.k_max = 8;
		ep.sample = pass == 0 ? 1500 : 0;
		memory_of(&mem, &p, &env);
		src.steps = ecore_elbow_memory_steps;
		src.sample = ecore_elbow_memory_sample;
		src.arg = &mem;
		src.memory = &mem;
		ep.in_memory = 1;
		CHECK_EQ_INT(run_curve(&c, n, d, &ep, &src, &env), ECORE_OK);
		for (i = 0; i < 8; i++)
			CHECK(c.inertia[i] <= ci[i] * (1.0 + 1e-3));
		CHECK_CLOSE(c.inertia[0], ci[0], 1e-9);
		CHECK_EQ_INT(ecore_knee_elbow(c.inertia, 8, &ka), ECORE_OK);
		CHECK_EQ_INT(ecore_knee_elbow(ci, 8, &kc), ECORE_OK);
		CHECK(ka == kc);
		/* the silhouette of the kept centroids: the core's, to rounding */
		for (i = 1; i < 8; i++)
		{
			double		s;

			CHECK_EQ_INT(ecore_silhouette_simplified(p.Z, n, d, c.cent + (size_t) i * 8 * d,
													 i + 1, NULL, &env, &s, NULL), ECORE_OK);
			CHECK_CLOSE(c.sil[i], s, 1e-12);
		}
		curve_free(&c);
	}
	points_free(&p, 1);
	free(X);
}

/*
 * The intermediate stage (elbow_agg.h, step 3b; stage_min_n lowered to
 * reach it here): in memory == shuffled points stepped in random splits
 * and orders as on aggregates == the points in memory stepped as
 * aggregates, bit for bit; the restarts' candidates are those of the
 * curve without the stage (the larger sample begins with the sample);
 * every inertia within 1e-3 above the core's exact elbow (but k = 8,
 * see below), the same elbow;
 * not used below stage_min_n, nor when the larger sample would not be
 * below n or above sample_cutoff's bound.
 */
void
test_elbow_agg_stage(void)
{
	const size_t n = 6000,
				d = 3;
	double	   *X = make_blobs(n, d, 6, 10.0, 83, NULL);
	test_points p,
				q;
	size_t	   *perm = shuffled(n, 55);
	ecore_elbow_agg_params ep;
	ecore_elbow_params cp;
	ecore_elbow_out co;
	ecore_env	env = make_env();
	ecore_elbow_memory mem;
	split_source ss;
	ecore_elbow_agg_source a,
				b;
	curve		ca,
				cb,
				cn;
	double		ci[8],
				cs[8];
	long		ka,
				kc;
	size_t		b1,
				b2;
	int			i;

	points_make(&p, X, n, d, 5);
	points_permuted(&q, &p, perm);
	ecore_elbow_agg_params_default(&ep);
	ep.km.seed = 4;
	ep.k_min = 1;
	ep.k_max = 8;
	ep.sample = 500;
	ep.stage_min_n = 5000;
	memory_of(&mem, &p, &env);
	a.steps = ecore_elbow_memory_steps;
	a.sample = ecore_elbow_memory_sample;
	a.arg = &mem;
	a.memory = &mem;
	ep.in_memory = 1;
	CHECK_EQ_INT(run_curve(&ca, n, d, &ep, &a, &env), ECORE_OK);
	CHECK_EQ_INT(g_arena.count, 1);
	CHECK(ca.out.stage_used == 500 * ECORE_ELBOW_STAGE_FACTOR);
	CHECK(ca.out.sample_used == 500);
	arena_reset(&g_arena);
	/* on aggregates: shuffled points in random splits, 3 threads */
	memory_of(&ss.mem, &q, &env);
	ss.seed = 2024;
	ss.calls = 0;
	b.steps = split_steps;
	b.sample = ecore_elbow_memory_sample;
	b.arg = &ss;
	b.memory = NULL;
	ep.in_memory = 0;
	ep.km.n_threads = 3;
	CHECK_EQ_INT(run_curve(&cb, n, d, &ep, &b, &env), ECORE_OK);
	CHECK(same_curve(&ca, &cb, 8, 8, d));
	CHECK(cb.out.stage_used == ca.out.stage_used);
	arena_reset(&g_arena);
	curve_free(&cb);
	/* the points in memory stepped as aggregates would */
	a.memory = NULL;
	ep.km.n_threads = 1;
	CHECK_EQ_INT(run_curve(&cb, n, d, &ep, &a, &env), ECORE_OK);
	CHECK(same_curve(&ca, &cb, 8, 8, d));
	arena_reset(&g_arena);
	curve_free(&cb);
	a.memory = &mem;
	ep.in_memory = 1;

	/* without the stage (n below stage_min_n): the same candidates */
	ep.stage_min_n = n + 1;
	CHECK_EQ_INT(run_curve(&cn, n, d, &ep, &a, &env), ECORE_OK);
	CHECK(cn.out.stage_used == 0);
	CHECK_EQ_INT(cn.out.candidates, ca.out.candidates);
	arena_reset(&g_arena);

	/* against the core's exact elbow on every point */
	ecore_elbow_params_default(&cp);
	cp.k_min = 1;
	cp.k_max = 8;
	memset(&co, 0, sizeof(co));
	co.inertia = ci;
	co.silhouette = cs;
	CHECK_EQ_INT(ecore_elbow_curve(p.Z, n, d, &cp, &env, &co), ECORE_OK);
	arena_reset(&g_arena);
	/*
	 * (k = 8, two clusters more than the blobs, is about 1.2e-3 above the
	 * core's on this sample of 500 points with or without the stage)
	 */
	for (i = 0; i < 7; i++)
		CHECK(ca.inertia[i] <= ci[i] * (1.0 + 1e-3));
	CHECK(ca.inertia[7] <= ci[7] * (1.0 + 2e-3));
	CHECK(bits(ca.inertia[0]) == bits(cn.inertia[0]));
	CHECK_EQ_INT(ecore_knee_elbow(ca.inertia, 8, &ka), ECORE_OK);
	CHECK_EQ_INT(ecore_knee_elbow(ci, 8, &kc), ECORE_OK);
	CHECK(ka == kc);
	curve_free(&ca);
	curve_free(&cn);

	/*
	 * when used: more room (the larger sample, its weights and runs);
	 * not when the larger sample would not be below n, nor past
	 * ECORE_CUTOFF_MAX_M - 1 points
	 */
	ecore_elbow_agg_params_default(&ep);
	ep.sample = 32768;
	ep.stage_min_n = 1;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(2000000, 3, &ep, &b1), ECORE_OK);
	ep.stage_min_n = 2000001;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(2000000, 3, &ep, &b2), ECORE_OK);
	CHECK(b1 > b2 + 7 * 32768 * 3 * sizeof(double));
	ep.stage_min_n = 0;			/* the default: from 2,000,000 points */
	CHECK_EQ_INT(ecore_elbow_agg_bytes(2000000, 3, &ep, &b2), ECORE_OK);
	CHECK(b1 == b2);
	CHECK_EQ_INT(ecore_elbow_agg_bytes(1999999, 3, &ep, &b2), ECORE_OK);
	CHECK(b1 > b2 + 7 * 32768 * 3 * sizeof(double));
	ep.stage_min_n = 1;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(8 * 32768, 3, &ep, &b1), ECORE_OK);
	ep.stage_min_n = 8 * 32768 + 1;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(8 * 32768, 3, &ep, &b2), ECORE_OK);
	CHECK(b1 == b2);
	ep.sample = (ECORE_CUTOFF_MAX_M - 1) / ECORE_ELBOW_STAGE_FACTOR + 1;
	ep.stage_min_n = 1;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(20000000, 3, &ep, &b1), ECORE_OK);
	ep.stage_min_n = 20000001;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(20000000, 3, &ep, &b2), ECORE_OK);
	CHECK(b1 == b2);
	ep.sample--;
	ep.stage_min_n = 1;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(20000000, 3, &ep, &b1), ECORE_OK);
	ep.stage_min_n = 20000001;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(20000000, 3, &ep, &b2), ECORE_OK);
	CHECK(b1 > b2);

	points_free(&q, 0);
	points_free(&p, 1);
	free(perm);
	free(X);
}

/* Brute-force coreset key of point i */
static double
brute_key(const test_points *p, size_t i, const double *mu, double total)
{
	double		d2 = 0.0,
				q;
	size_t		f;

	for (f = 0; f < p->d; f++)
		d2 += (p->Z[i * p->d + f] - mu[f]) * (p->Z[i * p->d + f] - mu[f]);
	q = 0.5 / (double) p->n + 0.5 * (d2 / total);
	return ((double) (p->hashes[i] >> 11) + 0.5) * 0x1.0p-53 / q;
}

/*
 * The sample in memory: the want smallest keys by a brute-force sort
 * (distinct keys here), in that order; every point in key text order.
 */
void
test_elbow_memory_sample(void)
{
	const size_t n = 2500,
				d = 2,
				want = 301;
	double	   *X = make_blobs(n, d, 3, 8.0, 41, NULL);
	test_points p;
	ecore_elbow_memory mem;
	ecore_env	env = make_env();
	double		mu[2] = {0.01, -0.02},
				total = 2.0 * (double) n,
			   *SZ = malloc(n * d * sizeof(double)),
			   *key = malloc(n * sizeof(double)),
			   *all = malloc(n * sizeof(double));
	void	   *iwork = malloc((n + 1) * sizeof(size_t) + n * sizeof(double));
	size_t		got = 0,
				i,
				less;

	points_make(&p, X, n, d, 5);
	memory_of(&mem, &p, &env);
	CHECK_EQ_INT(ecore_elbow_memory_sample(&mem, mu, total, (int64_t) n, 1, want,
										   SZ, key, &got, iwork), ECORE_OK);
	CHECK(got == want);
	for (i = 0; i < n; i++)
		all[i] = brute_key(&p, i, mu, total);
	for (i = 0; i < want; i++)
	{
		size_t		j;

		if (i > 0)
			CHECK(key[i] > key[i - 1]);
		/* key i is the (i + 1)-th smallest */
		less = 0;
		for (j = 0; j < n; j++)
			if (all[j] < key[i])
				less++;
		CHECK(less == i);
		/* its point is the one of that key */
		for (j = 0; j < n; j++)
			if (all[j] == key[i])
				CHECK(memcmp(SZ + i * d, p.Z + j * d, d * sizeof(double)) == 0);
	}
	/* every point: by key text ("u0" < "u1" < "u10" < ...) */
	CHECK_EQ_INT(ecore_elbow_memory_sample(&mem, mu, total, (int64_t) n, 0, n,
										   SZ, key, &got, iwork), ECORE_OK);
	CHECK(got == n);
	CHECK(memcmp(SZ, p.Z, d * sizeof(double)) == 0);	/* u0 */
	CHECK(memcmp(SZ + d, p.Z + d, d * sizeof(double)) == 0);	/* u1 */
	CHECK(memcmp(SZ + 2 * d, p.Z + 10 * d, d * sizeof(double)) == 0);	/* u10 */
	CHECK_EQ_INT(ecore_elbow_memory_sample(&mem, mu, total, (int64_t) n + 1, 0, n,
										   SZ, key, &got, iwork), ECORE_EINVAL_ARG);
	points_free(&p, 1);
	free(X);
	free(SZ);
	free(key);
	free(all);
	free(iwork);
}

/* Parameter errors, and a source that counts other points */
void
test_elbow_agg_errors(void)
{
	ecore_elbow_agg_params ep;
	size_t		bytes;
	ecore_env	env = make_env();
	const size_t n = 500,
				d = 2;
	double	   *X = make_blobs(n, d, 3, 8.0, 51, NULL);
	test_points p;
	ecore_elbow_memory mem;
	ecore_elbow_agg_source src;
	curve		c;

	ecore_elbow_agg_params_default(&ep);
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_OK);
	CHECK_EQ_INT(ecore_elbow_agg_bytes(5, 2, &ep, &bytes), ECORE_EINVAL_K);
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 0, &ep, &bytes), ECORE_EINVAL_D);
	ep.k_min = 0;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_EINVAL_K);
	ep.k_min = 4;
	ep.k_max = 3;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_EINVAL_K);
	ecore_elbow_agg_params_default(&ep);
	ep.sample = 5;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_EINVAL_ARG);
	ep.sample = 0;
	ep.km.init = ECORE_INIT_USER;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_EINVAL_INIT);
	ep.km.init = ECORE_INIT_KMEANSPP;
	ep.refine = 100;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_EINVAL_ARG);
	ep.refine = 0;
	ep.km.tol = -1.0;
	CHECK_EQ_INT(ecore_elbow_agg_bytes(100, 2, &ep, &bytes), ECORE_EINVAL_TOL);

	/* a source whose points are not the n announced */
	points_make(&p, X, n, d, 5);
	memory_of(&mem, &p, &env);
	src.steps = ecore_elbow_memory_steps;
	src.sample = ecore_elbow_memory_sample;
	src.arg = &mem;
	src.memory = NULL;
	ecore_elbow_agg_params_default(&ep);
	ep.k_max = 4;
	CHECK_EQ_INT(run_curve(&c, n + 1, d, &ep, &src, &env), ECORE_EINVAL_ARG);
	curve_free(&c);
	/* the refinement in memory without the points in memory */
	ep.in_memory = 1;
	CHECK_EQ_INT(run_curve(&c, n, d, &ep, &src, &env), ECORE_EINVAL_ARG);
	curve_free(&c);
	src.memory = &mem;
	CHECK_EQ_INT(run_curve(&c, n + 1, d, &ep, &src, &env), ECORE_EINVAL_ARG);
	curve_free(&c);
	ep.in_memory = 0;
	src.memory = NULL;
	/* out of memory */
	env = make_env();
	g_arena.fail_after = 0;
	memory_of(&mem, &p, &env);
	CHECK_EQ_INT(run_curve(&c, n, d, &ep, &src, &env), ECORE_ENOMEM);
	curve_free(&c);
	/* every point the same: too few distinct points for k = 2 */
	{
		size_t		i;

		env = make_env();
		for (i = 0; i < n * d; i++)
			p.Z[i] = 0.5;
		memory_of(&mem, &p, &env);
		CHECK_EQ_INT(run_curve(&c, n, d, &ep, &src, &env), ECORE_EDISTINCT);
		CHECK_EQ_INT(c.out.k, 2);
		curve_free(&c);
	}
	points_free(&p, 1);
	free(X);
}

/*
 * The indexes of the multi-model step: with the centres the exact means
 * of the models' clusters (the next centroids of a first step that left
 * no cluster empty), equal to ecore_cluster_scores of the labels (an
 * independent two-pass computation, kmeans_scores.c); the same bits in
 * random splits; with the centroids as centres, against a direct
 * computation with them; undefined (NaN) for k = 1 and one non-empty
 * cluster.
 */
void
test_ksteps_indexes(void)
{
	const size_t n = 2500,
				d = 4;
	const int	M = 4;
	int			ks[4] = {1, 3, 6, 2};
	double	   *X = make_blobs(n, d, 5, 10.0, 31, NULL);
	double	   *Cs[4],
			   *Rs[4];
	const double *C[4],
			   *R[4];
	size_t		nslots = ecore_ksteps_slots(M, ks, d),
				i,
				wn;
	int64_t    *st = malloc(nslots * sizeof(int64_t)),
			   *st2 = malloc(nslots * sizeof(int64_t)),
			   *scratch = malloc(ecore_kstep_slots(6, d) * sizeof(int64_t));
	int32_t    *labels = malloc(sizeof(int32_t) * n);
	double	   *work;
	ecore_env	env = make_env();
	ecore_rng	r;
	int			j,
				trial;

	ecore_rng_seed(&r, 8, 8);
	for (j = 0; j < M; j++)
	{
		int			c;

		Cs[j] = malloc((size_t) ks[j] * d * sizeof(double));
		Rs[j] = malloc((size_t) ks[j] * d * sizeof(double));
		/* centroids at data points: no cluster is empty */
		for (c = 0; c < ks[j]; c++)
			memcpy(Cs[j] + (size_t) c * d,
				   X + (size_t) ecore_rng_below(&r, n) * d, d * sizeof(double));
		C[j] = Cs[j];
		R[j] = Rs[j];
	}
	/* model 4 (k = 2): both centroids the same point: one cluster */
	memcpy(Cs[3] + d, Cs[3], d * sizeof(double));

	/* a first step: the centres are its next centroids */
	ecore_ksteps_memory(st, M, ks, d, C, NULL, 42, X, n, &env);
	CHECK(ecore_ksteps_check(st, nslots) == ECORE_OK);
	for (j = 0; j < M; j++)
	{
		ecore_kstep_out a;
		double		sa,
					db,
					ch,
					refdb = 0.0,
					W = 0.0,
					B = 0.0,
					mu[4] = {0};
		int			c,
					c2,
					L = 0;
		double		s[6] = {0};

		out_alloc(&a, ks[j], d);
		CHECK(ecore_ksteps_final(st, j, scratch, &a, &sa) == ECORE_OK);
		if (j < 3)
			CHECK_EQ_INT(a.empty, 0);
		memcpy(Rs[j], a.next, (size_t) ks[j] * d * sizeof(double));
		/* with the centroids as centres: a direct computation */
		for (i = 0; i < n; i++)
		{
			double		d2;
			int			near = ref_nearest(X + i * d, C[j], ks[j], d, &d2);
			size_t		f;

			W += d2;
			s[near] += sqrt(d2);
			for (f = 0; f < d; f++)
				mu[f] += X[i * d + f] / (double) n;
		}
		for (c = 0; c < ks[j]; c++)
			if (a.sizes[c] > 0)
			{
				L++;
				s[c] /= (double) a.sizes[c];
				B += (double) a.sizes[c] * ref_sqdist(C[j] + (size_t) c * d, mu, d);
			}
		if (L < 2)
		{
			CHECK(isnan(a.davies_bouldin) && isnan(a.calinski_harabasz));
			out_free(&a);
			continue;
		}
		for (c = 0; c < ks[j]; c++)
		{
			double		worst = 0.0;

			for (c2 = 0; c2 < ks[j]; c2++)
				if (c2 != c)
				{
					double		dd = sqrt(ref_sqdist(C[j] + (size_t) c * d, C[j] + (size_t) c2 * d, d));

					if ((s[c] + s[c2]) / dd > worst)
						worst = (s[c] + s[c2]) / dd;
				}
			refdb += worst;
		}
		db = a.davies_bouldin;
		ch = a.calinski_harabasz;
		CHECK_CLOSE(db, refdb / (double) L, 1e-12);
		CHECK_CLOSE(ch, B * (double) (n - L) / (W * (double) (L - 1)), 1e-12);
		out_free(&a);
	}

	/* the step with the means as centres: scikit-learn's definitions */
	CHECK(ecore_cluster_scores_work(6, d, &wn) == ECORE_OK);
	work = malloc(sizeof(double) * wn);
	ecore_ksteps_memory(st, M, ks, d, C, R, 42, X, n, &env);
	CHECK(ecore_ksteps_check(st, nslots) == ECORE_OK);
	CHECK(ecore_ksteps_same_models(st, M, ks, C, R));
	CHECK(!ecore_ksteps_same_models(st, M, ks, C, NULL));
	for (j = 0; j < M; j++)
	{
		ecore_kstep_out a;
		double		sa,
					db,
					ch;
		double		dummy;

		for (i = 0; i < n; i++)
			labels[i] = ref_nearest(X + i * d, C[j], ks[j], d, &dummy);
		out_alloc(&a, ks[j], d);
		CHECK(ecore_ksteps_final(st, j, scratch, &a, &sa) == ECORE_OK);
		CHECK(ecore_cluster_scores(X, n, d, labels, ks[j], work, &env, &db, &ch) == ECORE_OK);
		if (j == 0 || j == 3)
			CHECK(isnan(db) && isnan(a.davies_bouldin) && isnan(a.calinski_harabasz));
		else
		{
			CHECK_CLOSE(a.davies_bouldin, db, 1e-12);
			CHECK_CLOSE(a.calinski_harabasz, ch, 1e-12);
		}
		out_free(&a);
	}
	/* random splits and orders: the same bits; other centres do not merge */
	for (trial = 0; trial < 4; trial++)
	{
		size_t	   *perm = shuffled(n, 300 + (uint64_t) trial);
		int64_t    *sp = split_state(X, n, d, M, ks, C, R, perm, 1 + 2 * trial,
									 400 + (uint64_t) trial);

		for (j = 0; j < M; j++)
		{
			ecore_kstep_out a,
						b;
			double		sa,
						sb;

			out_alloc(&a, ks[j], d);
			out_alloc(&b, ks[j], d);
			CHECK(ecore_ksteps_final(st, j, scratch, &a, &sa) == ECORE_OK);
			CHECK(ecore_ksteps_final(sp, j, scratch, &b, &sb) == ECORE_OK);
			CHECK(same_out(&a, sa, &b, sb, ks[j], d));
			out_free(&a);
			out_free(&b);
		}
		free(sp);
		free(perm);
	}
	ecore_ksteps_init(st2, M, ks, d, C, NULL, 42);
	CHECK(ecore_ksteps_merge(st, st2) == ECORE_EINVAL_ARG);
	/* a damaged flag is refused */
	memcpy(st2, st, nslots * sizeof(int64_t));
	CHECK(ecore_ksteps_check(st2, nslots) == ECORE_OK);
	{
		/* model 1 (k = 1) starts after the header and the ks */
		size_t		flag = 4 + (size_t) M + ecore_kstep_slots(1, d) + ECORE_XSUM_SLOTS;

		st2[flag] = 1 - st2[flag];
		CHECK(ecore_ksteps_check(st2, nslots) == ECORE_EINVAL_ARG);
	}
	for (j = 0; j < M; j++)
	{
		free(Cs[j]);
		free(Rs[j]);
	}
	free(work);
	free(labels);
	free(st);
	free(st2);
	free(scratch);
	free(X);
}

/* ---------------------------------------------------------------------
 * The fit of kmeans_fit_sampled (ecore_fit_sampled)
 * ---------------------------------------------------------------------
 */

/* A source of the fit over a point set in another order (callbacks) */
typedef struct fit_source
{
	const test_points *p;
	int			steps;
} fit_source;

/* The point set whose order fit_before sorts by */
static const test_points *fit_sort_points;
static int	fit_sort_by_hash;

/* qsort: (signed sample hash,) key text, features; the brute-force order */
static int
fit_before(const void *pa, const void *pb)
{
	const test_points *p = fit_sort_points;
	size_t		a = *(const size_t *) pa,
				b = *(const size_t *) pb,
				la = p->keylens[a],
				lb = p->keylens[b],
				f;
	int			r;

	if (fit_sort_by_hash && (int64_t) p->hashes[a] != (int64_t) p->hashes[b])
		return (int64_t) p->hashes[a] < (int64_t) p->hashes[b] ? -1 : 1;
	r = memcmp(p->keys[a], p->keys[b], la < lb ? la : lb);
	if (r != 0)
		return r;
	if (la != lb)
		return la < lb ? -1 : 1;
	for (f = 0; f < p->d; f++)
		if (p->X[a * p->d + f] != p->X[b * p->d + f])
			return p->X[a * p->d + f] < p->X[b * p->d + f] ? -1 : 1;
	return 0;
}

/* ecore_fit_source.sample by a full sort */
static int
fit_sample_sorted(void *arg, int sampled, size_t want, double *SZ, size_t *got)
{
	fit_source *s = (fit_source *) arg;
	size_t	   *idx = malloc(s->p->n * sizeof(size_t)),
				i;

	for (i = 0; i < s->p->n; i++)
		idx[i] = i;
	fit_sort_points = s->p;
	fit_sort_by_hash = sampled;
	qsort(idx, s->p->n, sizeof(size_t), fit_before);
	for (i = 0; i < want; i++)
		memcpy(SZ + i * s->p->d, s->p->Z + idx[i] * s->p->d, s->p->d * sizeof(double));
	*got = want;
	free(idx);
	return ECORE_OK;
}

/* ecore_fit_source.step: a one-model state of every point, in order */
static int
fit_step_added(void *arg, int k, const double *C, ecore_kstep_out *out)
{
	fit_source *s = (fit_source *) arg;
	size_t		ns = ecore_kstep_slots(k, s->p->d),
				i;
	int64_t    *st = malloc(ns * sizeof(int64_t)),
			   *scratch = malloc(ns * sizeof(int64_t));
	int			rc;

	ecore_kstep_init(st, k, s->p->d, C, 42);
	for (i = 0; i < s->p->n; i++)
		ecore_kstep_add(st, C, s->p->Z + i * s->p->d);
	rc = ecore_kstep_final(st, scratch, out);
	s->steps++;
	free(st);
	free(scratch);
	return rc;
}

/*
 * The fit in memory == the fit of shuffled points through callbacks (a
 * sorted sample, steps added point by point), bit for bit, on a sample
 * and on every point; its centroids a fixed point of the step, numbered
 * by ascending norm; errors.
 */
void
test_fit_sampled(void)
{
	const size_t n = 4000,
				d = 3;
	double	   *X = make_blobs(n, d, 4, 12.0, 31, NULL);
	test_points p,
				q;
	size_t	   *perm = shuffled(n, 78);
	int			pass;

	points_make(&p, X, n, d, 5);
	points_permuted(&q, &p, perm);
	for (pass = 0; pass < 2; pass++)
	{
		ecore_env	env = make_env();
		ecore_elbow_memory mem;
		ecore_fit_params fp;
		ecore_fit_source a,
					b;
		fit_source	fs;
		ecore_fit_out oa,
					ob;
		double		ca[4 * 3],
					cb[4 * 3],
					cia[4],
					cib[4],
					prev = -1.0;
		int64_t		sa[4],
					sb[4];
		size_t		bytes;
		int			j;

		memset(&fp, 0, sizeof(fp));
		ecore_kmeans_params_default(&fp.km);
		fp.km.k = 4;
		fp.km.n_init = 3;
		fp.km.seed = 5;
		fp.sample = pass == 0 ? 500 : n;
		memory_of(&mem, &p, &env);
		memset(&a, 0, sizeof(a));
		a.memory = &mem;
		memset(&oa, 0, sizeof(oa));
		oa.centroids = ca;
		oa.sizes = sa;
		oa.cluster_inertia = cia;
		CHECK_EQ_INT(ecore_fit_sampled_bytes(n, d, &fp, 1, &bytes), ECORE_OK);
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &oa), ECORE_OK);
		CHECK_EQ_INT(g_arena.count, 2);
		arena_reset(&g_arena);
		fs.p = &q;
		fs.steps = 0;
		memset(&b, 0, sizeof(b));
		b.step = fit_step_added;
		b.sample = fit_sample_sorted;
		b.arg = &fs;
		memset(&ob, 0, sizeof(ob));
		ob.centroids = cb;
		ob.sizes = sb;
		ob.cluster_inertia = cib;
		fp.km.n_threads = 3;	/* the restarts' threads change nothing */
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &b, &env, &ob), ECORE_OK);
		CHECK(memcmp(ca, cb, sizeof(ca)) == 0);
		CHECK(memcmp(sa, sb, sizeof(sa)) == 0);
		CHECK(memcmp(cia, cib, sizeof(cia)) == 0);
		CHECK(bits(oa.inertia) == bits(ob.inertia));
		CHECK_EQ_INT(oa.iterations, ob.iterations);
		CHECK_EQ_INT(fs.steps, ob.iterations);
		CHECK_EQ_INT(oa.converged, 1);
		CHECK_EQ_INT(ob.converged, 1);
		CHECK(oa.n == (int64_t) n && oa.sample_used == (pass == 0 ? 500 : n));
		CHECK_EQ_INT(oa.sampled, pass == 0);
		/* a fixed point: one more step from the centroids keeps them */
		{
			ecore_kstep_out o;
			double		next[4 * 3],
						ci[4];
			int64_t		sz[4];

			o.next = next;
			o.sizes = sz;
			o.cluster_inertia = ci;
			CHECK_EQ_INT(fit_step_added(&fs, 4, ca, &o), ECORE_OK);
			CHECK(o.fixed_point);
			CHECK(memcmp(sz, sa, sizeof(sz)) == 0);
			CHECK(bits(o.inertia) == bits(oa.inertia));
		}
		/* ascending norm */
		for (j = 0; j < 4; j++)
		{
			double		nn = sqrt(ca[j * 3] * ca[j * 3] + ca[j * 3 + 1] * ca[j * 3 + 1] +
								  ca[j * 3 + 2] * ca[j * 3 + 2]);

			CHECK(nn >= prev);
			prev = nn;
		}
		arena_reset(&g_arena);
	}
	/* errors: k above the sample, no memory nor callbacks */
	{
		ecore_env	env = make_env();
		ecore_elbow_memory mem;
		ecore_fit_params fp;
		ecore_fit_source a;
		ecore_fit_out oa;
		double		ca[4 * 3],
					cia[4];
		int64_t		sa[4];
		size_t		bytes;

		memset(&fp, 0, sizeof(fp));
		ecore_kmeans_params_default(&fp.km);
		fp.km.k = 4;
		fp.sample = 3;
		memory_of(&mem, &p, &env);
		memset(&a, 0, sizeof(a));
		memset(&oa, 0, sizeof(oa));
		oa.centroids = ca;
		oa.sizes = sa;
		oa.cluster_inertia = cia;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &oa), ECORE_EINVAL_ARG);
		a.memory = &mem;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &oa), ECORE_EINVAL_K);
		fp.sample = n;
		fp.km.k = ECORE_KSTEP_MAX_K + 1;
		CHECK_EQ_INT(ecore_fit_sampled_bytes(n, d, &fp, 1, &bytes), ECORE_EINVAL_K);
		CHECK_EQ_INT(g_arena.count, 0);
		arena_reset(&g_arena);
	}
	points_free(&q, 0);
	points_free(&p, 1);
	free(perm);
	free(X);
}

/* Interrupt check of the threads tests: like the glue's, it calls the
 * abort hook (stop and join the threads) before it longjmps. */
static jmp_buf kt_jump;
static long kt_calls;
static long kt_jump_at;
static int	kt_hooked;

static void
kt_check(void *arg)
{
	ecore_env  *env = (ecore_env *) arg;

	kt_calls++;
	if (kt_jump_at > 0 && kt_calls >= kt_jump_at)
	{
		kt_hooked = env->abort_hook != NULL;
		if (env->abort_hook != NULL)
			env->abort_hook(env->abort_arg);
		longjmp(kt_jump, 1);
	}
}

/*
 * A threaded step of st interrupted by its first check, which the caller
 * makes once the workers have started: stopped, joined
 */
static void
kt_interrupt(int64_t *st, const double *C, const double *X, size_t n,
			 int32_t *assign, double *lower, int64_t *parts)
{
	ecore_env	env = make_env();

	env.check = kt_check;
	env.check_arg = &env;
	kt_calls = 0;
	kt_hooked = 0;
	kt_jump_at = 1;
	if (setjmp(kt_jump) == 0)
	{
		ecore_kstep_delta(st, C, 1, X, n, assign, lower, 3, parts, &env);
		CHECK(0);				/* not reached */
	}
	CHECK(kt_calls == 1);
	CHECK(kt_hooked);			/* the threads were running */
	kt_jump_at = 0;
}

/*
 * ecore_kstep_delta on 1, 2 and 3 threads (and 8, more than the chunks of
 * a small set) == a fresh step of every point, bit for bit through
 * ecore_kstep_final, and the same clusters: Lloyd's sequence, jumps, an
 * empty cluster relocated, ties; d = 3 and 5; the partial states' room;
 * an interrupt stops and joins the threads.
 */
void
test_kstep_delta_threads(void)
{
	static const size_t dims[2] = {3, 5};
	static const int threads[4] = {1, 2, 3, 8};
	int			di;

	/* the room: none for one thread or one chunk, at most one per chunk */
	CHECK(ecore_kstep_delta_parts(4, 3, 100000, 1) == 0);
	CHECK(ecore_kstep_delta_parts(4, 3, 100000, 0) == 0);
	CHECK(ecore_kstep_delta_parts(4, 3, ECORE_KSTEP_PAR_CHUNK, 3) == 0);
	CHECK(ecore_kstep_delta_parts(4, 3, ECORE_KSTEP_PAR_CHUNK + 1, 3) ==
		  ecore_kstep_slots(4, 3));
	CHECK(ecore_kstep_delta_parts(4, 3, 100000, 3) == 2 * ecore_kstep_slots(4, 3));
	CHECK(ecore_kstep_delta_parts(0, 3, 100000, 3) == 0);

	for (di = 0; di < 2; di++)
	{
		const size_t n = 5 * ECORE_KSTEP_PAR_CHUNK + 1234,
					d = dims[di];
		double	   *X = make_blobs(n, d, 5, 9.0, 71 + (uint64_t) di, NULL);
		int			kk;

		for (kk = 0; kk < 2; kk++)
		{
			int			k = kk == 0 ? 4 : 7;
			size_t		ns = ecore_kstep_slots(k, d),
						kd = (size_t) k * d,
						i;
			int64_t    *fresh = malloc(ns * sizeof(int64_t)),
					   *scratch = malloc(ns * sizeof(int64_t)),
					   *delta[4],
					   *parts[4];
			int32_t    *assign[4];
			double	   *lower[4],
					   *C = malloc(kd * sizeof(double));
			ecore_kstep_out a,
						b;
			ecore_env	env = make_env();
			ecore_rng	r;
			int			t,
						h;

			for (h = 0; h < 4; h++)
			{
				size_t		np = ecore_kstep_delta_parts(k, d, n, threads[h]);

				CHECK(np == ns * (size_t) (threads[h] > 6 ? 5 : threads[h] - 1));
				delta[h] = malloc(ns * sizeof(int64_t));
				parts[h] = malloc((np + 1) * sizeof(int64_t));
				assign[h] = malloc(n * sizeof(int32_t));
				lower[h] = malloc(n * sizeof(double));
			}
			ecore_rng_seed(&r, 15 + (uint64_t) kk, 11);
			out_alloc(&a, k, d);
			out_alloc(&b, k, d);
			for (i = 0; i < kd; i++)
				C[i] = X[(i / d) * 97 * d + i % d];
			for (t = 0; t < 12; t++)
			{
				if (t == 4)
					for (i = 0; i < kd; i++)
						C[i] += ecore_rng_uniform(&r) * 6.0 - 3.0;
				if (t == 7)
					C[kd - 1] = 1e3;	/* far: its cluster empties */
				if (t == 9)
					memcpy(C + d, C, d * sizeof(double));	/* a tie */
				ecore_kstep_init(fresh, k, d, C, 7);
				for (i = 0; i < n; i++)
					ecore_kstep_add(fresh, C, X + i * d);
				CHECK_EQ_INT(ecore_kstep_final(fresh, scratch, &a), ECORE_OK);
				for (h = 0; h < 4; h++)
				{
					if (t == 0)
						ecore_kstep_init(delta[h], k, d, C, 7);
					ecore_kstep_delta(delta[h], C, t == 0, X, n, assign[h],
									  lower[h], threads[h], parts[h], &env);
					CHECK(env.abort_hook == NULL);
					CHECK_EQ_INT(ecore_kstep_check(delta[h], ns), ECORE_OK);
					CHECK_EQ_INT(ecore_kstep_final(delta[h], scratch, &b), ECORE_OK);
					CHECK(same_out(&a, 0.0, &b, 0.0, k, d));
					CHECK(memcmp(assign[0], assign[h], n * sizeof(int32_t)) == 0);
				}
				if (t == 7)
					CHECK(a.empty >= 1 && a.relocated >= 1);
				memcpy(C, a.next, kd * sizeof(double));
			}

			/* an interrupt in the middle of a threaded step */
			kt_interrupt(delta[2], C, X, n, assign[2], lower[2], parts[2]);
			/* and the next run is whole again */
			ecore_kstep_init(delta[2], k, d, C, 7);
			ecore_kstep_delta(delta[2], C, 1, X, n, assign[2], lower[2], 3,
							  parts[2], &env);
			ecore_kstep_init(fresh, k, d, C, 7);
			for (i = 0; i < n; i++)
				ecore_kstep_add(fresh, C, X + i * d);
			CHECK_EQ_INT(ecore_kstep_final(fresh, scratch, &a), ECORE_OK);
			CHECK_EQ_INT(ecore_kstep_final(delta[2], scratch, &b), ECORE_OK);
			CHECK(same_out(&a, 0.0, &b, 0.0, k, d));

			out_free(&a);
			out_free(&b);
			for (h = 0; h < 4; h++)
			{
				free(delta[h]);
				free(parts[h]);
				free(assign[h]);
				free(lower[h]);
			}
			free(fresh);
			free(scratch);
			free(C);
			arena_reset(&g_arena);
		}
		free(X);
	}
}

/*
 * ecore_fit_sampled and ecore_elbow_agg in memory on 1, 2 and 3 threads:
 * the same bits, and the memory announced.
 */
void
test_memory_threads(void)
{
	const size_t n = 4 * ECORE_KSTEP_PAR_CHUNK + 777,
				d = 3;
	double	   *X = make_blobs(n, d, 4, 8.0, 44, NULL);
	test_points p;
	ecore_elbow_memory mem;
	double		c0[5 * 3],
				ci0[5],
				inertia0 = 0.0;
	int64_t		s0[5];
	int			it0 = 0,
				h;
	curve		c1,
				ch;

	points_make(&p, X, n, d, 12);
	for (h = 1; h <= 3; h++)
	{
		ecore_env	env = make_env();
		ecore_fit_params fp;
		ecore_fit_source src;
		ecore_fit_out o;
		double		cc[5 * 3],
					ci[5];
		int64_t		sz[5];
		size_t		bytes;

		memset(&fp, 0, sizeof(fp));
		ecore_kmeans_params_default(&fp.km);
		fp.km.k = 5;
		fp.km.n_init = 2;
		fp.km.seed = 3;
		fp.km.n_threads = h;
		fp.sample = 2000;
		memory_of(&mem, &p, &env);
		memset(&src, 0, sizeof(src));
		src.memory = &mem;
		memset(&o, 0, sizeof(o));
		o.centroids = cc;
		o.sizes = sz;
		o.cluster_inertia = ci;
		CHECK_EQ_INT(ecore_fit_sampled_bytes(n, d, &fp, 1, &bytes), ECORE_OK);
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &src, &env, &o), ECORE_OK);
		CHECK_EQ_INT(g_arena.count, 2);
		CHECK(g_arena.total == bytes);
		CHECK(env.abort_hook == NULL);
		CHECK(o.iterations >= 2);
		if (h == 1)
		{
			memcpy(c0, cc, sizeof(c0));
			memcpy(ci0, ci, sizeof(ci0));
			memcpy(s0, sz, sizeof(s0));
			inertia0 = o.inertia;
			it0 = o.iterations;
		}
		else
		{
			CHECK(memcmp(c0, cc, sizeof(c0)) == 0);
			CHECK(memcmp(ci0, ci, sizeof(ci0)) == 0);
			CHECK(memcmp(s0, sz, sizeof(s0)) == 0);
			CHECK(bits(inertia0) == bits(o.inertia));
			CHECK_EQ_INT(it0, o.iterations);
		}
		arena_reset(&g_arena);
	}
	for (h = 1; h <= 3; h++)
	{
		ecore_env	env = make_env();
		ecore_elbow_agg_params ep;
		ecore_elbow_agg_source a;
		size_t		bytes;

		ecore_elbow_agg_params_default(&ep);
		ep.km.seed = 4;
		ep.km.n_init = 2;
		ep.km.n_threads = h;
		ep.k_min = 1;
		ep.k_max = 5;
		ep.sample = 1500;
		ep.in_memory = 1;
		memory_of(&mem, &p, &env);
		a.steps = ecore_elbow_memory_steps;
		a.sample = ecore_elbow_memory_sample;
		a.arg = &mem;
		a.memory = &mem;
		CHECK_EQ_INT(ecore_elbow_agg_bytes(n, d, &ep, &bytes), ECORE_OK);
		CHECK_EQ_INT(run_curve(h == 1 ? &c1 : &ch, n, d, &ep, &a, &env), ECORE_OK);
		CHECK_EQ_INT(g_arena.count, 1);
		CHECK(g_arena.total == bytes);
		CHECK(env.abort_hook == NULL);
		if (h > 1)
		{
			CHECK(same_curve(&c1, &ch, 5, 5, d));
			CHECK_EQ_INT(c1.out.steps, ch.out.steps);
			CHECK_EQ_INT(c1.out.candidates, ch.out.candidates);
			curve_free(&ch);
		}
		arena_reset(&g_arena);
	}
	/* the multi-model step alone: each model's results the same bits */
	{
		int			ks[3] = {2, 4, 6},
					j;
		const double *Cm[3];
		double		cm[6 * 3 * 3];
		size_t		slots = ecore_ksteps_slots(3, ks, d),
					np = ecore_ksteps_memory_parts(3, ks, d, n, 3),
					i;
		int64_t    *one = malloc(slots * sizeof(int64_t)),
				   *three = malloc(slots * sizeof(int64_t)),
				   *parts = malloc((np + 1) * sizeof(int64_t)),
				   *scratch = malloc(slots * sizeof(int64_t));
		ecore_env	env = make_env();

		CHECK(np == 2 * slots);
		CHECK(ecore_ksteps_memory_parts(3, ks, d, n, 1) == 0);
		for (i = 0; i < sizeof(cm) / sizeof(cm[0]); i++)
			cm[i] = p.Z[(i * 7919) % (n * d)];
		for (j = 0; j < 3; j++)
			Cm[j] = cm + (size_t) j * 6 * d;
		ecore_ksteps_memory(one, 3, ks, d, Cm, NULL, 42, p.Z, n, &env);
		ecore_ksteps_memory_threads(three, 3, ks, d, Cm, NULL, 42, p.Z, n, 3,
									parts, &env);
		CHECK(env.abort_hook == NULL);
		CHECK_EQ_INT(ecore_ksteps_check(three, slots), ECORE_OK);
		for (j = 0; j < 3; j++)
		{
			ecore_kstep_out a,
						b;
			double		sa,
						sb;

			out_alloc(&a, ks[j], d);
			out_alloc(&b, ks[j], d);
			CHECK_EQ_INT(ecore_ksteps_final(one, j, scratch, &a, &sa), ECORE_OK);
			CHECK_EQ_INT(ecore_ksteps_final(three, j, scratch, &b, &sb), ECORE_OK);
			CHECK(same_out(&a, sa, &b, sb, ks[j], d));
			CHECK(a.n == (int64_t) n);
			out_free(&a);
			out_free(&b);
		}
		free(one);
		free(three);
		free(parts);
		free(scratch);
	}
	curve_free(&c1);
	points_free(&p, 1);
	free(X);
}

/*
 * The fixed point of Lloyd steps from start (k x 3) over the shuffled
 * points, step by step through fit_step_added (at most max_iter steps):
 * the start's candidate computed apart.  Its centroids into C, its
 * inertia returned.
 */
static double
fit_start_reference(fit_source *fs, int k, const double *start, int max_iter,
					double *C)
{
	ecore_kstep_out o;
	double		next[8 * 3],
				ci[8];
	int64_t		sz[8];
	int			it;

	memcpy(C, start, sizeof(double) * k * 3);
	memset(&o, 0, sizeof(o));
	o.next = next;
	o.sizes = sz;
	o.cluster_inertia = ci;
	for (it = 1;; it++)
	{
		CHECK_EQ_INT(fit_step_added(fs, k, C, &o), ECORE_OK);
		if (o.fixed_point || it >= max_iter)
			break;
		memcpy(C, next, sizeof(double) * k * 3);
	}
	return o.inertia;
}

/* Is every centroid of a (k x 3) one of b's, bit for bit? */
static int
same_centroid_set(const double *a, const double *b, int k)
{
	int			i,
				j;

	for (i = 0; i < k; i++)
	{
		for (j = 0; j < k; j++)
			if (memcmp(a + i * 3, b + j * 3, 3 * sizeof(double)) == 0)
				break;
		if (j == k)
			return 0;
	}
	return 1;
}

/*
 * ecore_fit_sampled with a start: in memory == through callbacks, bit for
 * bit; the start's candidate is the fixed point of Lloyd steps from it
 * (computed apart), the model kept the lower inertia of it and of the fit
 * without a start (the restarts' on a tie: the fit's own model as the
 * start changes nothing); a start that wins; a start not finite or too
 * large is refused.
 */
void
test_fit_sampled_start(void)
{
	const size_t n = 4000,
				d = 3;
	const int	k = 4;
	double	   *X = make_blobs(n, d, 6, 12.0, 47, NULL);
	test_points p,
				q;
	size_t	   *perm = shuffled(n, 91);
	int			c;

	points_make(&p, X, n, d, 7);
	points_permuted(&q, &p, perm);
	for (c = 0; c < 6; c++)
	{
		ecore_env	env = make_env();
		ecore_elbow_memory mem;
		ecore_fit_params fp;
		ecore_fit_source a,
					b;
		fit_source	fs;
		ecore_fit_out o0,
					oa,
					ob;
		double		c0[4 * 3],
					ca[4 * 3],
					cb[4 * 3],
					start[4 * 3],
					ref[4 * 3],
					ci0[4],
					cia[4],
					cib[4],
					ref_inertia;
		int64_t		s0[4],
					sa[4],
					sb[4];
		size_t		i;
		int			max_iter = (c == 4 || c == 5) ? 1 : 300;

		memset(&fp, 0, sizeof(fp));
		ecore_kmeans_params_default(&fp.km);
		fp.km.k = k;
		fp.km.n_init = 1;
		fp.km.seed = 3 + c;
		fp.km.max_iter = 300;
		fp.sample = (c % 2 == 0) ? 200 : n;
		memory_of(&mem, &p, &env);
		memset(&a, 0, sizeof(a));
		a.memory = &mem;
		fs.p = &q;
		fs.steps = 0;
		memset(&b, 0, sizeof(b));
		b.step = fit_step_added;
		b.sample = fit_sample_sorted;
		b.arg = &fs;

		/* without a start (max_iter 300: c 4 and 5 take it as the start) */
		memset(&o0, 0, sizeof(o0));
		o0.centroids = c0;
		o0.sizes = s0;
		o0.cluster_inertia = ci0;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &o0), ECORE_OK);
		CHECK_EQ_INT(o0.start_won, 0);
		CHECK(isnan(o0.start_inertia));
		arena_reset(&g_arena);

		/*
		 * the start: 0, 1 the fit's own model; 2, 3 four points of the
		 * data (one cluster's corner); 4, 5 the fit's own model with the
		 * steps cut to 1, where the restarts' candidate stops short
		 */
		if (c == 2 || c == 3)
			for (i = 0; i < (size_t) k; i++)
				memcpy(start + i * d, p.Z + (i * 7 + c) * d, d * sizeof(double));
		else
			memcpy(start, c0, sizeof(start));
		fp.km.max_iter = max_iter;
		fp.start = start;

		memset(&oa, 0, sizeof(oa));
		oa.centroids = ca;
		oa.sizes = sa;
		oa.cluster_inertia = cia;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &oa), ECORE_OK);
		CHECK_EQ_INT(g_arena.count, 2);
		arena_reset(&g_arena);
		memset(&ob, 0, sizeof(ob));
		ob.centroids = cb;
		ob.sizes = sb;
		ob.cluster_inertia = cib;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &b, &env, &ob), ECORE_OK);
		arena_reset(&g_arena);
		/* in memory == on callbacks */
		CHECK(memcmp(ca, cb, sizeof(ca)) == 0);
		CHECK(memcmp(sa, sb, sizeof(sa)) == 0);
		CHECK(memcmp(cia, cib, sizeof(cia)) == 0);
		CHECK(bits(oa.inertia) == bits(ob.inertia));
		CHECK(bits(oa.start_inertia) == bits(ob.start_inertia));
		CHECK_EQ_INT(oa.start_won, ob.start_won);
		CHECK_EQ_INT(oa.iterations, ob.iterations);

		/* the start's candidate, computed apart */
		ref_inertia = fit_start_reference(&fs, k, start, max_iter, ref);
		CHECK(bits(oa.start_inertia) == bits(ref_inertia));
		if (c < 4)
		{
			/* the lower of the two; the restarts' on a tie */
			CHECK_EQ_INT(oa.start_won, ref_inertia < o0.inertia);
			if (oa.start_won)
			{
				CHECK(same_centroid_set(ca, ref, k));
				CHECK(bits(oa.inertia) == bits(ref_inertia));
			}
			else
			{
				CHECK(memcmp(ca, c0, sizeof(ca)) == 0);
				CHECK(memcmp(sa, s0, sizeof(sa)) == 0);
				CHECK(memcmp(cia, ci0, sizeof(cia)) == 0);
				CHECK(bits(oa.inertia) == bits(o0.inertia));
				CHECK_EQ_INT(oa.iterations, o0.iterations);
			}
			if (c < 2)
			{
				/* the fit's own model: a tie, nothing changes */
				CHECK_EQ_INT(oa.start_won, 0);
				CHECK(bits(oa.start_inertia) == bits(o0.inertia));
			}
			else
				CHECK(oa.start_won == 1 || oa.inertia <= ref_inertia);
		}
		else
		{
			/* one step: the converged start wins over the restarts' step */
			CHECK_EQ_INT(oa.start_won, 1);
			CHECK(bits(oa.inertia) == bits(o0.inertia));
			CHECK(memcmp(ca, c0, sizeof(ca)) == 0);
			CHECK_EQ_INT(oa.iterations, 1);
		}
		arena_reset(&g_arena);
	}
	/* a start not finite, or above ECORE_MAX_ABS_CENTROID: refused */
	{
		ecore_env	env = make_env();
		ecore_elbow_memory mem;
		ecore_fit_params fp;
		ecore_fit_source a;
		ecore_fit_out oa;
		double		ca[4 * 3],
					cia[4],
					start[4 * 3] = {0};
		int64_t		sa[4];

		memset(&fp, 0, sizeof(fp));
		ecore_kmeans_params_default(&fp.km);
		fp.km.k = k;
		fp.sample = n;
		fp.start = start;
		memory_of(&mem, &p, &env);
		memset(&a, 0, sizeof(a));
		a.memory = &mem;
		memset(&oa, 0, sizeof(oa));
		oa.centroids = ca;
		oa.sizes = sa;
		oa.cluster_inertia = cia;
		start[2 * 3 + 1] = NAN;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &oa), ECORE_EINIT_VALUE);
		CHECK(env.error_row == 2 && env.error_col == 1);
		start[2 * 3 + 1] = 0.0;
		start[3 * 3 + 2] = 3e100;
		CHECK_EQ_INT(ecore_fit_sampled(n, d, &fp, &a, &env, &oa), ECORE_EINIT_VALUE);
		CHECK(env.error_row == 3 && env.error_col == 2);
		CHECK_EQ_INT(g_arena.count, 0);
		arena_reset(&g_arena);
	}
	points_free(&q, 0);
	points_free(&p, 1);
	free(perm);
	free(X);
}
