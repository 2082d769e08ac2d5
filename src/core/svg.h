/*-------------------------------------------------------------------------
 *
 * svg.h
 *	  Standalone SVG charts and XML/HTML text escaping for engage: a bar
 *	  chart, a line chart with markers (the elbow curve, with the chosen k
 *	  marked) and a cluster chart (sizes and profile), plus the number
 *	  formatting and "nice" axis ticks they use.
 *
 * Plain C99, no PostgreSQL headers: it is unit-tested and fuzzed alone
 * (test/unit/test_svg.c, test/fuzz/fuzz_svg.c) and called by a thin
 * PostgreSQL glue (svg_sql.c).  The code is split by concern: svg_text.c
 * (escaping), svg_format.c (numbers and ticks), svg_doc.c (the document
 * writer and what the charts share) and one file per chart (svg_bar.c,
 * svg_line.c, svg_cluster.c); svg_internal.h is what those files share.
 *
 * Memory: as in the rest of the core (see kmeans.h) the code never calls
 * malloc/free: every byte comes from env->alloc and is never freed by the
 * core (the caller frees it, e.g. with a memory context reset).  A chart is
 * written into a buffer that doubles when full, so a call makes at most
 * about log2(output size) requests totalling less than twice the output
 * plus 8 kB.  ecore_svg_escape() measures first and makes one request.
 * env->check (optional) is called every 1 MB of escaped text.
 *
 * Text: every string that comes from the data (titles, labels, metric
 * names, units) is escaped: & < > " ' become entities; a byte sequence that
 * is not UTF-8, a C0 control other than tab, line feed and carriage return,
 * and U+FFFE/U+FFFF (not XML 1.0 characters) each become U+FFFD; a valid
 * UTF-8 sequence is never split.  With ECORE_SVG_ASCII the output is pure
 * ASCII (every non-ASCII character as &#xHEX;), for databases whose
 * encoding is not UTF-8.  Chart strings are NUL-terminated; a NULL pointer
 * is an absent optional text.  Long texts are cut to a number of
 * characters (code points) with an ellipsis.
 *
 * Numbers: formatted without the C library's locale (digits are produced
 * from integers; the exponent form uses "%e" whose decimal point is
 * normalised to "."), so output is identical in every locale.  Chart
 * values must be finite and of magnitude at most ECORE_SVG_MAX_ABS.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECORE_SVG_H
#define ECORE_SVG_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"				/* ecore_env */

/* Status codes of the chart functions (0 is success). */
typedef enum ecore_svg_status
{
	ECORE_SVG_OK = 0,
	ECORE_SVG_EINVAL_ENV,		/* env is NULL or env->alloc is NULL */
	ECORE_SVG_EINVAL_ARG,		/* a NULL array or output pointer */
	ECORE_SVG_EINVAL_N,		/* n (bars, points, clusters) below 1 or
								 * above its bound */
	ECORE_SVG_EINVAL_M,		/* cluster chart: metrics below 1 or above
								 * ECORE_SVG_MAX_METRICS */
	ECORE_SVG_ENONFINITE,		/* NaN or infinity: field in
								 * env->error_col, index in env->error_row */
	ECORE_SVG_ERANGE,			/* |value| > ECORE_SVG_MAX_ABS: same */
	ECORE_SVG_ENEGATIVE,		/* cluster size below 0: same */
	ECORE_SVG_ENOMEM,			/* env->alloc returned NULL */
	ECORE_SVG_EOVERFLOW		/* a size computation overflows size_t */
} ecore_svg_status;

/*
 * Which input holds the value of an ENONFINITE/ERANGE/ENEGATIVE error:
 * set in env->error_col (the index in env->error_row).
 */
typedef enum ecore_svg_field
{
	ECORE_SVG_FIELD_VALUES = 0,	/* bar chart values[error_row] */
	ECORE_SVG_FIELD_X,			/* line chart x[error_row] */
	ECORE_SVG_FIELD_Y,			/* line chart y[error_row] */
	ECORE_SVG_FIELD_MARK,		/* line chart mark_x */
	ECORE_SVG_FIELD_SIZES,		/* cluster chart sizes[error_row] */
	ECORE_SVG_FIELD_PROFILE	/* profile of cluster error_row, metric
								 * error_col - ECORE_SVG_FIELD_PROFILE */
} ecore_svg_field;

/* Bounds */
#define ECORE_SVG_MAX_BARS 1000	/* bars of a bar chart */
#define ECORE_SVG_MAX_POINTS 10000 /* points of a line chart */
#define ECORE_SVG_MAX_CLUSTERS 50	/* clusters of a cluster chart */
#define ECORE_SVG_MAX_METRICS 12	/* metrics of a cluster chart */
#define ECORE_SVG_MAX_ABS 1e300	/* largest |value| charted */

/* Characters (code points) kept of each text before the ellipsis */
#define ECORE_SVG_TITLE_CHARS 100
#define ECORE_SVG_AXIS_CHARS 60
#define ECORE_SVG_LABEL_CHARS 32
#define ECORE_SVG_UNIT_CHARS 16

/* Escaping flags */
#define ECORE_SVG_ASCII 1		/* non-ASCII characters as &#xHEX; */

/* Static English message of a status code (never NULL). */
extern const char *ecore_svg_strerror(int status);

