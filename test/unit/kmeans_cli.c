/*-------------------------------------------------------------------------
 *
 * kmeans_cli.c
 *	  Small command-line driver of engage's numerical core, used by
 *	  sklearn_check.py to compare with scikit-learn and for timings.
 *
 * Usage:
 *	 kmeans_cli csv FILE --cols a,b,c [options]	 points from a CSV with header
 *	 kmeans_cli raw FILE N D [options]			 N x D float64, native order
 *	 kmeans_cli knee							 curves on stdin, one a line:
 *			 "convex|concave decreasing|increasing S n x1..xn y1..yn";
 *			 prints one knee index (or -1) a line
 * Options:
 *	 --scale zscore|minmax|log|robust|none (default zscore)	--k K (3)
 *	 --n-init N (10)	--max-iter N (300)	--tol T (1e-4)	--seed S (0)
 *	 --algo hamerly|lloyd	--init kmeans++|random
 *	 --elbow KMAX (0: none)	 --labels-out FILE	--repeat R (timing runs)
 *	 --scaled-out FILE (scaled points, N x D float64)
 *	 --scores R (Davies-Bouldin and Calinski-Harabasz of the fit's labels,
 *				 computed R times: the values and the times)
 *
 * Output: "key value..." lines (values printed with %.17g).
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/kmeans.h"
#include "core/knee.h"
#include "core/scale.h"

/* Blocks handed out by the allocator, freed at exit. */
typedef struct cli_arena
{
	void	  **blocks;
	size_t		count;
	size_t		cap;
	size_t		bytes;
} cli_arena;

/* Allocator callback: malloc, remembered for cli_arena_free. */
static void *
cli_alloc(void *arg, size_t size)
{
	cli_arena  *a = (cli_arena *) arg;
	void	   *p;

	if (a->count == a->cap)
	{
		size_t		ncap = a->cap ? a->cap * 2 : 16;
		void	  **nb = realloc(a->blocks, ncap * sizeof(void *));

		if (nb == NULL)
			return NULL;
		a->blocks = nb;
		a->cap = ncap;
	}
	p = malloc(size ? size : 1);
	if (p != NULL)
	{
		a->blocks[a->count++] = p;
		a->bytes += size;
	}
	return p;
}

/* Free every block of the arena. */
static void
cli_arena_free(cli_arena *a)
{
	size_t		i;

	for (i = 0; i < a->count; i++)
		free(a->blocks[i]);
	free(a->blocks);
	memset(a, 0, sizeof(*a));
}

/* Monotonic clock in seconds. */
static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

/* Print an error and exit. */
static void
die(const char *msg, const char *detail)
{
	fprintf(stderr, "kmeans_cli: %s%s%s\n", msg, detail ? ": " : "",
			detail ? detail : "");
	exit(2);
}

/* Read a whole file into a NUL-terminated buffer. */
static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		sz;

	if (f == NULL)
		die("cannot open", path);
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
		die("cannot size", path);
	buf = malloc((size_t) sz + 1);
	if (buf == NULL)
		die("out of memory", NULL);
	if (fread(buf, 1, (size_t) sz, f) != (size_t) sz)
		die("cannot read", path);
	buf[sz] = '\0';
	fclose(f);
	*len = (size_t) sz;
	return buf;
}

