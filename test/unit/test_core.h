/*-------------------------------------------------------------------------
 *
 * test_core.h
 *	  What the files of the program test_core share: the test allocator
 *	  and interrupt callback with the environment on them, the data
 *	  helpers (test_helpers.c), and the test cases, each defined in the
 *	  test_*.c named after the part of src/core/ it tests and listed in
 *	  the table of test_core.c.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_TEST_CORE_H
#define ENGAGE_TEST_CORE_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "core/kmeans.h"

/* ---------------------------------------------------------------------
 * Test allocator (counting arena) and interrupt callbacks: test_helpers.c
 * ---------------------------------------------------------------------
 */

#define ARENA_MAX 64

/* Blocks handed out to the core during one test. */
typedef struct test_arena
{
	void	   *blocks[ARENA_MAX];
	size_t		sizes[ARENA_MAX];
	int			count;
	size_t		total;
	int			fail_after;		/* -1: never fail; else fail request #n */
} test_arena;

/* Interrupt callback state. */
typedef struct test_check
{
	long		calls;
	long		jump_at;		/* longjmp on this call (0: never) */
	jmp_buf    *env;
} test_check;

/* The arena and check counter of the test case being run (make_env). */
extern test_arena g_arena;
extern test_check g_check;

extern void arena_reset(test_arena *a);
extern ecore_env make_env(void);

/* ---------------------------------------------------------------------
 * Data helpers: test_helpers.c
 * ---------------------------------------------------------------------
 */

extern double *make_blobs(size_t n, size_t d, int blobs, double sep,
						  uint64_t seed, int32_t *truth);
extern double ref_sqdist(const double *a, const double *b, size_t d);
extern int	ref_nearest(const double *x, const double *C, int k, size_t d,
						double *d2);
extern void check_result_invariants(const double *X, size_t n, size_t d,
									const ecore_kmeans_result *r);

/* ---------------------------------------------------------------------
 * Test cases, in the order of the table of test_core.c
 * ---------------------------------------------------------------------
 */

/* test_rng.c */
extern void test_rng_streams(void);
extern void test_rng_ranges(void);

/* test_core.c */
extern void test_strerror(void);
extern void test_validate_points(void);

/* test_scale.c */
extern void test_scale_zscore_basic(void);
extern void test_scale_zscore_numerics(void);
extern void test_scale_zscore_near_constant(void);
extern void test_scale_minmax(void);
extern void test_scale_none_inplace(void);
extern void test_scale_errors(void);
extern void test_scale_log(void);
extern void test_scale_robust(void);
extern void test_scale_robust_basic(void);

/* test_core.c */
extern void test_option_names(void);

/*
 * test_kmeans.c, but: test_kmeans_seed.c (distinct, k_equals_n,
 * random_init_duplicates, tiny_values, local_trials), test_kmeans_lloyd.c
 * (empty_relocation, stopping, hamerly_equals_lloyd, vs_reference_lloyd)
 * and test_core.c (strerror_underflow)
 */
extern void test_kmeans_params(void);
extern void test_kmeans_bad_values(void);
extern void test_kmeans_distinct(void);
extern void test_kmeans_memory_accounting(void);
extern void test_kmeans_tiny(void);
extern void test_kmeans_k1_identical(void);
extern void test_kmeans_k_equals_n(void);
extern void test_kmeans_empty_relocation(void);
extern void test_kmeans_stopping(void);
extern void test_kmeans_determinism(void);
extern void test_kmeans_threads(void);
extern void test_kmeans_hamerly_equals_lloyd(void);
extern void test_kmeans_vs_reference_lloyd(void);
extern void test_kmeans_recovers_blobs(void);
extern void test_kmeans_relabel_order(void);
extern void test_kmeans_random_init_duplicates(void);
extern void test_kmeans_tiny_values(void);
extern void test_kmeans_underflow_span(void);
extern void test_kmeans_underflow_mixed(void);
extern void test_kmeans_scale_invariance(void);
extern void test_strerror_underflow(void);
extern void test_kmeans_local_trials(void);
extern void test_kmeans_best_restart(void);
extern void test_kmeans_elbow(void);

/* test_kmeans_elbow.c */
extern void test_elbow_exact_bits(void);
extern void test_elbow_sample_hash(void);
extern void test_elbow_sampled_close(void);
extern void test_elbow_sampled_heavy_tail(void);
extern void test_elbow_sampled_determinism(void);
extern void test_elbow_memory_accounting(void);
extern void test_elbow_interrupts(void);
extern void test_elbow_errors(void);

/* test_kmeans_eval.c */
extern void test_assign(void);
extern void test_inertia_fn(void);
extern void test_silhouette(void);
extern void test_cluster_scores(void);

/* test_core.c */
extern void test_interrupt_calls(void);
extern void test_interrupt_longjmp(void);

/* test_knee.c */
extern void test_knee_curves(void);
extern void test_knee_errors_elbow(void);

/* test_elbow_agg.c */
extern void test_ksteps_splits(void);
extern void test_kstep_delta(void);
extern void test_kstep_delta_threads(void);
extern void test_memory_threads(void);
extern void test_ksteps_indexes(void);
extern void test_elbow_agg_splits(void);
extern void test_elbow_agg_quality(void);
extern void test_elbow_agg_stage(void);
extern void test_elbow_memory_sample(void);
extern void test_elbow_agg_errors(void);
extern void test_fit_sampled(void);
extern void test_fit_sampled_start(void);

/* test_xsum.c */
extern void test_xsum_exact(void);
extern void test_xsum_orders_splits(void);
extern void test_xsum_carries(void);
extern void test_xsum_div_variance(void);
extern void test_scaleagg(void);
extern void test_quantile_passes(void);
extern void test_kstep_vs_core(void);
extern void test_kstep_empty(void);

#endif							/* ENGAGE_TEST_CORE_H */