/* ---------------------------------------------------------------------
 * Escaping
 * ---------------------------------------------------------------------
 */

/*
 * Length in bytes of the escaped form of src[0..len) (embedded NULs are
 * escaped too, as U+FFFD).  SIZE_MAX if it would overflow size_t.
 */
extern size_t ecore_svg_escaped_length(const char *src, size_t len, int flags);

/*
 * Escape src[0..len) into a new NUL-terminated string from env->alloc;
 * *out_len gets its length.  One allocation of exactly *out_len + 1 bytes.
 */
extern int	ecore_svg_escape(ecore_env *env, const char *src, size_t len,
							  int flags, char **out, size_t *out_len);

/* ---------------------------------------------------------------------
 * Numbers and axes
 * ---------------------------------------------------------------------
 */

/*
 * Fixed notation with "decimals" decimals (0..12), "," thousands
 * separators if group, into out (cap >= 48; always NUL-terminated).  Falls
 * back to the exponent form past 1e15.  Returns the length written.
 */
extern size_t ecore_svg_format_fixed(double v, int decimals, int group,
									  char *out, size_t cap);

/*
 * A value people read, with 3 significant digits: with si, SI prefixes
 * from 1,000 on ("12.3 k", "1.2 G", up to E, then "1.23e24"); without,
 * thousands separators ("123,456", "1.5", "0.0123"); tiny values in
 * exponent form ("1.2e-7").  Integers up to 1e15 keep all their digits
 * without si.  Same cap rule as ecore_svg_format_fixed.
 */
extern size_t ecore_svg_format_value(double v, int si, char *out, size_t cap);

/* Ticks of an axis: first + i * step for i in 0..count-1 */
typedef struct ecore_svg_ticks
{
	double		first;			/* first tick (<= the data minimum) */
	double		step;			/* 1, 2 or 5 times a power of ten */
	int			count;			/* 2..ECORE_SVG_MAX_TICKS */
	double		last;			/* first + (count - 1) * step */
} ecore_svg_ticks;

#define ECORE_SVG_MAX_TICKS 64

/*
 * Nice ticks covering [lo, hi] with about target (2..20) intervals.  A
 * zero or tiny range is widened (all zero: 0..1).  Returns ECORE_SVG_OK,
 * or ENONFINITE / ERANGE for a bad bound.
 */
extern int	ecore_svg_nice_ticks(double lo, double hi, int target,
								  ecore_svg_ticks *t);

/*
 * Label of tick i of t, formatted for the whole axis (the same prefix and
 * decimals for every tick): with si, "200 M", "1.2 G"; without,
 * "1,500", "0.25".  Same cap rule as ecore_svg_format_fixed.
 */
extern size_t ecore_svg_format_tick(const ecore_svg_ticks *t, int i, int si,
									 char *out, size_t cap);

/* ---------------------------------------------------------------------
 * Charts: each returns a complete standalone SVG document in *out (from
 * env->alloc, NUL-terminated, length in *out_len).
 * ---------------------------------------------------------------------
 */

/* Texts common to every chart (any may be NULL: left out) */
typedef struct ecore_svg_texts
{
	const char *title;
	const char *x_label;
	const char *y_label;
	/*
	 * Unit of the values: "B" (bytes) or NULL/"" (a count) get SI prefixes
	 * ("1.2 GB", "12.3 k"); any other unit is appended to grouped numbers
	 * ("120,000 ms", "12.5%").
	 */
	const char *unit;
	int			flags;			/* ECORE_SVG_ASCII or 0 */
} ecore_svg_texts;

/*
 * Bar chart of n (1..ECORE_SVG_MAX_BARS) labelled values; negative values
 * go below a zero line; each bar has its value printed above it when there
 * is room, and as a tooltip always.
 */
extern int	ecore_svg_bar_chart(ecore_env *env, const ecore_svg_texts *txt,
								 size_t n, const char *const *labels,
								 const double *values,
								 char **out, size_t *out_len);

/*
 * Line chart with markers of n (1..ECORE_SVG_MAX_POINTS) points (x[i],
 * y[i]) joined in the given order.  If mark_x is not NULL, the point at
 * x = *mark_x is highlighted with a dashed vertical line and mark_label
 * (default "x = <value>").
 */
extern int	ecore_svg_line_chart(ecore_env *env, const ecore_svg_texts *txt,
								  size_t n, const double *x, const double *y,
								  const double *mark_x, const char *mark_label,
								  char **out, size_t *out_len);

/*
 * Cluster chart of k (1..ECORE_SVG_MAX_CLUSTERS) clusters: their sizes
 * (>= 0; bars with count and share in %) and their profile (k x m,
 * row-major, m in 1..ECORE_SVG_MAX_METRICS) as grouped bars: each metric
 * relative to its overall mean weighted by the sizes when every metric is
 * >= 0 with a positive mean, else each divided by its largest |value|.
 * txt->unit is not used.
 */
extern int	ecore_svg_cluster_chart(ecore_env *env, const ecore_svg_texts *txt,
									 size_t k, const char *const *labels,
									 const int64_t *sizes, size_t m,
									 const char *const *metrics,
									 const double *profile,
									 char **out, size_t *out_len);

#endif							/* ECORE_SVG_H */
