/*-------------------------------------------------------------------------
 *
 * test_svg.c
 *	  Unit tests of engage's SVG core (src/core/svg_*.c): escaping, number
 *	  formatting, nice ticks, the three chart builders and their errors,
 *	  with the harness of harness.h: one line per failing check, then
 *	  the line "N passed, N failed" (test cases); exit status 1 on failure.
 *	  Allocations come from the arena of test/fuzz/fuzz_arena.h.
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

#include "core/svg.h"
#include "harness.h"
#include "svg_check.h"
#include "../fuzz/fuzz_arena.h"

/* ---------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------
 */

/* Arena of the allocator: every block of a test case, freed at its end */
static fz_arena arena = {{NULL}, 0, 0, -1};

/* Free every block of the arena (after each test case) */
static void
free_blocks(void)
{
	fz_free(&arena);
	arena.fail_at = -1;
}

/* A fresh environment */
static ecore_env
new_env(void)
{
	ecore_env	env;

	memset(&env, 0, sizeof(env));
	env.alloc = fz_alloc;
	env.alloc_arg = &arena;
	return env;
}

/* Escape a NUL-terminated string into a static buffer */
static const char *
esc(const char *s, size_t len, int flags)
{
	static char res[4096];
	ecore_env	env = new_env();
	char	   *out = NULL;
	size_t		n = 0;

	if (ecore_svg_escape(&env, s, len, flags, &out, &n) != ECORE_SVG_OK ||
		n >= sizeof(res) || strlen(out) != n ||
		ecore_svg_escaped_length(s, len, flags) != n)
		return "<error>";
	memcpy(res, out, n + 1);
	return res;
}

/* Value formatted by ecore_svg_format_value */
static const char *
fv(double v, int si)
{
	static char res[64];

	ecore_svg_format_value(v, si, res, sizeof(res));
	return res;
}

/* Check a chart document */
static void
check_doc(const char *doc, size_t len, const char *file, int line)
{
	const char *problem = svg_check_chart(doc, len);

	if (problem != NULL)
		fail_at(file, line, problem);
}

#define CHECK_DOC(doc, len) check_doc(doc, len, __FILE__, __LINE__)

/* ---------------------------------------------------------------------
 * Tests
 * ---------------------------------------------------------------------
 */

/* Entities */
static void
test_escape_entities(void)
{
	CHECK_STR(esc("<script>alert(1)</script>", 25, 0),
			  "&lt;script&gt;alert(1)&lt;/script&gt;");
	CHECK_STR(esc("a & b \"c\" 'd'", 13, 0), "a &amp; b &quot;c&quot; &#39;d&#39;");
	CHECK_STR(esc("", 0, 0), "");
	CHECK_STR(esc("plain text", 10, 0), "plain text");
	CHECK_STR(esc("tab\tnl\ncr\r", 10, 0), "tab\tnl\ncr\r");
}

