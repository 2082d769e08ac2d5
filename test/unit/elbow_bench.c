/*-------------------------------------------------------------------------
 *
 * elbow_bench.c
 *	  Timings of the two elbow curves of the numerical core on the same
 *	  points, without PostgreSQL: elbow_inertia's (ecore_elbow_curve,
 *	  kmeans_elbow.c) and elbow_fit_sampled's in memory (ecore_elbow_agg,
 *	  elbow_agg.c), and of one multi-model Lloyd step.
 *
 * Usage:
 *	 elbow_bench FILE [--k-max K] [--sample M] [--threads T] [--seed S]
 *				 [--which curve|agg|both] [--step-models M] [--lockstep 0|1]
 * FILE: CSV without header, one point a line: key,x1,...,xd (d <= 16).
 * The points are z-scored as scaling_agg does; the keys hashed with the
 * seed as sample_hash does.  Output: "key value..." lines (%.17g).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/elbow_agg.h"
#include "core/kmeans.h"
#include "core/kmeans_step.h"
#include "core/scale.h"

#define BENCH_MAX_D 16

/* Allocator of the core: malloc, never freed (a short-lived program) */
static void *
bench_alloc(void *arg, size_t size)
{
	(void) arg;
	return malloc(size);
}

/* Seconds of the monotonic clock */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Progress of ecore_elbow_agg: stage, value and the time */
static void
bench_progress(void *arg, const char *stage, int value)
{
	double	   *t0 = (double *) arg;

	fprintf(stderr, "  %8.3f s  %s %d\n", now() - *t0, stage, value);
}

/* Read the CSV: keys, lengths, points; returns n and sets *d */
static size_t
read_points(const char *path, char ***keys, size_t **lens, double **X,
			size_t *d)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	size_t		n = 0,
				cap = 1 << 16;

	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	*keys = malloc(cap * sizeof(char *));
	*lens = malloc(cap * sizeof(size_t));
	*X = malloc(cap * BENCH_MAX_D * sizeof(double));
	*d = 0;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *p = strchr(line, ','),
				   *q;
		size_t		j = 0;

		if (p == NULL)
			continue;
		if (n == cap)
		{
			cap *= 2;
			*keys = realloc(*keys, cap * sizeof(char *));
			*lens = realloc(*lens, cap * sizeof(size_t));
			*X = realloc(*X, cap * BENCH_MAX_D * sizeof(double));
		}
		(*lens)[n] = (size_t) (p - line);
		(*keys)[n] = malloc((*lens)[n] + 1);
		memcpy((*keys)[n], line, (*lens)[n]);
		q = p + 1;
		while (j < BENCH_MAX_D)
		{
			(*X)[n * BENCH_MAX_D + j++] = strtod(q, &p);
			if (*p != ',')
				break;
			q = p + 1;
		}
		if (*d == 0)
			*d = j;
		n++;
	}
	fclose(f);
	/* compact to n x d */
	{
		size_t		i;

		for (i = 0; i < n; i++)
			memmove(*X + i * *d, *X + i * BENCH_MAX_D, *d * sizeof(double));
	}
	return n;
}

