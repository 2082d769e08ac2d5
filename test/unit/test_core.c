/*-------------------------------------------------------------------------
 *
 * test_core.c
 *	  Unit tests of what every part of engage's numerical core shares
 *	  (src/core/core.c, core.h): status messages, option-name matching,
 *	  the validation of points and the interrupt callback; and the
 *	  program test_core, with the table of every test case of the core
 *	  (declared in test_core.h, defined in the test_*.c named after the
 *	  part of src/core/ they test) and the harness of harness.h: one
 *	  line per failing check, then the line "N passed, N failed" (test
 *	  cases); exit status 1 on failure.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kmeans.h"
#include "core/scale.h"
#include "harness.h"
#include "test_core.h"

/* ---------------------------------------------------------------------
 * Messages and validation
 * ---------------------------------------------------------------------
 */

/* Every status has a distinct message. */
void
test_strerror(void)
{
	int			a,
				b;

	for (a = ECORE_OK; a <= ECORE_ENEGATIVE; a++)
	{
		CHECK(ecore_strerror(a) != NULL && ecore_strerror(a)[0] != '\0');
		for (b = ECORE_OK; b < a; b++)
			CHECK(strcmp(ecore_strerror(a), ecore_strerror(b)) != 0);
	}
	CHECK(strcmp(ecore_strerror(9999), "unknown error") == 0);
}

/* ecore_validate_points: first bad row and column. */
void
test_validate_points(void)
{
	double		X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_OK);
	X[7] = NAN;
	X[10] = INFINITY;
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 2);
	CHECK_EQ_INT(env.error_col, 1);
	X[7] = 1e101;
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_ERANGE);
	CHECK_EQ_INT(env.error_row, 2);
	X[7] = -1e100;				/* the limit itself is accepted */
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, &env), ECORE_ENONFINITE);
	CHECK_EQ_INT(env.error_row, 3);
	CHECK_EQ_INT(ecore_validate_points(X, 0, 3, &env), ECORE_EINVAL_N);
	CHECK_EQ_INT(ecore_validate_points(X, 4, 0, &env), ECORE_EINVAL_D);
	CHECK_EQ_INT(ecore_validate_points(NULL, 4, 3, &env), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_validate_points(X, 4, 3, NULL), ECORE_EINVAL_ENV);
	CHECK_EQ_INT(ecore_validate_points(X, SIZE_MAX / 2, 3, &env), ECORE_EOVERFLOW);
	arena_reset(&g_arena);
}

/* Option names: case folding, exact length, round trips, errors. */
void
test_option_names(void)
{
	static const char *const bad[] = {
		"", " zscore", "zscore ", "z-score", "zscor", "zscoree", "minmax\n",
		"k-means", "k-means+", "k-means+++", "kmeans++", "K-MEANS++ ", "given\t",
		"random\x80", ("\xC5\x9A" "andom"), "rand", "none\x01", "zscor\xC5"
	};
	static const char *const sep[] = {"zscore", "minmax", "none", "k-means++",
	"random", "given"};
	ecore_kmeans_init init = ECORE_INIT_RANDOM;
	ecore_scale_method m = ECORE_SCALE_MINMAX;
	char		buf[16];
	size_t		i,
				j;
	int			v;

	/* ecore_name_equal: ASCII case only, whole strings, NULL never */
	CHECK(ecore_name_equal("K-Means++", "k-means++"));
	CHECK(ecore_name_equal("az", "AZ"));	/* both sides fold, A and Z too */
	CHECK(ecore_name_equal("AZ", "az"));
	CHECK(ecore_name_equal("", ""));
	CHECK(!ecore_name_equal("", "a"));
	CHECK(!ecore_name_equal("a", ""));
	CHECK(!ecore_name_equal("@", "`"));	/* 'A' - 1 and 'a' - 1 */
	CHECK(!ecore_name_equal("[", "{"));	/* 'Z' + 1 and 'z' + 1 */
	CHECK(!ecore_name_equal("\xC3\x89", "\xC3\xA9"));	/* E/e acute: exact */
	CHECK(!ecore_name_equal(NULL, "none"));
	CHECK(!ecore_name_equal("none", NULL));
	CHECK(!ecore_name_equal(NULL, NULL));

	/* init: every name in every case pattern of its first letters */
	for (v = 0; v < 3; v++)
	{
		const char *name = ecore_kmeans_init_name((ecore_kmeans_init) v);

		CHECK(name != NULL);
		if (name == NULL)
			continue;
		for (j = 0; j < 16; j++)
		{
			snprintf(buf, sizeof(buf), "%s", name);
			for (i = 0; i < 4 && buf[i]; i++)
				if (((j >> i) & 1) && buf[i] >= 'a' && buf[i] <= 'z')
					buf[i] = (char) (buf[i] - 'a' + 'A');
			init = (ecore_kmeans_init) 7;
			CHECK_EQ_INT(ecore_kmeans_init_parse(buf, &init), ECORE_OK);
			CHECK_EQ_INT(init, v);
		}
	}
	CHECK_EQ_INT(ecore_kmeans_init_parse("RANDOM", &init), ECORE_OK);
	CHECK_EQ_INT(init, ECORE_INIT_RANDOM);
	CHECK_EQ_INT(ecore_kmeans_init_parse("Given", &init), ECORE_OK);
	CHECK_EQ_INT(init, ECORE_INIT_USER);
	CHECK(ecore_kmeans_init_name((ecore_kmeans_init) 3) == NULL);
	CHECK(ecore_kmeans_init_name((ecore_kmeans_init) -1) == NULL);
	CHECK_EQ_INT(ecore_kmeans_init_parse(NULL, &init), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_kmeans_init_parse("random", NULL), ECORE_EINVAL_ARG);
	CHECK_EQ_INT(ecore_scale_method_parse("none", NULL), ECORE_EINVAL_ARG);

	/* near misses: rejected, and the output is left alone */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		init = ECORE_INIT_RANDOM;
		m = ECORE_SCALE_MINMAX;
		CHECK_EQ_INT(ecore_kmeans_init_parse(bad[i], &init), ECORE_EINVAL_INIT);
		CHECK_EQ_INT(init, ECORE_INIT_RANDOM);
		CHECK_EQ_INT(ecore_scale_method_parse(bad[i], &m), ECORE_EINVAL_ARG);
		CHECK_EQ_INT(m, ECORE_SCALE_MINMAX);
	}

	/* the two vocabularies do not overlap */
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(ecore_kmeans_init_parse(sep[i], &init), ECORE_EINVAL_INIT);
	for (i = 3; i < 6; i++)
		CHECK_EQ_INT(ecore_scale_method_parse(sep[i], &m), ECORE_EINVAL_ARG);

	/* scale names round-trip, upper case too */
	for (v = 0; v < 3; v++)
	{
		const char *name = ecore_scale_method_name((ecore_scale_method) v);

		CHECK(name != NULL);
		if (name == NULL)
			continue;
		for (i = 0; name[i] && i + 1 < sizeof(buf); i++)
			buf[i] = (char) (name[i] - 'a' + 'A');
		buf[i] = '\0';
		CHECK_EQ_INT(ecore_scale_method_parse(buf, &m), ECORE_OK);
		CHECK_EQ_INT(m, v);
	}
}

