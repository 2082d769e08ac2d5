/*-------------------------------------------------------------------------
 *
 * harness.h
 *	  The harness of engage's unit tests (the programs test_core and
 *	  test_svg): checks that print one line per failure ("FAIL file:line
 *	  [test case]: what"), a table of test cases, and the runner that
 *	  prints the last line, "N passed, N failed" (test cases), which
 *	  test/unit/Makefile sums over the programs; exit status 1 on failure.
 *
 * A test case is a function without arguments; it fails if any of its
 * checks fails.  The runner and the state it shares with the checks (the
 * test case being run, whether one of its checks failed) are in
 * harness.c, linked once into each program, so a program's test cases
 * may live in several files.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ENGAGE_HARNESS_H
#define ENGAGE_HARNESS_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Report a failed check of the test case being run */
extern void fail_at(const char *file, int line, const char *what);

/* Relative closeness of two doubles */
static inline int
close_rel(double a, double b, double rel)
{
	double		scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	if (a == b)
		return 1;
	return fabs(a - b) <= rel * (scale > 1e-300 ? scale : 1e-300);
}

#define CHECK(cond) \
	do { \
		if (!(cond)) \
			fail_at(__FILE__, __LINE__, #cond); \
	} while (0)

#define CHECK_CLOSE(a, b, rel) \
	do { \
		double		a_ = (a), \
					b_ = (b); \
		if (!close_rel(a_, b_, rel)) \
		{ \
			char		buf_[256]; \
			snprintf(buf_, sizeof(buf_), "%s = %.17g vs %s = %.17g", #a, a_, #b, b_); \
			fail_at(__FILE__, __LINE__, buf_); \
		} \
	} while (0)

#define CHECK_EQ_INT(a, b) \
	do { \
		long long	a_ = (long long) (a), \
					b_ = (long long) (b); \
		if (a_ != b_) \
		{ \
			char		buf_[256]; \
			snprintf(buf_, sizeof(buf_), "%s = %lld, expected %s = %lld", #a, a_, #b, b_); \
			fail_at(__FILE__, __LINE__, buf_); \
		} \
	} while (0)

#define CHECK_STR(got, want) \
	do { \
		const char *g_ = (got), *w_ = (want); \
		if (strcmp(g_, w_) != 0) \
		{ \
			char		buf_[512]; \
			snprintf(buf_, sizeof(buf_), "%s = \"%s\", want \"%s\"", #got, g_, w_); \
			fail_at(__FILE__, __LINE__, buf_); \
		} \
	} while (0)

typedef void (*test_fn) (void);

/* One registered test case */
typedef struct test_case
{
	const char *name;
	test_fn		fn;
} test_case;

/* A table entry named after its function */
#define TEST(f) {#f, f}

/* The number of entries of a table of test cases */
#define TEST_COUNT(tests) (sizeof(tests) / sizeof((tests)[0]))

/*
 * Run the test cases tests[0..n): all of them, or with arguments those
 * whose name contains one of the arguments; after each, call after (if
 * not NULL: frees what the case allocated).  Prints "N passed, N failed"
 * and returns the exit status of the program.
 */
extern int run_test_cases(const test_case *tests, size_t n, int argc,
						  char **argv, void (*after) (void));

#endif							/* ENGAGE_HARNESS_H */
