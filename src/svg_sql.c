/*-------------------------------------------------------------------------
 *
 * svg_sql.c
 *	  SQL interface of engage's charts: svg_bar_chart, svg_line_chart,
 *	  svg_cluster_chart and xml_escape.
 *
 * A thin layer over svg.c (which knows nothing of PostgreSQL): it checks
 * the arguments (NULLs, array shapes and lengths, bounds, NaN and
 * infinities) with errors in PostgreSQL's style, hands the core palloc
 * and CHECK_FOR_INTERRUPTS, and returns the document as text.
 *
 * NULLs: xml_escape is STRICT (NULL in, NULL out).  The chart functions
 * are not, because their optional texts default to NULL (left out of the
 * chart) and mark_x NULL means no mark; a NULL array, a NULL element or a
 * NULL title is an error.
 *
 * Encodings: the core works in UTF-8.  In a UTF-8 (or SQL_ASCII) database
 * text goes through as it is; in any other, the texts are converted to
 * UTF-8 and the output is pure ASCII (non-ASCII characters as &#xHEX;),
 * which is valid in every server encoding.
 *
 * Copyright (c) 2026, engage developers
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "engage.h"
#include "core/svg.h"

/*
 * Core allocator: palloc_extended (huge; NULL when out of memory, with the
 * size of the request kept in *arg for the error's detail)
 */
static void *
svg_alloc(void *arg, size_t size)
{
	void	   *p = palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);

	if (p == NULL)
		*(size_t *) arg = size;
	return p;
}

/* Core interrupt check */
static void
svg_check_interrupts(void *arg)
{
	(void) arg;
	CHECK_FOR_INTERRUPTS();
}

/*
 * A core environment; *failed_request receives the size of an allocation
 * that fails
 */
static void
svg_env_init(ecore_env *env, size_t *failed_request)
{
	memset(env, 0, sizeof(*env));
	*failed_request = 0;
	env->alloc = svg_alloc;
	env->alloc_arg = failed_request;
	env->check = svg_check_interrupts;
}

/* Escaping flags for the database encoding */
static int
svg_flags(void)
{
	int			enc = GetDatabaseEncoding();

	return (enc == PG_UTF8 || enc == PG_SQL_ASCII) ? 0 : ECORE_SVG_ASCII;
}

/* A text value as a NUL-terminated UTF-8 string */
static char *
svg_utf8(text *t)
{
	char	   *s = text_to_cstring(t);

	if (svg_flags() != 0)
		s = pg_server_to_any(s, strlen(s), PG_UTF8);
	return s;
}

/* Optional text argument: NULL if the argument is NULL */
static char *
svg_opt_text(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return NULL;
	return svg_utf8(PG_GETARG_TEXT_PP(argno));
}

/* Check that an array is one-dimensional and non-empty, without NULLs */
static int
svg_check_1d(ArrayType *a, const char *name)
{
	int			n;

	if (ARR_NDIM(a) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("array \"%s\" must not be empty", name)));
	if (ARR_NDIM(a) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array \"%s\" must be one-dimensional", name),
				 errdetail_plural("It has %d dimension.", "It has %d dimensions.",
								  ARR_NDIM(a), ARR_NDIM(a))));
	if (ARR_HASNULL(a) && array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array \"%s\" must not contain nulls", name)));
	n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	return n;
}

/* The strings of a text[] argument, in UTF-8 */
static const char **
svg_text_array(ArrayType *a, const char *name, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	const char **res;
	int			i;

	*n = svg_check_1d(a, name);
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	res = palloc(sizeof(char *) * (*n));
	for (i = 0; i < *n; i++)
		res[i] = svg_utf8(DatumGetTextPP(elems[i]));
	return res;
}

/* The values of a float8[] argument */
static double *
svg_float8_array(ArrayType *a, const char *name, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *res;
	int			i;

	*n = svg_check_1d(a, name);
	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, n);
	res = palloc(sizeof(double) * (*n));
	for (i = 0; i < *n; i++)
		res[i] = DatumGetFloat8(elems[i]);
	return res;
}

/* Two arrays that must have the same length */
static void
svg_same_length(const char *a, int na, const char *b, int nb)
{
	if (na != nb)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("arrays \"%s\" and \"%s\" must have the same length",
						a, b),
				 errdetail("\"%s\" has %d elements and \"%s\" has %d.",
						   a, na, b, nb)));
}

/* Too many elements for a chart */
static void
svg_bound(const char *what, int n, int max, const char *hint)
{
	if (n > max)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many %s: %d", what, n),
				 errdetail("The chart takes at most %d %s.", max, what),
				 errhint("%s", hint)));
}