/* ECORE_EUNDERFLOW has its own message, in the style of the others. */
void
test_strerror_underflow(void)
{
	const char *m = ecore_strerror(ECORE_EUNDERFLOW);
	int			a;

	CHECK(strcmp(m, "unknown error") != 0);
	CHECK(m[0] >= 'a' && m[0] <= 'z');
	CHECK(m[strlen(m) - 1] != '.');
	for (a = ECORE_OK; a < ECORE_EUNDERFLOW; a++)
		CHECK(strcmp(m, ecore_strerror(a)) != 0);
}

/* ---------------------------------------------------------------------
 * Interrupts
 * ---------------------------------------------------------------------
 */

/* The check callback is called per chunk and per iteration. */
void
test_interrupt_calls(void)
{
	size_t		n = 3 * ECORE_CHECK_CHUNK + 1;
	double	   *X = make_blobs(n, 2, 3, 10, 3, NULL);
	int32_t    *lab = malloc(n * sizeof(int32_t));
	double		s,
				inertia[3];
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_scaler sc;
	ecore_env	env = make_env();

	CHECK_EQ_INT(ecore_validate_points(X, n, 2, &env), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 4);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_kmeans_assign(X, n, 2, X, 3, &env, lab, NULL), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 8);	/* validation + assignment */
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_silhouette_simplified(X, n, 2, X, 3, lab, &env, &s, NULL), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 8);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_scaler_init(&sc, ECORE_SCALE_ZSCORE, 2, &env), ECORE_OK);
	CHECK_EQ_INT(ecore_scaler_fit(&sc, X, n, &env), ECORE_OK);
	/* validation, min/max, then 2 passes x 2 columns x 2 blocks of 8192 */
	CHECK_EQ_INT(g_check.calls, 16);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_scaler_transform(&sc, X, n, X, &env), ECORE_OK);
	CHECK_EQ_INT(g_check.calls, 8);
	g_check.calls = 0;
	ecore_kmeans_params_default(&p);
	p.k = 3;
	p.n_init = 2;
	p.tol = 0;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	/* at least: 4 per O(n) pass and once per iteration of each restart */
	CHECK(g_check.calls >= 4 * (long) (r.iterations + 6) + r.iterations);
	g_check.calls = 0;
	CHECK_EQ_INT(ecore_kmeans_elbow(X, n, 2, 3, &p, &env, inertia, NULL), ECORE_OK);
	CHECK(g_check.calls > 40);
	/* without a callback nothing breaks */
	env.check = NULL;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 2, &p, &env, &r), ECORE_OK);
	free(lab);
	free(X);
	arena_reset(&g_arena);
}