/* Main: see the file header */
int
main(int argc, char **argv)
{
	char	  **keys;
	size_t	   *lens;
	double	   *X,
			   *Z,
			   t0;
	size_t		n,
				d,
				i;
	int			k_max = 10,
				threads = 1,
				step_models = 0,
				in_memory = 1,
				a,
				rc,
				k;
	size_t		sample = ECORE_ELBOW_AUTO_SAMPLE;
	uint64_t	seed = 0,
			   *hashes;
	const char *which = "both";
	int64_t    *sst;
	ecore_scaler s;
	ecore_env	env;

	if (argc < 2)
	{
		fprintf(stderr, "usage: elbow_bench FILE [options]\n");
		return 2;
	}
	for (a = 2; a + 1 < argc; a += 2)
	{
		if (strcmp(argv[a], "--k-max") == 0)
			k_max = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "--sample") == 0)
			sample = (size_t) atol(argv[a + 1]);
		else if (strcmp(argv[a], "--threads") == 0)
			threads = atoi(argv[a + 1]);
		else if (strcmp(argv[a], "--seed") == 0)
			seed = (uint64_t) atol(argv[a + 1]);
		else if (strcmp(argv[a], "--which") == 0)
			which = argv[a + 1];
		else if (strcmp(argv[a], "--lockstep") == 0)
			in_memory = atoi(argv[a + 1]) == 0;
		else if (strcmp(argv[a], "--step-models") == 0)
			step_models = atoi(argv[a + 1]);
		else
		{
			fprintf(stderr, "unknown option %s\n", argv[a]);
			return 2;
		}
	}
	memset(&env, 0, sizeof(env));
	env.alloc = bench_alloc;
	n = read_points(argv[1], &keys, &lens, &X, &d);
	printf("points %zu %zu\n", n, d);

	/* the scaler of scaling_agg, the normalised points, the hashes */
	sst = malloc(ecore_scaleagg_slots(d, ECORE_SCALE_ZSCORE) * sizeof(int64_t));
	ecore_scaleagg_init(sst, d, ECORE_SCALE_ZSCORE);
	for (i = 0; i < n; i++)
	{
		size_t		col;

		if (ecore_scaleagg_add(sst, X + i * d, &col) != ECORE_OK)
			return 3;
	}
	s.method = ECORE_SCALE_ZSCORE;
	s.d = d;
	s.mean = malloc(6 * d * sizeof(double));
	s.var = s.mean + d;
	s.data_min = s.var + d;
	s.data_max = s.data_min + d;
	s.scale = s.data_max + d;
	s.offset = s.scale + d;
	if (ecore_scaleagg_final(sst, &s) != ECORE_OK)
		return 3;
	Z = malloc(n * d * sizeof(double));
	if (ecore_scaler_transform(&s, X, n, Z, &env) != ECORE_OK)
		return 3;
	hashes = malloc(n * sizeof(uint64_t));
	for (i = 0; i < n; i++)
		hashes[i] = ecore_sample_hash(seed, keys[i], lens[i]);

	if (step_models > 0)
	{
		/* one multi-model step: step_models models of k = 2..k_max cycling */
		int		   *ks = malloc(sizeof(int) * (size_t) step_models);
		const double **C = malloc(sizeof(double *) * (size_t) step_models);
		int64_t    *st;
		size_t		slots;
		int			j;

		for (j = 0; j < step_models; j++)
		{
			double	   *c;
			int			c2;

			ks[j] = 1 + j % k_max;
			c = malloc(sizeof(double) * (size_t) ks[j] * d);
			for (c2 = 0; c2 < ks[j]; c2++)
				memcpy(c + (size_t) c2 * d, Z + ((size_t) c2 * 7919 + (size_t) j) % n * d,
					   d * sizeof(double));
			C[j] = c;
		}
		slots = ecore_ksteps_slots(step_models, ks, d);
		st = malloc(slots * sizeof(int64_t));
		t0 = now();
		ecore_ksteps_memory(st, step_models, ks, d, C, NULL, 1, Z, n, &env);
		printf("time_step %d %.6f\n", step_models, now() - t0);
	}

	if (strcmp(which, "curve") == 0 || strcmp(which, "both") == 0)
	{
		ecore_elbow_params ep;
		ecore_elbow_out out;
		int			nk = k_max;

		ecore_elbow_params_default(&ep);
		ep.km.n_threads = threads;
		ep.km.seed = seed;
		ep.k_min = 1;
		ep.k_max = k_max;
		ep.sample = sample;
		ep.hashes = hashes;
		memset(&out, 0, sizeof(out));
		out.inertia = malloc(sizeof(double) * (size_t) nk);
		out.silhouette = malloc(sizeof(double) * (size_t) nk);
		out.iterations = malloc(sizeof(int) * (size_t) nk);
		t0 = now();
		rc = ecore_elbow_curve(Z, n, d, &ep, &env, &out);
		printf("time_curve %.6f rc %d\n", now() - t0, rc);
		for (k = 1; k <= k_max; k++)
			printf("curve %d %.17g %.17g %d\n", k, out.inertia[k - 1],
				   out.silhouette[k - 1], out.iterations[k - 1]);
	}
	if (strcmp(which, "agg") == 0 || strcmp(which, "both") == 0)
	{
		ecore_elbow_agg_params ep;
		ecore_elbow_agg_out out;
		ecore_elbow_memory mem;
		ecore_elbow_agg_source src;

		ecore_elbow_agg_params_default(&ep);
		ep.km.n_threads = threads;
		ep.km.seed = seed;
		ep.k_min = 1;
		ep.k_max = k_max;
		ep.sample = sample;
		ep.progress = bench_progress;
		ep.progress_arg = &t0;
		memset(&mem, 0, sizeof(mem));
		mem.Z = Z;
		mem.X = X;
		mem.n = n;
		mem.d = d;
		mem.hashes = hashes;
		mem.keys = (const char *const *) keys;
		mem.keylens = lens;
		mem.fingerprint = 1;
		mem.env = &env;
		src.steps = ecore_elbow_memory_steps;
		src.sample = ecore_elbow_memory_sample;
		src.arg = &mem;
		src.memory = NULL;
		if (in_memory)
		{
			ep.in_memory = 1;
			src.memory = &mem;
		}
		memset(&out, 0, sizeof(out));
		out.inertia = malloc(sizeof(double) * (size_t) k_max);
		out.silhouette = malloc(sizeof(double) * (size_t) k_max);
		out.iterations = malloc(sizeof(int) * (size_t) k_max);
		t0 = now();
		rc = ecore_elbow_agg(n, d, &ep, &src, &env, &out);
		printf("time_agg %.6f rc %d steps %d candidates %d in_memory %d\n", now() - t0, rc,
			   out.steps, out.candidates, in_memory);
		for (k = 1; k <= k_max; k++)
			printf("agg %d %.17g %.17g %d\n", k, out.inertia[k - 1],
				   out.silhouette[k - 1], out.iterations[k - 1]);
	}
	return 0;
}