/* Raise a core status as an error */
static void
svg_error(int rc, const ecore_env *env)
{
	static const char *const field[] = {"values", "x", "y", "mark_x", "sizes"};
	char		where[64];
	size_t		f = env->error_col;

	if (rc == ECORE_SVG_ENONFINITE || rc == ECORE_SVG_ERANGE ||
		rc == ECORE_SVG_ENEGATIVE)
	{
		if (f == ECORE_SVG_FIELD_MARK)
			snprintf(where, sizeof(where), "mark_x");
		else if (f >= ECORE_SVG_FIELD_PROFILE)
			snprintf(where, sizeof(where), "profile[%zu][%zu]",
					 env->error_row + 1, f - ECORE_SVG_FIELD_PROFILE + 1);
		else
			snprintf(where, sizeof(where), "%s[%zu]", field[f], env->error_row + 1);
	}
	switch (rc)
	{
		case ECORE_SVG_ENONFINITE:
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("%s is not finite", where),
					 errhint("Leave NaN and infinite values out of the chart.")));
			break;
		case ECORE_SVG_ERANGE:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("%s is out of range", where),
					 errdetail("Charted values must be at most 1e300 in magnitude.")));
			break;
		case ECORE_SVG_ENEGATIVE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be negative", where),
					 errdetail("A cluster size is a number of users.")));
			break;
		case ECORE_SVG_ENOMEM:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Failed on request of size %zu.",
							   *(const size_t *) env->alloc_arg)));
			break;
		case ECORE_SVG_EOVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("The result would be larger than %zu bytes.",
							   (size_t) SIZE_MAX)));
			break;
		default:
			elog(ERROR, "chart core failed: %s", ecore_svg_strerror(rc));
	}
}

/* The document as a text value */
static text *
svg_result(const char *out, size_t len)
{
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("result would be too long"),
				 errdetail("The result would take %zu bytes; a text value holds at most %zu.",
						   len, (size_t) (MaxAllocSize - VARHDRSZ))));
	return cstring_to_text_with_len(out, (int) len);
}

PG_FUNCTION_INFO_V1(engage_xml_escape);

/* xml_escape(text): the text with XML/HTML special characters escaped */
Datum
engage_xml_escape(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);
	ecore_env	env;
	size_t		failed_request;
	char	   *src,
			   *out;
	size_t		len,
				n;
	int			flags = svg_flags(),
				rc;

	svg_env_init(&env, &failed_request);
	if (flags == 0)
	{
		src = VARDATA_ANY(t);
		len = VARSIZE_ANY_EXHDR(t);
	}
	else
	{
		src = svg_utf8(t);
		len = strlen(src);
	}
	n = ecore_svg_escaped_length(src, len, flags);
	if (n > MaxAllocSize - VARHDRSZ - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("escaped text would be too long"),
				 errdetail("The escaped text would take %zu bytes; a text value holds at most %zu.",
						   n, (size_t) (MaxAllocSize - VARHDRSZ))));
	rc = ecore_svg_escape(&env, src, len, flags, &out, &n);
	if (rc != ECORE_SVG_OK)
		svg_error(rc, &env);
	PG_RETURN_TEXT_P(svg_result(out, n));
}

PG_FUNCTION_INFO_V1(engage_svg_bar_chart);

/*
 * svg_bar_chart(labels text[], values float8[], title text, x_label text,
 * y_label text, unit text)
 */
Datum
engage_svg_bar_chart(PG_FUNCTION_ARGS)
{
	ecore_env	env;
	size_t		failed_request;
	ecore_svg_texts txt;
	const char **labels;
	double	   *values;
	int			nl,
				nv,
				rc;
	char	   *out;
	size_t		len;

	engage_require_arg(fcinfo, 0, "labels");
	engage_require_arg(fcinfo, 1, "values");
	engage_require_arg(fcinfo, 2, "title");
	labels = svg_text_array(PG_GETARG_ARRAYTYPE_P(0), "labels", &nl);
	values = svg_float8_array(PG_GETARG_ARRAYTYPE_P(1), "values", &nv);
	svg_same_length("labels", nl, "values", nv);
	svg_bound("bars", nv, ECORE_SVG_MAX_BARS,
			  "Chart the largest categories and sum the others into one bar.");
	memset(&txt, 0, sizeof(txt));
	txt.title = svg_opt_text(fcinfo, 2);
	txt.x_label = svg_opt_text(fcinfo, 3);
	txt.y_label = svg_opt_text(fcinfo, 4);
	txt.unit = svg_opt_text(fcinfo, 5);
	txt.flags = svg_flags();
	svg_env_init(&env, &failed_request);
	rc = ecore_svg_bar_chart(&env, &txt, (size_t) nv, labels, values, &out, &len);
	if (rc != ECORE_SVG_OK)
		svg_error(rc, &env);
	PG_RETURN_TEXT_P(svg_result(out, len));
}

PG_FUNCTION_INFO_V1(engage_svg_line_chart);

/*
 * svg_line_chart(x float8[], y float8[], title text, x_label text,
 * y_label text, mark_x float8, mark_label text)
 */