/* Load the named columns of a simple CSV (header, no quotes). */
static double *
load_csv(const char *path, const char *cols, size_t *n_out, size_t *d_out)
{
	size_t		len,
				d = 1,
				n = 0,
				cap = 1024,
				j;
	char	   *buf = read_file(path, &len);
	char	   *line,
			   *save = NULL,
			   *colcopy = strdup(cols),
			   *tok,
			   *tsave = NULL;
	char	  **names;
	int		   *idx;
	double	   *X;
	const char *p;

	for (p = cols; *p; p++)
		if (*p == ',')
			d++;
	names = calloc(d, sizeof(char *));
	idx = calloc(d, sizeof(int));
	j = 0;
	for (tok = strtok_r(colcopy, ",", &tsave); tok; tok = strtok_r(NULL, ",", &tsave))
		names[j++] = tok;
	for (j = 0; j < d; j++)
		idx[j] = -1;
	line = strtok_r(buf, "\r\n", &save);
	if (line == NULL)
		die("empty csv", path);
	{
		int			c = 0;
		char	   *h = line;

		for (;;)
		{
			char	   *comma = strchr(h, ',');

			if (comma)
				*comma = '\0';
			for (j = 0; j < d; j++)
				if (strcmp(h, names[j]) == 0)
					idx[j] = c;
			c++;
			if (!comma)
				break;
			h = comma + 1;
		}
	}
	for (j = 0; j < d; j++)
		if (idx[j] < 0)
			die("column not found", names[j]);
	X = malloc(cap * d * sizeof(double));
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL)
	{
		int			c = 0;
		char	   *h = line;

		if (n == cap)
		{
			cap *= 2;
			X = realloc(X, cap * d * sizeof(double));
		}
		for (;;)
		{
			char	   *comma = strchr(h, ',');

			if (comma)
				*comma = '\0';
			for (j = 0; j < d; j++)
				if (idx[j] == c)
					X[n * d + j] = strtod(h, NULL);
			c++;
			if (!comma)
				break;
			h = comma + 1;
		}
		n++;
	}
	free(buf);
	free(colcopy);
	free(names);
	free(idx);
	*n_out = n;
	*d_out = d;
	return X;
}

/* Print a labelled row of doubles. */
static void
print_row(const char *key, long idx, const double *v, size_t d)
{
	size_t		j;

	printf("%s", key);
	if (idx >= 0)
		printf(" %ld", idx);
	for (j = 0; j < d; j++)
		printf(" %.17g", v[j]);
	printf("\n");
}

/* Knee mode: one curve a line on stdin, one index a line out. */
static int
knee_mode(void)
{
	char		curve[32],
				dir[32];
	double		S;
	long		n,
				i,
				knee;

	while (scanf("%31s %31s %lf %ld", curve, dir, &S, &n) == 4)
	{
		double	   *x = malloc((size_t) (n > 0 ? n : 1) * sizeof(double));
		double	   *y = malloc((size_t) (n > 0 ? n : 1) * sizeof(double));
		int			rc;

		for (i = 0; i < n; i++)
			if (scanf("%lf", &x[i]) != 1)
				die("bad knee input", NULL);
		for (i = 0; i < n; i++)
			if (scanf("%lf", &y[i]) != 1)
				die("bad knee input", NULL);
		rc = ecore_knee_locate(x, y, (size_t) n, S,
								strcmp(curve, "concave") == 0 ? ECORE_KNEE_CONCAVE : ECORE_KNEE_CONVEX,
								strcmp(dir, "increasing") == 0 ? ECORE_KNEE_INCREASING : ECORE_KNEE_DECREASING,
								&knee);
		if (rc != ECORE_OK)
			printf("error %d\n", rc);
		else
			printf("%ld\n", knee);
		free(x);
		free(y);
	}
	return 0;
}