/* A longjmp out of the callback (CHECK_FOR_INTERRUPTS) at any point. */
void
test_interrupt_longjmp(void)
{
	size_t		n = 5 * ECORE_CHECK_CHUNK;
	double	   *X = make_blobs(n, 3, 4, 10, 4, NULL);
	ecore_kmeans_params p;
	ecore_kmeans_result r;
	ecore_env	env;
	jmp_buf		jb;
	long		at,
				total_calls;
	volatile int jumped = 0,
				completed = 0;

	env = make_env();
	ecore_kmeans_params_default(&p);
	p.k = 4;
	p.n_init = 2;
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
	total_calls = g_check.calls;
	arena_reset(&g_arena);
	for (at = 1; at <= total_calls; at += 7)
	{
		env = make_env();
		g_check.env = &jb;
		g_check.jump_at = at;
		if (setjmp(jb) == 0)
		{
			if (ecore_kmeans_fit(X, n, 3, &p, &env, &r) == ECORE_OK)
				completed++;
		}
		else
			jumped++;
		/* the caller frees the memory: nothing else to release */
		arena_reset(&g_arena);
	}
	CHECK(jumped > 10);
	CHECK(completed == 0);
	/* a fit after interrupted ones is unaffected */
	env = make_env();
	CHECK_EQ_INT(ecore_kmeans_fit(X, n, 3, &p, &env, &r), ECORE_OK);
	check_result_invariants(X, n, 3, &r);
	arena_reset(&g_arena);
	free(X);
}

/* ---------------------------------------------------------------------
 * Runner
 * ---------------------------------------------------------------------
 */

static const test_case tests[] = {
	TEST(test_rng_streams),
	TEST(test_rng_ranges),
	TEST(test_strerror),
	TEST(test_validate_points),
	TEST(test_scale_zscore_basic),
	TEST(test_scale_zscore_numerics),
	TEST(test_scale_zscore_near_constant),
	TEST(test_scale_minmax),
	TEST(test_scale_none_inplace),
	TEST(test_scale_errors),
	TEST(test_scale_log),
	TEST(test_scale_robust),
	TEST(test_scale_robust_basic),
	TEST(test_option_names),
	TEST(test_kmeans_params),
	TEST(test_kmeans_bad_values),
	TEST(test_kmeans_distinct),
	TEST(test_kmeans_memory_accounting),
	TEST(test_kmeans_tiny),
	TEST(test_kmeans_k1_identical),
	TEST(test_kmeans_k_equals_n),
	TEST(test_kmeans_empty_relocation),
	TEST(test_kmeans_stopping),
	TEST(test_kmeans_determinism),
	TEST(test_kmeans_threads),
	TEST(test_kmeans_hamerly_equals_lloyd),
	TEST(test_kmeans_vs_reference_lloyd),
	TEST(test_kmeans_recovers_blobs),
	TEST(test_kmeans_relabel_order),
	TEST(test_kmeans_random_init_duplicates),
	TEST(test_kmeans_tiny_values),
	TEST(test_kmeans_underflow_span),
	TEST(test_kmeans_underflow_mixed),
	TEST(test_kmeans_scale_invariance),
	TEST(test_strerror_underflow),
	TEST(test_kmeans_local_trials),
	TEST(test_kmeans_best_restart),
	TEST(test_kmeans_elbow),
	TEST(test_elbow_exact_bits),
	TEST(test_elbow_sample_hash),
	TEST(test_elbow_sampled_close),
	TEST(test_elbow_sampled_heavy_tail),
	TEST(test_elbow_sampled_determinism),
	TEST(test_elbow_memory_accounting),
	TEST(test_elbow_interrupts),
	TEST(test_elbow_errors),
	TEST(test_assign),
	TEST(test_inertia_fn),
	TEST(test_silhouette),
	TEST(test_cluster_scores),
	TEST(test_interrupt_calls),
	TEST(test_interrupt_longjmp),
	TEST(test_knee_curves),
	TEST(test_knee_errors_elbow),
	TEST(test_xsum_exact),
	TEST(test_xsum_orders_splits),
	TEST(test_xsum_carries),
	TEST(test_xsum_div_variance),
	TEST(test_scaleagg),
	TEST(test_quantile_passes),
	TEST(test_kstep_vs_core),
	TEST(test_kstep_empty),
	TEST(test_ksteps_splits),
	TEST(test_kstep_delta),
	TEST(test_kstep_delta_threads),
	TEST(test_memory_threads),
	TEST(test_ksteps_indexes),
	TEST(test_elbow_agg_splits),
	TEST(test_elbow_agg_quality),
	TEST(test_elbow_agg_stage),
	TEST(test_elbow_memory_sample),
	TEST(test_elbow_agg_errors),
	TEST(test_fit_sampled),
	TEST(test_fit_sampled_start),
};

/* Free what a test case allocated. */
static void
after_test(void)
{
	arena_reset(&g_arena);
}

/* Run every test (or those whose name contains an argument). */
int
main(int argc, char **argv)
{
	arena_reset(&g_arena);
	return run_test_cases(tests, TEST_COUNT(tests), argc, argv, after_test);
}