Datum
engage_svg_line_chart(PG_FUNCTION_ARGS)
{
	ecore_env	env;
	size_t		failed_request;
	ecore_svg_texts txt;
	double	   *x,
			   *y,
				mark = 0;
	int			nx,
				ny,
				rc;
	char	   *out;
	size_t		len;

	engage_require_arg(fcinfo, 0, "x");
	engage_require_arg(fcinfo, 1, "y");
	engage_require_arg(fcinfo, 2, "title");
	x = svg_float8_array(PG_GETARG_ARRAYTYPE_P(0), "x", &nx);
	y = svg_float8_array(PG_GETARG_ARRAYTYPE_P(1), "y", &ny);
	svg_same_length("x", nx, "y", ny);
	svg_bound("points", nx, ECORE_SVG_MAX_POINTS,
			  "Sample or aggregate the points first.");
	memset(&txt, 0, sizeof(txt));
	txt.title = svg_opt_text(fcinfo, 2);
	txt.x_label = svg_opt_text(fcinfo, 3);
	txt.y_label = svg_opt_text(fcinfo, 4);
	txt.flags = svg_flags();
	if (!PG_ARGISNULL(5))
		mark = PG_GETARG_FLOAT8(5);
	svg_env_init(&env, &failed_request);
	rc = ecore_svg_line_chart(&env, &txt, (size_t) nx, x, y,
							   PG_ARGISNULL(5) ? NULL : &mark,
							   svg_opt_text(fcinfo, 6), &out, &len);
	if (rc != ECORE_SVG_OK)
		svg_error(rc, &env);
	PG_RETURN_TEXT_P(svg_result(out, len));
}

PG_FUNCTION_INFO_V1(engage_svg_cluster_chart);

/*
 * svg_cluster_chart(labels text[], sizes bigint[], metrics text[],
 * profile float8[][] (k x m), title text)
 */
Datum
engage_svg_cluster_chart(PG_FUNCTION_ARGS)
{
	ecore_env	env;
	size_t		failed_request;
	ecore_svg_texts txt;
	const char **labels,
			  **metrics;
	ArrayType  *sa,
			   *pa;
	Datum	   *elems;
	bool	   *nulls;
	int64	   *sizes;
	double	   *profile;
	int			k,
				ns,
				m,
				np,
				i,
				rc;
	char	   *out;
	size_t		len;

	engage_require_arg(fcinfo, 0, "labels");
	engage_require_arg(fcinfo, 1, "sizes");
	engage_require_arg(fcinfo, 2, "metrics");
	engage_require_arg(fcinfo, 3, "profile");
	engage_require_arg(fcinfo, 4, "title");
	labels = svg_text_array(PG_GETARG_ARRAYTYPE_P(0), "labels", &k);
	sa = PG_GETARG_ARRAYTYPE_P(1);
	ns = svg_check_1d(sa, "sizes");
	svg_same_length("labels", k, "sizes", ns);
	svg_bound("clusters", k, ECORE_SVG_MAX_CLUSTERS,
			  "Chart fewer clusters.");
	metrics = svg_text_array(PG_GETARG_ARRAYTYPE_P(2), "metrics", &m);
	svg_bound("metrics", m, ECORE_SVG_MAX_METRICS,
			  "Chart fewer metrics.");

	deconstruct_array(sa, INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &ns);
	sizes = palloc(sizeof(int64) * ns);
	for (i = 0; i < ns; i++)
		sizes[i] = DatumGetInt64(elems[i]);

	pa = PG_GETARG_ARRAYTYPE_P(3);
	if (ARR_NDIM(pa) != 2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("array \"profile\" must be two-dimensional"),
				 errdetail_plural("It has %d dimension.", "It has %d dimensions.",
								  ARR_NDIM(pa), ARR_NDIM(pa)),
				 errhint("Pass one row per cluster and one column per metric, as in ARRAY[[1, 2], [3, 4]].")));
	if (ARR_DIMS(pa)[0] != k || ARR_DIMS(pa)[1] != m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("array \"profile\" must be %d x %d", k, m),
				 errdetail("It is %d x %d; it needs one row per label and one column per metric.",
						   ARR_DIMS(pa)[0], ARR_DIMS(pa)[1])));
	if (ARR_HASNULL(pa) && array_contains_nulls(pa))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array \"profile\" must not contain nulls")));
	deconstruct_array(pa, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &np);
	profile = palloc(sizeof(double) * np);
	for (i = 0; i < np; i++)
		profile[i] = DatumGetFloat8(elems[i]);

	memset(&txt, 0, sizeof(txt));
	txt.title = svg_opt_text(fcinfo, 4);
	txt.flags = svg_flags();
	svg_env_init(&env, &failed_request);
	rc = ecore_svg_cluster_chart(&env, &txt, (size_t) k, labels, sizes,
								  (size_t) m, metrics, profile, &out, &len);
	if (rc != ECORE_SVG_OK)
		svg_error(rc, &env);
	PG_RETURN_TEXT_P(svg_result(out, len));
}