/* Entry point. */
int
main(int argc, char **argv)
{
	const char *mode,
			   *path,
			   *cols = NULL,
			   *labels_out = NULL,
			   *scaled_out = NULL;
	size_t		n = 0,
				d = 0,
				i,
				argi;
	double	   *X = NULL,
			   *Z,
			   *orig;
	ecore_scale_method method = ECORE_SCALE_ZSCORE;
	ecore_kmeans_params p;
	ecore_kmeans_result res;
	ecore_scaler sc;
	ecore_env env;
	cli_arena	arena;
	int			rc,
				elbow = 0,
				scores = 0,
				repeat = 1,
				rep,
				j;
	size_t		bytes = 0;
	double		t0,
				t1,
				t_scale = 0,
				t_fit = 1e300,
				t_fit_sum = 0;

	if (argc < 2)
		die("usage: kmeans_cli csv FILE --cols a,b | raw FILE N D | knee", NULL);
	mode = argv[1];
	if (strcmp(mode, "knee") == 0)
		return knee_mode();
	if (argc < 3)
		die("missing file", NULL);
	path = argv[2];
	argi = 3;
	if (strcmp(mode, "raw") == 0)
	{
		if (argc < 5)
			die("raw FILE N D", NULL);
		n = (size_t) strtoull(argv[3], NULL, 10);
		d = (size_t) strtoull(argv[4], NULL, 10);
		argi = 5;
	}
	ecore_kmeans_params_default(&p);
	for (; argi < (size_t) argc; argi++)
	{
		const char *a = argv[argi];
		const char *v = argi + 1 < (size_t) argc ? argv[argi + 1] : NULL;

		if (v == NULL)
			die("missing value of", a);
		if (strcmp(a, "--cols") == 0)
			cols = v;
		else if (strcmp(a, "--scale") == 0)
		{
			if (ecore_scale_method_parse_all(v, &method) != ECORE_OK)
				die("bad --scale", v);
		}
		else if (strcmp(a, "--k") == 0)
			p.k = atoi(v);
		else if (strcmp(a, "--n-init") == 0)
			p.n_init = atoi(v);
		else if (strcmp(a, "--max-iter") == 0)
			p.max_iter = atoi(v);
		else if (strcmp(a, "--tol") == 0)
			p.tol = strtod(v, NULL);
		else if (strcmp(a, "--seed") == 0)
			p.seed = strtoull(v, NULL, 10);
		else if (strcmp(a, "--algo") == 0)
			p.algorithm = strcmp(v, "lloyd") == 0 ? ECORE_ALGO_LLOYD : ECORE_ALGO_HAMERLY;
		else if (strcmp(a, "--init") == 0)
			p.init = strcmp(v, "random") == 0 ? ECORE_INIT_RANDOM : ECORE_INIT_KMEANSPP;
		else if (strcmp(a, "--elbow") == 0)
			elbow = atoi(v);
		else if (strcmp(a, "--labels-out") == 0)
			labels_out = v;
		else if (strcmp(a, "--scaled-out") == 0)
			scaled_out = v;
		else if (strcmp(a, "--repeat") == 0)
			repeat = atoi(v);
		else if (strcmp(a, "--scores") == 0)
			scores = atoi(v);
		else
			die("unknown option", a);
		argi++;
	}
	if (strcmp(mode, "csv") == 0)
	{
		if (cols == NULL)
			die("csv needs --cols", NULL);
		X = load_csv(path, cols, &n, &d);
	}
	else if (strcmp(mode, "raw") == 0)
	{
		size_t		len;
		char	   *buf = read_file(path, &len);

		if (len != n * d * sizeof(double))
			die("raw file size does not match N x D", path);
		X = (double *) buf;
	}
	else
		die("unknown mode", mode);

	memset(&env, 0, sizeof(env));
	memset(&arena, 0, sizeof(arena));
	env.alloc = cli_alloc;
	env.alloc_arg = &arena;
	printf("n %zu\nd %zu\n", n, d);

	Z = malloc(n * d * sizeof(double));
	t0 = now_sec();
	rc = ecore_scaler_init(&sc, method, d, &env);
	if (rc == ECORE_OK)
		rc = ecore_scaler_fit(&sc, X, n, &env);
	if (rc == ECORE_OK)
		rc = ecore_scaler_transform(&sc, X, n, Z, &env);
	t_scale = now_sec() - t0;
	if (rc != ECORE_OK)
	{
		printf("error %d %s row %zu\n", rc, ecore_strerror(rc), env.error_row);
		return 1;
	}
	printf("scale_method %s\n", ecore_scale_method_name(method));
	print_row("scale_mean", -1, sc.mean, d);
	print_row("scale_var", -1, sc.var, d);
	print_row("scale_data_min", -1, sc.data_min, d);
	print_row("scale_data_max", -1, sc.data_max, d);
	print_row("scale_scale", -1, sc.scale, d);
	print_row("scale_offset", -1, sc.offset, d);

	if (scaled_out != NULL)
	{
		FILE	   *f = fopen(scaled_out, "wb");

		if (f == NULL || fwrite(Z, sizeof(double), n * d, f) != n * d)
			die("cannot write", scaled_out);
		fclose(f);
	}
	rc = ecore_kmeans_bytes(n, d, &p, &bytes);
	if (rc != ECORE_OK)
	{
		printf("error %d %s\n", rc, ecore_strerror(rc));
		return 1;
	}
	printf("fit_bytes %zu\n", bytes);
	for (rep = 0; rep < repeat; rep++)
	{
		t0 = now_sec();
		rc = ecore_kmeans_fit(Z, n, d, &p, &env, &res);
		t1 = now_sec() - t0;
		if (rc != ECORE_OK)
		{
			printf("error %d %s row %zu\n", rc, ecore_strerror(rc), env.error_row);
			return 1;
		}
		t_fit_sum += t1;
		if (t1 < t_fit)
			t_fit = t1;
	}
	printf("k %d\ninertia %.17g\niterations %d\nconverged %d\nbest_restart %d\ntol_abs %.17g\n",
		   res.k, res.inertia, res.iterations, res.converged, res.best_restart,
		   res.tol_abs);
	orig = malloc((size_t) res.k * d * sizeof(double));
	ecore_scaler_inverse_transform(&sc, res.centroids, (size_t) res.k, orig, &env);
	for (j = 0; j < res.k; j++)
	{
		print_row("centroid", j, res.centroids + (size_t) j * d, d);
		print_row("centroid_orig", j, orig + (size_t) j * d, d);
		printf("size %d %lld\n", j, (long long) res.sizes[j]);
		printf("cluster_inertia %d %.17g\n", j, res.cluster_inertia[j]);
	}
	{
		double		sil = 0;

		rc = ecore_silhouette_simplified(Z, n, d, res.centroids, res.k,
										  res.labels, &env, &sil, NULL);
		printf("silhouette %.17g\n", sil);
	}
	if (scores > 0)
	{
		size_t		doubles;
		double	   *work;
		double		db = 0,
					ch = 0,
					best = 1e300,
					sum = 0;

		if (ecore_cluster_scores_work(res.k, d, &doubles) != ECORE_OK)
			die("cannot size the scores' work space", NULL);
		work = malloc(doubles * sizeof(double));
		for (rep = 0; rep < scores; rep++)
		{
			t0 = now_sec();
			rc = ecore_cluster_scores(Z, n, d, res.labels, res.k, work, &env, &db, &ch);
			t1 = now_sec() - t0;
			if (rc != ECORE_OK)
				die("ecore_cluster_scores failed", ecore_strerror(rc));
			sum += t1;
			if (t1 < best)
				best = t1;
		}
		printf("davies_bouldin %.17g\ncalinski_harabasz %.17g\n", db, ch);
		printf("time_scores %.6f\ntime_scores_mean %.6f\n", best, sum / scores);
		free(work);
	}
	printf("time_scale %.6f\ntime_fit %.6f\ntime_fit_mean %.6f\n", t_scale,
		   t_fit, t_fit_sum / repeat);
	if (labels_out != NULL)
	{
		FILE	   *f = fopen(labels_out, "w");

		if (f == NULL)
			die("cannot write", labels_out);
		for (i = 0; i < n; i++)
			fprintf(f, "%d\n", res.labels[i]);
		fclose(f);
	}
	if (elbow > 0)
	{
		double	   *inertia = malloc((size_t) elbow * sizeof(double));
		int		   *iters = malloc((size_t) elbow * sizeof(int));
		long		kel = -1;

		t0 = now_sec();
		rc = ecore_kmeans_elbow(Z, n, d, elbow, &p, &env, inertia, iters);
		t1 = now_sec() - t0;
		if (rc != ECORE_OK)
		{
			printf("error %d %s\n", rc, ecore_strerror(rc));
			return 1;
		}
		for (j = 0; j < elbow; j++)
			printf("elbow %d %.17g %d\n", j + 1, inertia[j], iters[j]);
		rc = ecore_knee_elbow(inertia, (size_t) elbow, &kel);
		printf("knee %ld\ntime_elbow %.6f\n", rc == ECORE_OK ? kel : -2, t1);
		free(inertia);
		free(iters);
	}
	printf("alloc_bytes %zu\n", arena.bytes);
	cli_arena_free(&arena);
	free(orig);
	free(Z);
	free(X);
	return 0;
}