/* Invalid UTF-8 and XML characters */
static void
test_escape_invalid(void)
{
	/* a lone invalid byte, a truncated sequence, a surrogate, overlong */
	CHECK_STR(esc("a\xFF" "b", 3, 0), "a\xEF\xBF\xBD" "b");
	CHECK_STR(esc("a\xE2\x82", 3, 0), "a\xEF\xBF\xBD");
	CHECK_STR(esc("\xE2\x82" "x", 3, 0), "\xEF\xBF\xBD" "x");
	CHECK_STR(esc("\xED\xA0\x80", 3, 0), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	CHECK_STR(esc("\xC0\xAF", 2, 0), "\xEF\xBF\xBD\xEF\xBF\xBD");
	CHECK_STR(esc("\xF4\x90\x80\x80", 4, 0),
			  "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	/* controls, NUL, U+FFFE */
	CHECK_STR(esc("a\x01" "b", 3, 0), "a\xEF\xBF\xBD" "b");
	CHECK_STR(esc("a\0b", 3, 0), "a\xEF\xBF\xBD" "b");
	CHECK_STR(esc("\xEF\xBF\xBE", 3, 0), "\xEF\xBF\xBD");
	/* valid sequences are kept whole */
	CHECK_STR(esc("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB1", 14, 0),
			  "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xB1");
	/* ASCII mode */
	CHECK_STR(esc("caf\xC3\xA9 \xF0\x9F\x93\xB1 \xFF<", 13, ECORE_SVG_ASCII),
			  "caf&#xE9; &#x1F4F1; &#xFFFD;&lt;");
}

/* Escape API errors and allocation failure */
static void
test_escape_errors(void)
{
	ecore_env	env = new_env();
	char	   *out;
	size_t		n;

	CHECK(ecore_svg_escape(NULL, "a", 1, 0, &out, &n) == ECORE_SVG_EINVAL_ENV);
	CHECK(ecore_svg_escape(&env, NULL, 1, 0, &out, &n) == ECORE_SVG_EINVAL_ARG);
	CHECK(ecore_svg_escape(&env, "a", 1, 0, NULL, &n) == ECORE_SVG_EINVAL_ARG);
	arena.fail_at = 0;
	CHECK(ecore_svg_escape(&env, "a", 1, 0, &out, &n) == ECORE_SVG_ENOMEM);
	CHECK(strcmp(ecore_svg_strerror(ECORE_SVG_ENOMEM), "out of memory") == 0);
	CHECK(strcmp(ecore_svg_strerror(999), "unknown status") == 0);
}

/* Fixed notation */
static void
test_format_fixed(void)
{
	char		b[64];

	ecore_svg_format_fixed(1234567.891, 2, 1, b, sizeof(b));
	CHECK_STR(b, "1,234,567.89");
	ecore_svg_format_fixed(-1234.5, 0, 1, b, sizeof(b));
	CHECK_STR(b, "-1,235");
	ecore_svg_format_fixed(-0.004, 2, 0, b, sizeof(b));
	CHECK_STR(b, "0.00");
	ecore_svg_format_fixed(0.05, 2, 0, b, sizeof(b));
	CHECK_STR(b, "0.05");
	ecore_svg_format_fixed(999, 0, 1, b, sizeof(b));
	CHECK_STR(b, "999");
	ecore_svg_format_fixed(100000, 0, 1, b, sizeof(b));
	CHECK_STR(b, "100,000");
	ecore_svg_format_fixed(2e16, 0, 1, b, sizeof(b));
	CHECK_STR(b, "2e16");
	ecore_svg_format_fixed(NAN, 0, 1, b, sizeof(b));
	CHECK_STR(b, "NaN");
	ecore_svg_format_fixed(123456, 0, 1, b, 4);
	CHECK_STR(b, "123");
}

/* Values people read */
static void
test_format_value(void)
{
	CHECK_STR(fv(0, 1), "0");
	CHECK_STR(fv(7, 1), "7");
	CHECK_STR(fv(12345, 1), "12.3 k");
	CHECK_STR(fv(-12345, 1), "-12.3 k");
	CHECK_STR(fv(1.2e9, 1), "1.2 G");
	CHECK_STR(fv(345e6, 1), "345 M");
	CHECK_STR(fv(999.6, 1), "1 k");
	CHECK_STR(fv(999999, 1), "1 M");
	CHECK_STR(fv(6.4e14, 1), "640 T");
	CHECK_STR(fv(1.5e18, 1), "1.5 E");
	CHECK_STR(fv(2e24, 1), "2e24");
	CHECK_STR(fv(123456, 0), "123,456");
	CHECK_STR(fv(1.25, 0), "1.25");
	CHECK_STR(fv(0.0123, 0), "0.0123");
	CHECK_STR(fv(1.5e-7, 0), "1.5e-7");
	CHECK_STR(fv(-2.5e-300, 0), "-2.5e-300");
	CHECK_STR(fv(3e20, 0), "3e20");
}

/* Nice ticks and their labels */
static void
test_ticks(void)
{
	ecore_svg_ticks t;
	char		b[64];

	CHECK(ecore_svg_nice_ticks(0, 95, 5, &t) == ECORE_SVG_OK);
	CHECK(t.first == 0 && t.step == 20 && t.count == 6 && t.last == 100);
	CHECK(ecore_svg_nice_ticks(0, 0, 5, &t) == ECORE_SVG_OK);
	CHECK(t.first == 0 && t.last == 1 && t.count >= 2);
	CHECK(ecore_svg_nice_ticks(1, 10, 10, &t) == ECORE_SVG_OK);
	CHECK(t.first == 1 && t.step == 1 && t.count == 10);
	CHECK(ecore_svg_nice_ticks(5, 5, 5, &t) == ECORE_SVG_OK);
	CHECK(t.first <= 5 && t.last >= 5 && t.last > t.first);
	CHECK(ecore_svg_nice_ticks(-3, 7, 5, &t) == ECORE_SVG_OK);
	CHECK(t.first == -4 && t.step == 2 && t.last == 8);
	CHECK(ecore_svg_nice_ticks(0, 1e300, 6, &t) == ECORE_SVG_OK);
	CHECK(isfinite(t.last) && t.last >= 1e300 && t.count <= ECORE_SVG_MAX_TICKS);
	CHECK(ecore_svg_nice_ticks(1, 1 + 1e-13, 6, &t) == ECORE_SVG_OK);
	CHECK(t.last > t.first && t.count >= 2);
	CHECK(ecore_svg_nice_ticks(0, NAN, 6, &t) == ECORE_SVG_ENONFINITE);
	CHECK(ecore_svg_nice_ticks(0, 1e301, 6, &t) == ECORE_SVG_ERANGE);

	CHECK(ecore_svg_nice_ticks(0, 1.15e9, 6, &t) == ECORE_SVG_OK);
	CHECK(t.step == 2e8 && t.count == 7);
	ecore_svg_format_tick(&t, 0, 1, b, sizeof(b));
	CHECK_STR(b, "0");
	ecore_svg_format_tick(&t, 1, 1, b, sizeof(b));
	CHECK_STR(b, "0.2 G");
	ecore_svg_format_tick(&t, 6, 1, b, sizeof(b));
	CHECK_STR(b, "1.2 G");
	ecore_svg_format_tick(&t, 6, 0, b, sizeof(b));
	CHECK_STR(b, "1,200,000,000");
	CHECK(ecore_svg_nice_ticks(0, 0.9, 6, &t) == ECORE_SVG_OK);
	ecore_svg_format_tick(&t, 3, 1, b, sizeof(b));
	CHECK_STR(b, "0.6");
}

/* Bar chart: content */
static void
test_bar_chart(void)
{
	ecore_env	env = new_env();
	ecore_svg_texts txt = {"Top <3> apps & more", "application", "traffic", "B", 0};
	const char *labels[] = {"Gaming", "<script>alert(1)</script>", "You\"Tube'"};
	double		values[] = {6.4e14, 6.3e14, 3.4e13};
	char	   *out = NULL;
	size_t		n = 0;

	CHECK(ecore_svg_bar_chart(&env, &txt, 3, labels, values, &out, &n) == ECORE_SVG_OK);
	if (out == NULL)
		return;
	CHECK_DOC(out, n);
	CHECK(strstr(out, "<title>Top &lt;3&gt; apps &amp; more</title>") != NULL);
	CHECK(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
	CHECK(strstr(out, "You&quot;Tube&#39;") != NULL);
	CHECK(strstr(out, ">640 TB</text>") != NULL);
	CHECK(strstr(out, ">34 TB</text>") != NULL);
	CHECK(strstr(out, ">800 TB</text>") != NULL);
	CHECK(strstr(out, ">application</text>") != NULL);
	CHECK(strstr(out, "font-family=\"sans-serif\"") != NULL);
	CHECK(strstr(out, "<script") == NULL);
}

/* Bar chart: edge cases */
static void
test_bar_edges(void)
{
	ecore_env	env = new_env();
	ecore_svg_texts txt = {NULL, NULL, NULL, NULL, 0};
	const char *labels[ECORE_SVG_MAX_BARS + 1];
	double		values[ECORE_SVG_MAX_BARS + 1];
	char		longlabel[400];
	char	   *out = NULL;
	size_t		n = 0,
				i;
	int			k;

	for (i = 0; i <= ECORE_SVG_MAX_BARS; i++)
	{
		labels[i] = "";
		values[i] = 0;
	}
	/* all zero, empty labels, no texts */
	CHECK(ecore_svg_bar_chart(&env, &txt, 5, labels, values, &out, &n) == ECORE_SVG_OK);
	if (out)
		CHECK_DOC(out, n);
	/* negative values */
	values[0] = -5;
	values[1] = 3;
	txt.unit = "ms";
	CHECK(ecore_svg_bar_chart(&env, &txt, 2, labels, values, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	CHECK(strstr(out, ">-5 ms</text>") != NULL);
	/* the bound */
	for (i = 0; i <= ECORE_SVG_MAX_BARS; i++)
		values[i] = (double) i * 1e6;
	txt.unit = "%";
	CHECK(ecore_svg_bar_chart(&env, &txt, ECORE_SVG_MAX_BARS, labels, values, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	CHECK(ecore_svg_bar_chart(&env, &txt, ECORE_SVG_MAX_BARS + 1, labels, values, &out, &n) == ECORE_SVG_EINVAL_N);
	CHECK(ecore_svg_bar_chart(&env, &txt, 0, labels, values, &out, &n) == ECORE_SVG_EINVAL_N);
	/* NaN, infinity, too large */
	values[2] = NAN;
	CHECK(ecore_svg_bar_chart(&env, &txt, 5, labels, values, &out, &n) == ECORE_SVG_ENONFINITE);
	CHECK(env.error_row == 2 && env.error_col == ECORE_SVG_FIELD_VALUES);
	values[2] = -INFINITY;
	CHECK(ecore_svg_bar_chart(&env, &txt, 5, labels, values, &out, &n) == ECORE_SVG_ENONFINITE);
	values[2] = 1e301;
	CHECK(ecore_svg_bar_chart(&env, &txt, 5, labels, values, &out, &n) == ECORE_SVG_ERANGE);
	/* huge and tiny magnitudes */
	values[0] = 1e300;
	values[1] = -1e300;
	values[2] = 1e-300;
	CHECK(ecore_svg_bar_chart(&env, &txt, 3, labels, values, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	values[0] = 1e-300;
	values[1] = 5e-324;
	CHECK(ecore_svg_bar_chart(&env, &txt, 3, labels, values, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	/* a very long label: cut with an ellipsis, on a character boundary */
	for (i = 0; i + 2 < sizeof(longlabel); i += 2)
		memcpy(longlabel + i, "\xC3\xA9", 2);
	longlabel[i] = '\0';
	labels[0] = longlabel;
	values[0] = 1;
	CHECK(ecore_svg_bar_chart(&env, &txt, 1, labels, values, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	CHECK(strstr(out, "\xC3\xA9\xE2\x80\xA6</text>") != NULL);
	/* NULL arguments */
	CHECK(ecore_svg_bar_chart(NULL, &txt, 1, labels, values, &out, &n) == ECORE_SVG_EINVAL_ENV);
	CHECK(ecore_svg_bar_chart(&env, &txt, 1, NULL, values, &out, &n) == ECORE_SVG_EINVAL_ARG);
	labels[0] = NULL;
	CHECK(ecore_svg_bar_chart(&env, &txt, 1, labels, values, &out, &n) == ECORE_SVG_EINVAL_ARG);
	labels[0] = "x";
	/* every allocation failing in turn */
	for (k = 0; k < 40; k++)
	{
		int			rc;

		free_blocks();
		arena.fail_at = k;
		rc = ecore_svg_bar_chart(&env, &txt, 50, labels, values, &out, &n);
		CHECK(rc == ECORE_SVG_ENOMEM || rc == ECORE_SVG_OK);
		if (rc == ECORE_SVG_OK)
			break;
	}
	CHECK(k < 40);
}

/* Line chart */
static void
test_line_chart(void)
{
	ecore_env	env = new_env();
	ecore_svg_texts txt = {"Elbow", "k (clusters)", "inertia", NULL, ECORE_SVG_ASCII};
	double		x[10],
				y[10],
				mark = 3;
	char	   *out = NULL;
	size_t		n = 0,
				i;

	for (i = 0; i < 10; i++)
	{
		x[i] = (double) i + 1;
		y[i] = 300000.0 / (double) (i + 1);
	}
	CHECK(ecore_svg_line_chart(&env, &txt, 10, x, y, &mark, "elbow: k = 3 \xE2\x86\x92 <b>", &out, &n) == ECORE_SVG_OK);
	if (out == NULL)
		return;
	CHECK_DOC(out, n);
	CHECK(strstr(out, "elbow: k = 3 &#x2192; &lt;b&gt;</text>") != NULL);
	CHECK(strstr(out, "stroke-dasharray") != NULL);
	CHECK(strstr(out, "r=\"7\"") != NULL);
	CHECK(strstr(out, "<polyline") != NULL);
	CHECK(strstr(out, ">300 k</text>") != NULL);
	CHECK(strstr(out, ">10</text>") != NULL);
	/* default mark label; a mark outside the data; no mark */
	mark = 12;
	CHECK(ecore_svg_line_chart(&env, &txt, 10, x, y, &mark, NULL, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	CHECK(strstr(out, ">x = 12</text>") != NULL);
	CHECK(strstr(out, "r=\"7\"") == NULL);
	CHECK(ecore_svg_line_chart(&env, &txt, 1, x, y, NULL, NULL, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	/* errors */
	mark = NAN;
	CHECK(ecore_svg_line_chart(&env, &txt, 10, x, y, &mark, NULL, &out, &n) == ECORE_SVG_ENONFINITE);
	CHECK(env.error_col == ECORE_SVG_FIELD_MARK);
	y[4] = INFINITY;
	CHECK(ecore_svg_line_chart(&env, &txt, 10, x, y, NULL, NULL, &out, &n) == ECORE_SVG_ENONFINITE);
	CHECK(env.error_row == 4 && env.error_col == ECORE_SVG_FIELD_Y);
	CHECK(ecore_svg_line_chart(&env, &txt, 0, x, y, NULL, NULL, &out, &n) == ECORE_SVG_EINVAL_N);
	CHECK(ecore_svg_line_chart(&env, &txt, ECORE_SVG_MAX_POINTS + 1, x, y, NULL, NULL, &out, &n) == ECORE_SVG_EINVAL_N);
}

/* Cluster chart */
static void
test_cluster_chart(void)
{
	ecore_env	env = new_env();
	ecore_svg_texts txt = {"Clusters", NULL, NULL, NULL, 0};
	const char *labels[] = {"1 low engagement", "2 <medium>", "3 high & \"loyal\""};
	const char *metrics[] = {"sessions", "duration (ms)", "traffic (bytes)"};
	int64_t		sizes[] = {61000, 38000, 7856};
	double		profile[] = {1.0, 90000, 4e8, 2.2, 200000, 9e8, 6.1, 700000, 3e9};
	char	   *out = NULL;
	size_t		n = 0;

	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, 3, metrics, profile, &out, &n) == ECORE_SVG_OK);
	if (out == NULL)
		return;
	CHECK_DOC(out, n);
	CHECK(strstr(out, ">61,000</text>") != NULL);
	CHECK(strstr(out, ">57.1%</text>") != NULL);
	CHECK(strstr(out, "2 &lt;medium&gt;") != NULL);
	CHECK(strstr(out, "3 high &amp; &quot;loyal&quot;") != NULL);
	CHECK(strstr(out, "overall mean") != NULL);
	/* negative profile values: normalised mode; zero sizes */
	profile[0] = -1;
	sizes[0] = sizes[1] = sizes[2] = 0;
	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, 3, metrics, profile, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	CHECK(strstr(out, "largest magnitude") != NULL);
	/* all zero */
	memset(profile, 0, sizeof(profile));
	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, 3, metrics, profile, &out, &n) == ECORE_SVG_OK);
	CHECK_DOC(out, n);
	/* errors */
	sizes[1] = -1;
	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, 3, metrics, profile, &out, &n) == ECORE_SVG_ENEGATIVE);
	CHECK(env.error_row == 1 && env.error_col == ECORE_SVG_FIELD_SIZES);
	sizes[1] = 5;
	profile[5] = NAN;
	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, 3, metrics, profile, &out, &n) == ECORE_SVG_ENONFINITE);
	CHECK(env.error_row == 1 && env.error_col == ECORE_SVG_FIELD_PROFILE + 2);
	CHECK(ecore_svg_cluster_chart(&env, &txt, 0, labels, sizes, 3, metrics, profile, &out, &n) == ECORE_SVG_EINVAL_N);
	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, 0, metrics, profile, &out, &n) == ECORE_SVG_EINVAL_M);
	CHECK(ecore_svg_cluster_chart(&env, &txt, 3, labels, sizes, ECORE_SVG_MAX_METRICS + 1, metrics, profile, &out, &n) == ECORE_SVG_EINVAL_M);
}

/* Many clusters and metrics, huge sizes */
static void
test_cluster_big(void)
{
	ecore_env	env = new_env();
	ecore_svg_texts txt = {"Many", NULL, NULL, NULL, 0};
	const char *labels[ECORE_SVG_MAX_CLUSTERS];
	const char *metrics[ECORE_SVG_MAX_METRICS];
	int64_t		sizes[ECORE_SVG_MAX_CLUSTERS];
	double		profile[ECORE_SVG_MAX_CLUSTERS * ECORE_SVG_MAX_METRICS];
	char	   *out = NULL;
	size_t		n = 0,
				i;

	for (i = 0; i < ECORE_SVG_MAX_CLUSTERS; i++)
	{
		labels[i] = "a rather long cluster label that will be cut";
		sizes[i] = INT64_MAX / 64;
	}
	for (i = 0; i < ECORE_SVG_MAX_METRICS; i++)
		metrics[i] = "metric with a long name";
	for (i = 0; i < ECORE_SVG_MAX_CLUSTERS * ECORE_SVG_MAX_METRICS; i++)
		profile[i] = (double) (i % 7) * 1e299;
	CHECK(ecore_svg_cluster_chart(&env, &txt, ECORE_SVG_MAX_CLUSTERS, labels, sizes,
								   ECORE_SVG_MAX_METRICS, metrics, profile, &out, &n) == ECORE_SVG_OK);
	if (out)
		CHECK_DOC(out, n);
	CHECK(ecore_svg_cluster_chart(&env, &txt, ECORE_SVG_MAX_CLUSTERS + 1, labels, sizes,
								   1, metrics, profile, &out, &n) == ECORE_SVG_EINVAL_N);
}

static const test_case tests[] = {
	{"escape_entities", test_escape_entities},
	{"escape_invalid", test_escape_invalid},
	{"escape_errors", test_escape_errors},
	{"format_fixed", test_format_fixed},
	{"format_value", test_format_value},
	{"ticks", test_ticks},
	{"bar_chart", test_bar_chart},
	{"bar_edges", test_bar_edges},
	{"line_chart", test_line_chart},
	{"cluster_chart", test_cluster_chart},
	{"cluster_big", test_cluster_big},
};

/* Run every test case (or those whose name contains an argument) */
int
main(int argc, char **argv)
{
	return run_test_cases(tests, TEST_COUNT(tests), argc, argv, free_blocks);
}
